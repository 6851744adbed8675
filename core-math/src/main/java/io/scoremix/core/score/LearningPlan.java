package io.scoremix.core.score;

import io.scoremix.core.diffusion.NoiseSchedule;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
import io.scoremix.core.regression.RidgeSelection;
import io.scoremix.core.regression.RidgeSolver;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything the one pass over the data needs, fixed before it starts: the whitening, the crude mixture
 * (whitened coordinates), the early-stopping time, the learned levels and, per level, the cells and
 * feature maps (ALGORITHM.md sections 4-5). {@link #accumulate} adds a block of whitened rows to
 * {@link ScoreMoments}; {@link #solve} turns merged moments into a {@link ScoreModel}. Immutable.
 *
 * <p>Determinism: the noise of row r (its global key) at level l, draw q, is the Gaussian vector with
 * counters {@code r*d .. r*d + d - 1} of stream {@code (seed, NOISE, l, q)}, and its split is decided by
 * the uniform with counter r of stream {@code (seed, SPLIT)}: any partitioning of the rows, and any
 * retried task, sees the same numbers.
 *
 * <p>Implementation notes. {@link #accumulate} runs level by level over blocks of {@link #BLOCK} rows: it
 * draws the block's noise, evaluates the level's noised crude mixture once
 * ({@link Cells#assignAndScore}: the cell, the gate, the crude score of the residual target and, for soft
 * gates, the gates' posteriors all come from the same component log-likelihoods), and gathers the rows of
 * every (cell, split) until {@link #GATHER} of them are waiting; then the cell's features are evaluated on
 * them feature-major, with the targets as further columns, and added by one dsyrk
 * ({@link NormalEquations#addColumns}). Per level the moments depend only
 * on the rows and their keys, so passes over groups of levels add up to one pass over all of them.
 */
public final class LearningPlan {

    private static final long TAG_NOISE = 0x4E4F495345L;
    private static final long TAG_SPLIT = 0x53504C4954L;
    private static final long TAG_DELTA = 0x44454C5441L;
    /** Rows per internal block of {@link #accumulate}: noise and the crude mixture are evaluated per block. */
    static final int BLOCK = 512;
    /**
     * Rows per {@link NormalEquations#addColumns} call of {@link #accumulate}: the rows of one (level, cell,
     * split) are gathered across blocks, so that the validation split (a tenth of the rows) also reaches
     * the dsyrk with a block of useful height. Standalone addBlock at p = 264 ran as fast at 256-512 rows
     * as at 1,024 and slower at 2,048 (a 512 x 264 feature block is 1 MiB, one core's L2).
     */
    static final int GATHER = 512;
    /** A fit must beat the plug-in on validation by this many standard errors of the improvement. */
    static final double SELECTION_Z = 2.0;

    private final LearnerConfig config;
    private final Whitening whitening;
    private final GaussianMixture crude;
    private final CrudeMixtureResult crudeResult;
    private final double delta;
    private final double[] times;
    private final Cells[] cells;
    private final FeatureMap[][] features;

    private LearningPlan(LearnerConfig config, Whitening whitening, GaussianMixture crude,
                         CrudeMixtureResult crudeResult, double delta, double[] times, Cells[] cells,
                         FeatureMap[][] features) {
        this.config = config;
        this.whitening = whitening;
        this.crude = crude;
        this.crudeResult = crudeResult;
        this.delta = delta;
        this.times = times;
        this.cells = cells;
        this.features = features;
    }

    /**
     * The plan for a crude mixture already fitted (in the data's coordinates) and a whitening.
     *
     * @throws IllegalArgumentException when the accumulators would exceed the memory budget, naming the
     *                                  knobs to change
     */
    public static LearningPlan of(LearnerConfig config, Whitening whitening, CrudeMixtureResult crudeResult) {
        GaussianMixture crude = whitening.toWhitened(crudeResult.mixture());
        double delta = Double.isNaN(config.delta()) ? chooseDelta(crude, config) : config.delta();
        double horizon = config.horizon();
        TimeGrid grid = TimeGrid.learnedLevels(config.levels(), delta, horizon);
        double[] times = grid.times();
        int levels = times.length;
        Cells[] cells = new Cells[levels];
        FeatureMap[][] features = new FeatureMap[levels][];
        boolean soft = config.features() == LearnerConfig.Features.SOFT_GATED;
        int degree = config.mode() == LearnerConfig.Mode.PLUGIN ? 0 : config.degree();
        if (config.features() == LearnerConfig.Features.PROJECTED && config.projectionRank() > crude.dimension()) {
            throw new IllegalArgumentException("projectionRank " + config.projectionRank() + " exceeds the dimension "
                    + crude.dimension() + " of the data: lower projectionRank");
        }
        for (int l = 0; l < levels; l++) {
            GaussianMixture noised = crude.noised(times[l]);
            cells[l] = soft ? Cells.of(noised, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY)
                    : Cells.of(noised, config.maxOverlapDistance(), config.gateWidth());
            features[l] = new FeatureMap[cells[l].count()];
            for (int c = 0; c < cells[l].count(); c++) {
                GaussianMixture sub = cells[l].subMixture(c);
                double[] center = sub.overallMean();
                double[] cov = sub.overallCovariance();
                int d = crude.dimension();
                double[] scale = new double[d];
                for (int r = 0; r < d; r++) {
                    scale[r] = Math.sqrt(cov[r * d + r]);
                }
                features[l][c] = cellFeatures(config, degree, center, scale, cov, config.projectionRank(), sub, noised);
            }
        }
        LearningPlan plan = new LearningPlan(config, whitening, crude, crudeResult, delta, times, cells, features);
        long bytes = ScoreMoments.workingBytes(plan.featureCounts(), crude.dimension());
        if (bytes > config.memoryBudgetBytes()) {
            throw new IllegalArgumentException(String.format(
                    "the regression accumulators need %.1f MiB (levels %d, features up to %d per cell, d %d) but the "
                            + "memory budget is %.1f MiB: lower degree, levels or k, use features MONOMIAL, "
                            + "or raise the memory budget", bytes / 1048576.0, levels, plan.maxFeatures(),
                    crude.dimension(), config.memoryBudgetBytes() / 1048576.0));
        }
        return plan;
    }

    /**
     * A lower bound, known before any data are read, of the accumulator bytes of the smallest possible
     * level: one cell, with the features this config gives one standard Gaussian component in d
     * (whitened) coordinates. A plan whose every level has at least one cell needs at least this much per
     * pass, so a budget below it can be refused before any pass over the data.
     *
     * @param d the number of features of the data
     */
    public static long minimumLevelBytes(LearnerConfig config, int d) {
        if (d < 1) {
            throw new IllegalArgumentException("dimension must be at least 1, got " + d);
        }
        int degree = config.mode() == LearnerConfig.Mode.PLUGIN ? 0 : config.degree();
        double[] center = new double[d];
        double[] scale = new double[d];
        double[] identity = new double[d * d];
        double[][] cov = new double[d][d];
        for (int r = 0; r < d; r++) {
            scale[r] = 1;
            identity[r * d + r] = 1;
            cov[r][r] = 1;
        }
        GaussianMixture standard = GaussianMixture.of(new double[] {1}, new double[][] {center}, new double[][][] {cov});
        FeatureMap one = cellFeatures(config, degree, center, scale, identity, Math.min(config.projectionRank(), d),
                standard, standard);
        return ScoreMoments.workingBytes(new int[][] {{one.size()}}, d);
    }

    /**
     * The features of one cell: its sub-mixture {@code sub} (centre, per-coordinate scale and covariance
     * {@code cov}, d x d row-major) at a level whose noised crude mixture {@code gates} gives the soft gates.
     */
    private static FeatureMap cellFeatures(LearnerConfig config, int degree, double[] center, double[] scale,
                                           double[] cov, int rank, GaussianMixture sub, GaussianMixture gates) {
        return switch (config.features()) {
            case MONOMIAL -> FeatureMap.monomial(center, scale, degree);
            case SOFT_GATED -> FeatureMap.softGated(FeatureMap.monomial(center, scale, degree), gates);
            case SOFTMAX -> FeatureMap.softmax(sub, center, scale, degree);
            case PROJECTED -> FeatureMap.projected(center, scale, cov, rank, degree);
        };
    }

    /**
     * The largest delta on a geometric grid from 0.2 down to 1e-4 at which the crude mixture's Monte
     * Carlo TV to its delta-noised self stays within the target (the paper's delta = alpha eps / R in
     * spirit: small components after whitening need a small delta).
     */
    static double chooseDelta(GaussianMixture crude, LearnerConfig config) {
        CounterRandom rng = CounterRandom.of(config.seed());
        double chosen = 1e-4;
        for (double delta = 0.2; delta >= 1e-4; delta *= 0.7) {
            Estimate tv = Divergences.monteCarloTv(crude, crude.noised(delta), 20_000, rng,
                    CounterRandom.stream(TAG_DELTA, Double.doubleToLongBits(delta)));
            if (tv.value() + 2 * tv.standardError() <= config.deltaTvTarget()) {
                chosen = delta;
                break;
            }
        }
        return chosen;
    }

    public LearnerConfig config() {
        return config;
    }

    public Whitening whitening() {
        return whitening;
    }

    /** The crude mixture in whitened coordinates. */
    public GaussianMixture crude() {
        return crude;
    }

    public CrudeMixtureResult crudeResult() {
        return crudeResult;
    }

    public double delta() {
        return delta;
    }

    /** The learned levels' forward times, increasing. */
    public double[] times() {
        return times.clone();
    }

    /** Per level, per cell, the number of features. */
    public int[][] featureCounts() {
        int[][] p = new int[times.length][];
        for (int l = 0; l < times.length; l++) {
            p[l] = new int[features[l].length];
            for (int c = 0; c < features[l].length; c++) {
                p[l][c] = features[l][c].size();
            }
        }
        return p;
    }

    private int maxFeatures() {
        int max = 0;
        for (int[] level : featureCounts()) {
            for (int p : level) {
                max = Math.max(max, p);
            }
        }
        return max;
    }

    /** The cells of level l (tests). */
    Cells cells(int level) {
        return cells[level];
    }

    /** The feature map of cell c of level l (tests). */
    FeatureMap features(int level, int cell) {
        return features[level][cell];
    }

    /** Empty moments shaped for this plan. */
    public ScoreMoments emptyMoments() {
        return new ScoreMoments(featureCounts(), crude.dimension());
    }

    /**
     * Adds n whitened rows with global keys {@code firstKey .. firstKey + n - 1} to {@code moments}.
     *
     * @param z       n x d whitened rows, row-major; not modified
     * @param weights n row weights or null for 1; not modified
     * @param moments modified
     */
    public void accumulate(double[] z, double[] weights, int n, long firstKey, ScoreMoments moments) {
        accumulate(z, weights, n, firstKey, moments, 0, times.length);
    }

    /**
     * {@link #accumulate(double[], double[], int, long, ScoreMoments)} for the levels
     * {@code levelFrom .. levelTo - 1} only (the others of {@code moments} stay untouched): passes over
     * groups of levels, merged, give the moments of one pass over all levels.
     */
    public void accumulate(double[] z, double[] weights, int n, long firstKey, ScoreMoments moments, int levelFrom,
                           int levelTo) {
        accumulate(z, weights, n, firstKey, null, moments, levelFrom, levelTo);
    }

    /**
     * {@link #accumulate(double[], double[], int, long, ScoreMoments, int, int)} for rows whose global keys
     * are not consecutive: row j has key {@code keys[j]}. Each row gets the noise and split of its key, so
     * the moments of any division of the rows into calls add up (to rounding) to those of one call.
     */
    public void accumulate(double[] z, double[] weights, int n, long[] keys, ScoreMoments moments, int levelFrom,
                           int levelTo) {
        if (keys.length < n) {
            throw new IllegalArgumentException(keys.length + " keys for " + n + " rows");
        }
        accumulate(z, weights, n, 0, keys, moments, levelFrom, levelTo);
    }

    /** Rows with keys {@code firstKey + j}, or {@code keys[j]} when keys is not null. */
    private void accumulate(double[] z, double[] weights, int n, long firstKey, long[] keys, ScoreMoments moments,
                            int levelFrom, int levelTo) {
        if (levelFrom < 0 || levelTo > times.length || levelFrom > levelTo) {
            throw new IllegalArgumentException("levels " + levelFrom + ".." + levelTo + " outside 0.." + times.length);
        }
        int d = crude.dimension();
        int k = crude.components();
        CounterRandom rng = CounterRandom.of(config.seed());
        long splitStream = CounterRandom.stream(config.seed(), TAG_SPLIT);
        int[] split = new int[n];
        double[] u = new double[BLOCK];
        for (int start = 0; start < n; start += BLOCK) {
            int m = Math.min(BLOCK, n - start);
            if (keys == null) {
                rng.fillUniform(splitStream, firstKey + start, u, 0, m);
            } else {
                for (int j = 0; j < m; j++) {
                    rng.fillUniform(splitStream, keys[start + j], u, j, 1);
                }
            }
            for (int j = 0; j < m; j++) {
                split[start + j] = u[j] < config.validationFraction() ? 1 : 0;
            }
        }
        double[] xi = new double[BLOCK * d];
        double[] zt = new double[BLOCK * d];
        double[] base = new double[BLOCK * d];
        double[] post = new double[BLOCK * k];
        double[] maha2 = new double[BLOCK];
        int[] cell = new int[BLOCK];
        boolean[] inside = new boolean[BLOCK];
        // Rows of one (cell, split) wait here until GATHER of them make one dsyrk-sized block.
        Gathered[][] gathered = new Gathered[k][2];
        // One feature-major block (features, then targets) for every (level, cell): allocating it per call
        // zeroed megabytes each time.
        double[] block = new double[GATHER * (maxFeatures() + d)];
        boolean paper = config.target() == ScoreModel.Target.PAPER;
        for (int l = levelFrom; l < levelTo; l++) {
            double t = times[l];
            double alpha = NoiseSchedule.alpha(t);
            double sigma = NoiseSchedule.sigma(t);
            Cells lc = cells[l];
            FeatureMap[] lf = features[l];
            // Soft gates of one cell are gated by the cell's own mixture: its posteriors come with the score.
            boolean sharedPosteriors = lc.count() == 1 && lf[0].gates() == lc.mixture();
            double[] plugin = new double[2];
            double[] outside = new double[2];
            double[] weight = new double[2];
            for (int q = 0; q < config.noisesPerRow(); q++) {
                long noiseStream = CounterRandom.stream(config.seed(), TAG_NOISE, l, q);
                for (int start = 0; start < n; start += BLOCK) {
                    int m = Math.min(BLOCK, n - start);
                    if (keys == null) {
                        rng.fillGaussian(noiseStream, (firstKey + start) * d, xi, 0, m * d);
                    } else {
                        for (int j = 0; j < m; j++) {
                            rng.fillGaussian(noiseStream, keys[start + j] * d, xi, j * d, d);
                        }
                    }
                    int zo = start * d;
                    for (int j = 0; j < m * d; j++) {
                        zt[j] = alpha * z[zo + j] + sigma * xi[j];
                    }
                    lc.assignAndScore(zt, m, cell, inside, sharedPosteriors ? post : null, base, maha2);
                    for (int j = 0; j < m; j++) {
                        double w = weights == null ? 1.0 : weights[start + j];
                        int s = split[start + j];
                        Gathered g = null;
                        if (inside[j]) {
                            int c = cell[j];
                            g = gathered[c][s];
                            if (g == null) {
                                g = new Gathered(d, k);
                                gathered[c][s] = g;
                            }
                        }
                        // The DSM target -xi / sigma and its residual from the cell's crude score.
                        double plug = 0;
                        int jo = j * d;
                        int go = g == null ? 0 : g.rows;
                        for (int r = 0; r < d; r++) {
                            double target = -xi[jo + r] / sigma;
                            double res = target - base[jo + r];
                            plug += res * res;
                            if (g != null) {
                                g.y[r * GATHER + go] = paper ? target : res;
                            }
                        }
                        plugin[s] += w * plug;
                        outside[s] += inside[j] ? 0 : w * plug;
                        weight[s] += w;
                        if (g != null) {
                            System.arraycopy(zt, jo, g.z, go * d, d);
                            if (sharedPosteriors) {
                                System.arraycopy(post, j * k, g.post, g.rows * k, k);
                            }
                            g.w[g.rows] = w;
                            if (++g.rows == GATHER) {
                                g.flush(lf[cell[j]], sharedPosteriors, block, weights != null,
                                        moments.equations(l, cell[j], s));
                            }
                        }
                    }
                }
            }
            for (int c = 0; c < lc.count(); c++) {
                for (int s = 0; s < 2; s++) {
                    Gathered g = gathered[c][s];
                    if (g != null && g.rows > 0) {
                        g.flush(lf[c], sharedPosteriors, block, weights != null, moments.equations(l, c, s));
                    }
                }
            }
            for (int s = 0; s < 2; s++) {
                moments.addScalars(l, s, plugin[s], outside[s], weight[s]);
            }
        }
    }

    /**
     * Noised rows of one (level, cell, split) waiting to be added: points and gate posteriors (row-major),
     * targets (feature-major: target r of row j at {@code y[r * GATHER + j]}, as the block wants them), weights.
     */
    private static final class Gathered {
        final double[] z;
        final double[] post;
        final double[] y;
        final double[] w;
        int rows;

        Gathered(int d, int k) {
            z = new double[GATHER * d];
            post = new double[GATHER * k];
            y = new double[GATHER * d];
            w = new double[GATHER];
        }

        /**
         * Evaluates the features of the waiting rows feature-major into {@code block} (scratch), appends the
         * targets as its last columns, adds the block to {@code into} and empties.
         */
        void flush(FeatureMap f, boolean sharedPosteriors, double[] block, boolean weighted, NormalEquations into) {
            int p = f.size();
            f.evaluateColumns(z, rows, sharedPosteriors ? post : null, block, GATHER);
            for (int r = 0; r < into.outputs(); r++) {
                System.arraycopy(y, r * GATHER, block, (p + r) * GATHER, rows);
            }
            into.addColumns(block, GATHER, weighted ? w : null, rows);
            rows = 0;
        }
    }

    /** The per-level outcome of {@link #solve}: validation DSM losses of the fit and of the plug-in. */
    public record LevelReport(double time, double sigma2, int cells, double fitLoss, double pluginLoss,
                              int fittedCells, List<String> choices) {
    }

    /** A fitted model with its per-level report. */
    public record Solution(ScoreModel model, List<LevelReport> levels) {
    }

    /** Solves every (level, cell) on the driver and builds the model. */
    public Solution solve(ScoreMoments moments) {
        RidgeSolver solver = RidgeSolver.defaults();
        boolean residual = config.target() == ScoreModel.Target.RESIDUAL;
        boolean plugin = config.mode() == LearnerConfig.Mode.PLUGIN;
        List<LevelModel> models = new ArrayList<>();
        List<LevelReport> reports = new ArrayList<>();
        int d = crude.dimension();
        for (int l = 0; l < times.length; l++) {
            Cells lc = cells[l];
            double[][] beta = new double[lc.count()][];
            int[] rows = new int[lc.count()];
            double fitSq = moments.outsideSquares(l, 1);
            int fitted = 0;
            List<String> choices = new ArrayList<>();
            for (int c = 0; c < lc.count(); c++) {
                NormalEquations train = moments.equations(l, c, 0);
                NormalEquations val = moments.equations(l, c, 1);
                NormalEquations.Snapshot vs = val.snapshot();
                if (plugin || train.isEmpty() || val.isEmpty() || !(vs.weight() > 0)) {
                    // No data to fit or validate on: the cell keeps the plug-in crude score.
                    if (!val.isEmpty()) {
                        fitSq += residual ? vs.sumSquaredTargets() : Double.NaN;
                    }
                    choices.add("cell " + c + ": plug-in");
                    continue;
                }
                FeatureMap f = features[l][c];
                int[] prefixes = prefixes(f);
                RidgeSelection sel = solver.select(train.snapshot(), vs, config.lambdas(), prefixes, residual);
                double margin = residual && !sel.zeroWon()
                        ? SELECTION_Z * improvementStandardError(vs, sel.prefix(), sel.coefficients(), times[l]) : 0;
                if (residual && (sel.zeroWon() || sel.zeroLoss() - sel.bestLoss() <= margin)) {
                    fitSq += sel.zeroLoss() * vs.weight();
                    choices.add("cell " + c + ": plug-in kept (zero loss " + sel.zeroLoss() + ", best fit "
                            + sel.bestLoss() + ", required margin " + margin + ")");
                } else {
                    fitSq += sel.bestLoss() * vs.weight();
                    beta[c] = sel.coefficients();
                    rows[c] = sel.prefix();
                    fitted++;
                    choices.add("cell " + c + ": " + sel.prefix() + " features, lambda " + sel.lambda() + ", loss "
                            + sel.bestLoss() + " vs zero " + sel.zeroLoss());
                }
            }
            double w = moments.weight(l, 1);
            reports.add(new LevelReport(times[l], NoiseSchedule.sigma2(times[l]), lc.count(), fitSq / w,
                    moments.pluginSquares(l, 1) / w, fitted, choices));
            models.add(new LevelModel(times[l], lc, features[l], beta, rows));
        }
        return new Solution(new ScoreModel(whitening, crude, config.target(), models), reports);
    }

    /**
     * Approximate standard error of the validation-loss improvement of a fit f = beta^T phi over the zero
     * coefficient. The per-row difference is {@code ||f||^2 - 2 f.y}; its noise is dominated by the DSM
     * target's conditional noise, whose covariance is at most {@code I / sigma_t^2}, so
     * {@code Var <= 4 E||f||^2 / sigma_t^2} and {@code E||f||^2 = tr(beta^T G_val beta) / W_val} comes from the
     * validation moments alone. Without this margin the selection at small t, where targets have variance
     * d / sigma_t^2, picks coefficients that fit validation noise (ALGORITHM.md section 8: raw regression
     * lost to the plug-in there).
     */
    private static double improvementStandardError(NormalEquations.Snapshot val, int q, double[] beta, double t) {
        int d = val.outputs();
        double[] g = val.gram(q);
        double quad = 0;
        for (int r = 0; r < d; r++) {
            for (int a = 0; a < q; a++) {
                double ga = 0;
                for (int b = 0; b < q; b++) {
                    ga += g[a * q + b] * beta[b * d + r];
                }
                quad += beta[a * d + r] * ga;
            }
        }
        double meanF2 = quad / val.weight();
        return 2 * Math.sqrt(meanF2 / NoiseSchedule.sigma2(t) / val.count());
    }

    private static int[] prefixes(FeatureMap f) {
        List<Integer> list = new ArrayList<>();
        for (int deg = 0; deg <= f.degree(); deg++) {
            int p = f.prefixSize(deg);
            if (list.isEmpty() || p > list.get(list.size() - 1)) {
                list.add(p);
            }
        }
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
