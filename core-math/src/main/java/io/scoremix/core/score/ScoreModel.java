package io.scoremix.core.score;

import io.scoremix.core.diffusion.NoiseSchedule;
import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.diffusion.ScoreFunction;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Whitening;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A learned score of the OU-noised data law in whitened coordinates (ALGORITHM.md sections 4-5): per
 * learned level the cells, gates, features and coefficients, and the crude mixture they refine.
 * Evaluation at any forward time t interpolates the predictions of the two neighbouring learned levels
 * linearly in {@code log sigma_t^2}; before the first level or after the last, the nearest level is used.
 * Immutable and thread-safe.
 *
 * <p>The prediction of level l at time t for a point z in cell c is
 * <ul>
 *   <li>inside the gate: {@code baseline + phi_{l,c}(z)^T beta_{l,c}} where the baseline is the score of
 *       the crude sub-mixture of cell c noised to time t (residual target) or 0 (paper target);</li>
 *   <li>outside the gate, or with zero coefficients in residual mode: the crude sub-mixture score alone
 *       (CKS Prop. 40's fallback, with its sign corrected).</li>
 * </ul>
 * The baseline is evaluated exactly at t, not interpolated; only the learned corrections are.
 */
public final class ScoreModel implements ScoreFunction {

    /** How the regression target was formed (ALGORITHM.md section 4.5). */
    public enum Target {
        /** {@code y = -xi / sigma_t}: the polynomial is the whole score inside the gate. */
        PAPER,
        /** {@code y = -xi / sigma_t - crude score}: the polynomial learns the correction. */
        RESIDUAL
    }

    /** Memory the per-time cells cache may hold; a grid of a few thousand times fits for moderate k d^2. */
    private static final long CACHE_BYTES = 64L << 20;

    private final Whitening whitening;
    private final GaussianMixture crude;
    private final Target target;
    private final LevelModel[] levels;
    private final double[] logSigma2;
    /** Every level is one ungated cell and the target is residual: see {@link #scoreOneCell}. */
    private final boolean sharedBaseline;
    /** Entries of {@link #cellsAtTime} before it is cleared: the sampler and the ODE revisit the same grid. */
    private final int cacheLimit;
    /** Cells of level l restored on the crude mixture noised to a query time t (the baseline at t). */
    private final transient ConcurrentHashMap<TimedLevel, Cells> cellsAtTime = new ConcurrentHashMap<>();

    private record TimedLevel(double t, int level) {
    }

    ScoreModel(Whitening whitening, GaussianMixture crude, Target target, List<LevelModel> levels) {
        if (levels.isEmpty()) {
            throw new IllegalArgumentException("a score model needs at least one level");
        }
        this.whitening = whitening;
        this.crude = crude;
        this.target = target;
        this.levels = levels.toArray(new LevelModel[0]);
        this.logSigma2 = new double[this.levels.length];
        // Each cached entry holds a noised crude mixture and its cell sub-mixtures: about 10 arrays of k d^2.
        long entryBytes = 80L * crude.components() * crude.dimension() * crude.dimension() + 1024;
        this.cacheLimit = (int) Math.max(64, Math.min(8192, CACHE_BYTES / entryBytes));
        for (int l = 0; l < this.levels.length; l++) {
            if (l > 0 && !(this.levels[l].time > this.levels[l - 1].time)) {
                throw new IllegalArgumentException("level times must increase; level " + l + " has t = "
                        + this.levels[l].time + " after " + this.levels[l - 1].time);
            }
            logSigma2[l] = Math.log(NoiseSchedule.sigma2(this.levels[l].time));
        }
        boolean oneCell = target == Target.RESIDUAL;
        for (LevelModel level : this.levels) {
            oneCell &= level.cells.count() == 1 && Double.isInfinite(level.cells.gateRadius2());
        }
        this.sharedBaseline = oneCell;
    }

    @Override
    public int dimension() {
        return crude.dimension();
    }

    /** The whitening that maps data x to the model's coordinates z. */
    public Whitening whitening() {
        return whitening;
    }

    /** The crude mixture in whitened coordinates. */
    public GaussianMixture crude() {
        return crude;
    }

    /** The regression target. */
    public Target target() {
        return target;
    }

    /** The number of learned levels. */
    public int levelCount() {
        return levels.length;
    }

    /** The forward times of the learned levels, increasing. */
    public double[] levelTimes() {
        double[] t = new double[levels.length];
        for (int l = 0; l < levels.length; l++) {
            t[l] = levels[l].time;
        }
        return t;
    }

    LevelModel level(int l) {
        return levels[l];
    }

    @Override
    public void score(double t, double[] z, int n, double[] out) {
        if (sharedBaseline) {
            scoreOneCell(t, z, n, out);
        } else {
            interpolate("score", t, z, n, crude.dimension(), out, this::predict);
        }
    }

    /**
     * {@link #score} when every level is one ungated cell with the residual target (soft gates, the
     * default): both neighbouring levels' predictions are the crude score at t plus their corrections,
     * so the crude score, the bulk of the work, is evaluated once instead of twice (measured: the
     * sampler's throughput on a fitted general-10d model was 0.43 of the exact crude score's).
     * Equal to the general path up to rounding: {@code (1 - w) b + w b} against {@code b}.
     */
    private void scoreOneCell(double t, double[] z, int n, double[] out) {
        if (!(t > 0)) {
            throw new IllegalArgumentException("score time must be positive, got " + t);
        }
        double ls = Math.log(NoiseSchedule.sigma2(t));
        int hi = Arrays.binarySearch(logSigma2, ls);
        int lo;
        double w;
        if (hi >= 0) {
            lo = hi;
            w = 0;
        } else {
            hi = -hi - 1;
            if (hi == 0 || hi == levels.length) {
                lo = hi == 0 ? 0 : levels.length - 1;
                hi = lo;
                w = 0;
            } else {
                lo = hi - 1;
                w = (ls - logSigma2[lo]) / (logSigma2[hi] - logSigma2[lo]);
            }
        }
        cellsAt(lo, t).subMixture(0).score(z, n, out);
        addCorrection(levels[lo], z, n, 1 - w, out);
        if (hi != lo) {
            addCorrection(levels[hi], z, n, w, out);
        }
    }

    /** {@code out += scale * beta^T phi(z)} for a one-cell level's correction (nothing if its coefficients are zero). */
    private void addCorrection(LevelModel level, double[] z, int n, double scale, double[] out) {
        double[] beta = level.coefficients[0];
        if (beta == null || scale == 0) {
            return;
        }
        int d = crude.dimension();
        FeatureMap f = level.features[0];
        int p = f.size();
        int rows = level.rows[0];
        double[] phi = new double[n * p];
        f.evaluate(z, n, phi);
        // out[j] += scale * beta^T phi[j]: rows x d coefficients, row-major.
        for (int j = 0; j < n; j++) {
            int po = j * p;
            int bo = j * d;
            for (int q = 0; q < rows; q++) {
                double v = scale * phi[po + q];
                int qo = q * d;
                for (int r = 0; r < d; r++) {
                    out[bo + r] += v * beta[qo + r];
                }
            }
        }
    }

    /**
     * The divergence {@code sum_r d s_r / d z_r} (trace of the Jacobian) of the model's score at time t, for
     * the probability-flow ODE's change of variables. Analytic: the crude sub-mixture baseline contributes
     * the trace of its log-density Hessian ({@link GaussianMixture#laplacian}) at t, the learned correction
     * its feature map's divergence ({@link FeatureMap#divergence}), and the two neighbouring levels are
     * interpolated with exactly the weights of {@link #score}, so this is the divergence of the field
     * {@link #score} evaluates. Cell borders and gate boundaries, where the field jumps, are ignored (a
     * set of measure zero).
     *
     * @param t   forward time, {@code > 0}
     * @param z   n x d points, row-major; not modified
     * @param out receives n divergences; modified
     */
    public void divergence(double t, double[] z, int n, double[] out) {
        interpolate("divergence", t, z, n, 1, out, this::predictDivergence);
    }

    /** Evaluates one learned level at a query time: {@code width} values per point into {@code out}. */
    @FunctionalInterface
    private interface LevelEvaluation {
        void evaluate(int level, double t, double[] z, int n, double[] out);
    }

    /**
     * The nearest level's value outside the learned range, else the two neighbouring levels' values
     * blended linearly in {@code log sigma_t^2}.
     */
    private void interpolate(String what, double t, double[] z, int n, int width, double[] out, LevelEvaluation eval) {
        if (!(t > 0)) {
            throw new IllegalArgumentException(what + " time must be positive, got " + t);
        }
        double ls = Math.log(NoiseSchedule.sigma2(t));
        int hi = Arrays.binarySearch(logSigma2, ls);
        if (hi >= 0) {
            eval.evaluate(hi, t, z, n, out);
            return;
        }
        hi = -hi - 1;
        if (hi == 0 || hi == levels.length) {
            eval.evaluate(hi == 0 ? 0 : levels.length - 1, t, z, n, out);
            return;
        }
        int lo = hi - 1;
        double w = (ls - logSigma2[lo]) / (logSigma2[hi] - logSigma2[lo]);
        double[] other = new double[n * width];
        eval.evaluate(lo, t, z, n, out);
        eval.evaluate(hi, t, z, n, other);
        for (int j = 0; j < n * width; j++) {
            out[j] = (1 - w) * out[j] + w * other[j];
        }
    }

    /** Computes {@code width} values per point for the m points of one cell, gathered contiguously. */
    @FunctionalInterface
    private interface CellEvaluation {
        /**
         * @param inside whether each gathered point passed the gate
         * @param out    receives m x width values
         */
        void evaluate(LevelModel level, int cell, GaussianMixture subMixtureAtT, double[] zc, int m, boolean[] inside,
                      double[] out);
    }

    /** Assigns the points to level l's cells, evaluates each cell on its points and scatters the values back. */
    private void perCell(int l, double t, double[] z, int n, int width, double[] out, CellEvaluation eval) {
        LevelModel level = levels[l];
        int d = crude.dimension();
        int[] cell = new int[n];
        boolean[] inside = new boolean[n];
        level.cells.assign(z, n, cell, inside);
        Cells atT = cellsAt(l, t);
        int[] members = new int[n];
        for (int c = 0; c < level.cells.count(); c++) {
            int m = 0;
            for (int j = 0; j < n; j++) {
                if (cell[j] == c) {
                    members[m++] = j;
                }
            }
            if (m == 0) {
                continue;
            }
            double[] zc = new double[m * d];
            boolean[] in = new boolean[m];
            for (int a = 0; a < m; a++) {
                System.arraycopy(z, members[a] * d, zc, a * d, d);
                in[a] = inside[members[a]];
            }
            double[] values = new double[m * width];
            eval.evaluate(level, c, atT.subMixture(c), zc, m, in, values);
            for (int a = 0; a < m; a++) {
                System.arraycopy(values, a * width, out, members[a] * width, width);
            }
        }
    }

    /** The divergence of {@link #predict}'s field for level l at time t. */
    void predictDivergence(int l, double t, double[] z, int n, double[] out) {
        perCell(l, t, z, n, 1, out, (level, c, sub, zc, m, inside, base) -> {
            sub.laplacian(zc, m, base);
            double[] beta = level.coefficients[c];
            if (beta == null) {
                return;
            }
            double[] fit = new double[m];
            level.features[c].divergence(zc, m, beta, level.rows[c], fit);
            for (int a = 0; a < m; a++) {
                if (inside[a]) {
                    base[a] = (target == Target.PAPER ? 0.0 : base[a]) + fit[a];
                }
            }
        });
    }

    /** The prediction of level l at time t (see the class comment). */
    void predict(int l, double t, double[] z, int n, double[] out) {
        int d = crude.dimension();
        perCell(l, t, z, n, d, out, (level, c, sub, zc, m, inside, base) -> {
            sub.score(zc, m, base);
            double[] beta = level.coefficients[c];
            if (beta == null) {
                return;
            }
            FeatureMap f = level.features[c];
            int p = f.size();
            int rows = level.rows[c];
            double[] phi = new double[m * p];
            f.evaluate(zc, m, phi);
            for (int a = 0; a < m; a++) {
                if (!inside[a]) {
                    continue;
                }
                int bo = a * d;
                if (target == Target.PAPER) {
                    Arrays.fill(base, bo, bo + d, 0.0);
                }
                // base[a] += beta^T phi[a]: rows x d coefficients, row-major.
                int po = a * p;
                for (int q = 0; q < rows; q++) {
                    double v = phi[po + q];
                    int qo = q * d;
                    for (int r = 0; r < d; r++) {
                        base[bo + r] += v * beta[qo + r];
                    }
                }
            }
        });
    }

    private Cells cellsAt(int l, double t) {
        LevelModel level = levels[l];
        if (t == level.time) {
            return level.cells;
        }
        TimedLevel key = new TimedLevel(t, l);
        Cells c = cellsAtTime.get(key);
        if (c == null) {
            if (cellsAtTime.size() > cacheLimit) {
                cellsAtTime.clear();
            }
            c = Cells.restore(crude.noised(t), level.cells.cellOfComponents(), level.cells.gateRadius2());
            cellsAtTime.put(key, c);
        }
        return c;
    }
}
