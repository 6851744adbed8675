package io.scoremix.core.mixture;

import io.scoremix.core.mixture.CrudeMixtureConfig.Coordinates;
import io.scoremix.core.mixture.CrudeMixtureConfig.Initialisation;
import io.scoremix.core.random.CounterRandom;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The crude mixture of ALGORITHM.md section 4.2: a k-component full-covariance Gaussian mixture fitted
 * by EM in log space from several initialisations, the best kept by held-out log-likelihood.
 *
 * <pre>{@code
 * CrudeMixtureResult r = CrudeMixture.fit(x, n, d, null, CrudeMixtureConfig.of(3));
 * GaussianMixture crude = r.mixture();
 * }</pre>
 *
 * <p>Implementation notes.
 * <ol>
 * <li>Rows are split once into training and held-out parts by the uniform of counter j (row index) on a
 * fixed stream of the config's seed: deterministic, independent of row order in blocks.</li>
 * <li>The data's weighted mean m and covariance C ({@link Moments}) give the symmetric whitening
 * {@code W = C^{-1/2}} ({@link Whitening}, relative eigenvalue floor {@link Whitening#DEFAULT_FLOOR}).
 * EM always runs on {@code z = W (x - m)}: EM is affine-equivariant (posteriors are
 * invariant, the M-step is equivariant), so running it in the input's coordinates would give the same
 * iterates up to rounding, worse conditioned. The covariance floor {@code reg} therefore acts in the
 * whitened metric whatever the coordinates of the initialisation. The two {@link Coordinates} differ in
 * where the initialisation measures distances: k-means in the input's scale and in whitened coordinates
 * find different partitions (ALGORITHM.md section 8: pancakes-8d needs whitened k-means++ seeding,
 * many-5d prefers k-means in the input's scale).</li>
 * <li>Every initialisation ends in a hard assignment of the training rows; the starting mixture is the
 * M-step of that assignment (weights from counts, means and covariances of each cluster, floored), via
 * {@link EmStatistics}.</li>
 * <li>{@link Initialisation#PAPER_SUBSPACE}, the practical reading of CKS Algorithm 2 (PAPER-NOTES.md
 * 4.2): instead of a net over the top-k singular subspace V of the uncentred second moment
 * {@code (1/n) sum x x^T}, k-means (k-means++ seeded) runs on the projections {@code V^T x} and every
 * row is assigned to the centre nearest to its projection, which is the paper's recentering map (eq. 9).
 * The full-space cluster means then start EM (their projections are the lifted centres). In the input's
 * coordinates V is literally the top-min(k, d) eigenvectors of the uncentred second moment. In whitened
 * coordinates that matrix is the identity and carries no information, so we use the min(k - 1, d)
 * eigenvectors of the fourth-moment-weighted matrix {@code (1/n) sum ||z||^2 z z^T} whose eigenvalues
 * are furthest from d + 2, their value for a Gaussian (the isotropic-PCA idea of Brubaker and Vempala,
 * FOCS 2008, our choice, not the paper's): directions in which the whitened data are not Gaussian,
 * which contain the span of the centred means for parallel pancakes.</li>
 * <li>Each candidate runs EM on the training rows until the mean log-likelihood per row changes by at
 * most the tolerance; the one with the highest held-out mean log-likelihood wins (training
 * log-likelihood when nothing is held out). A final EM run on all rows starts from the winner, and the
 * result is mapped back to the input's coordinates: {@code mu = m + C^{1/2} mu_z},
 * {@code Q = C^{1/2} Q_z C^{1/2}}.</li>
 * <li>A candidate whose starting partition equals an earlier candidate's (up to renaming the clusters:
 * deterministic initialisations often repeat across restarts) repeats that candidate's outcome instead
 * of running EM again, and says so.</li>
 * <li>A candidate whose initialisation fails (for example k exceeds the number of distinct rows) is
 * recorded with the reason; if every candidate fails, {@code fit} throws with that reason. Rows without
 * any spread (all identical) are rejected by the whitening: they carry no scale for the floor.</li>
 * </ol>
 */
public final class CrudeMixture {

    private static final long SPLIT_TAG = 0x5EED_5B17L;
    private static final long SEED_TAG = 0x5EED_1417L;

    private CrudeMixture() {
    }

    /** {@link #fit(double[], int, int, double[], CrudeMixtureConfig)} with unit row weights. */
    public static CrudeMixtureResult fit(double[] x, int n, int d, CrudeMixtureConfig config) {
        return fit(x, n, d, null, config);
    }

    /**
     * Fits the crude mixture.
     *
     * @param x          n x d rows, row-major, finite; not modified
     * @param rowWeights n finite non-negative row weights with a positive sum, or null for all ones; not
     *                   modified
     * @throws IllegalArgumentException on a bad shape, a non-finite value or a bad weight (the message
     *                                  names the row), or when no candidate can be initialised (for
     *                                  example k exceeds the number of distinct rows)
     */
    public static CrudeMixtureResult fit(double[] x, int n, int d, double[] rowWeights, CrudeMixtureConfig config) {
        long t0 = System.nanoTime();
        validate(x, n, d, rowWeights, config);
        int k = config.k();
        CounterRandom rng = CounterRandom.of(config.seed());

        // Deterministic split.
        boolean[] held = new boolean[n];
        int nHeld = 0;
        if (config.heldOutFraction() > 0) {
            double[] u = new double[n];
            rng.fillUniform(CounterRandom.stream(SPLIT_TAG), 0, u, 0, n);
            for (int j = 0; j < n; j++) {
                if (u[j] <= config.heldOutFraction()) {
                    held[j] = true;
                    nHeld++;
                }
            }
        }
        int nTrain = n - nHeld;
        double[] trainRaw = new double[nTrain * d];
        double[] heldRaw = new double[nHeld * d];
        double[] trainW = rowWeights == null ? null : new double[nTrain];
        double[] heldW = rowWeights == null ? null : new double[nHeld];
        for (int j = 0, a = 0, b = 0; j < n; j++) {
            if (held[j]) {
                System.arraycopy(x, j * d, heldRaw, b * d, d);
                if (heldW != null) {
                    heldW[b] = rowWeights[j];
                }
                b++;
            } else {
                System.arraycopy(x, j * d, trainRaw, a * d, d);
                if (trainW != null) {
                    trainW[a] = rowWeights[j];
                }
                a++;
            }
        }
        if (!(sum(trainW, nTrain) > 0)) {
            throw new IllegalArgumentException("no training row has positive weight (n = " + n + ", held out " + nHeld + ")");
        }
        boolean select = nHeld > 0 && sum(heldW, nHeld) > 0;

        Whitening white = Whitening.of(new Moments(d).addBlock(x, rowWeights, n));
        double logDet = white.logAbsDetW();
        double[] trainZ = new double[nTrain * d];
        double[] heldZ = new double[nHeld * d];
        white.apply(trainRaw, nTrain, trainZ);
        white.apply(heldRaw, nHeld, heldZ);

        List<CrudeMixtureResult.Candidate> candidates = new ArrayList<>();
        List<GaussianMixture> fitted = new ArrayList<>();
        List<int[]> starts = new ArrayList<>();
        double[][] subspaceRaw = new double[1][];
        double[][] subspaceWhite = new double[1][];
        int best = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (Initialisation init : config.initialisations()) {
            for (Coordinates coords : config.coordinates()) {
                double[] data = coords == Coordinates.WHITENED ? trainZ : trainRaw;
                for (int restart = 0; restart < config.restarts(); restart++) {
                    long c0 = System.nanoTime();
                    long stream = CounterRandom.stream(SEED_TAG, init.ordinal(), coords.ordinal(), restart);
                    try {
                        int[] labels;
                        if (init == Initialisation.PAPER_SUBSPACE) {
                            double[][] cache = coords == Coordinates.WHITENED ? subspaceWhite : subspaceRaw;
                            if (cache[0] == null) {
                                cache[0] = coords == Coordinates.WHITENED
                                        ? PaperSubspace.fourthMomentDirections(data, trainW, nTrain, d, Math.max(1, Math.min(k - 1, d)))
                                        : PaperSubspace.topSecondMoment(data, trainW, nTrain, d, Math.min(k, d));
                            }
                            labels = PaperSubspace.cluster(data, trainW, nTrain, d, cache[0], k, rng, stream);
                        } else {
                            labels = cluster(data, trainW, nTrain, d, k, init == Initialisation.KMEANS, rng, stream);
                        }
                        int same = sameStart(starts, labels, k);
                        if (same >= 0) {
                            CrudeMixtureResult.Candidate c = candidates.get(same);
                            candidates.add(new CrudeMixtureResult.Candidate(init, coords, restart, c.iterations(), c.converged(),
                                    c.trainMeanLogLik(), c.heldOutMeanLogLik(), (System.nanoTime() - c0) * 1e-9, same, null));
                            fitted.add(fitted.get(same));
                            starts.add(null);
                            continue;
                        }
                        GaussianMixture start = EmStatistics.empty(k, d).addAssigned(trainZ, trainW, labels, nTrain)
                                .mStep(config.reg());
                        Em em = Em.run(start, List.of(new Part(trainZ, trainW, nTrain)), config);
                        double heldLl = select ? meanLogLik(em.mixture, heldZ, heldW, nHeld) + logDet : Double.NaN;
                        double seconds = (System.nanoTime() - c0) * 1e-9;
                        candidates.add(new CrudeMixtureResult.Candidate(init, coords, restart, em.iterations, em.converged,
                                em.meanLogLik + logDet, heldLl, seconds, -1, null));
                        fitted.add(em.mixture);
                        starts.add(labels);
                        double score = select ? heldLl : em.meanLogLik;
                        if (score > bestScore || best < 0) {
                            bestScore = score;
                            best = candidates.size() - 1;
                        }
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        double seconds = (System.nanoTime() - c0) * 1e-9;
                        candidates.add(new CrudeMixtureResult.Candidate(init, coords, restart, 0, false, Double.NaN,
                                Double.NaN, seconds, -1, e.getMessage()));
                        fitted.add(null);
                        starts.add(null);
                    }
                }
            }
        }
        if (best < 0) {
            Set<String> reasons = new LinkedHashSet<>();
            for (CrudeMixtureResult.Candidate c : candidates) {
                reasons.add(c.failure());
            }
            throw new IllegalArgumentException(reasons.size() == 1 ? reasons.iterator().next()
                    : "every crude-mixture candidate failed: " + String.join("; ", reasons));
        }

        // Final EM on all rows from the winner.
        List<Part> all = new ArrayList<>();
        all.add(new Part(trainZ, trainW, nTrain));
        if (nHeld > 0) {
            all.add(new Part(heldZ, heldW, nHeld));
        }
        Em last = Em.run(fitted.get(best), all, config);
        GaussianMixture mixture = white.fromWhitened(last.mixture);
        double seconds = (System.nanoTime() - t0) * 1e-9;
        return new CrudeMixtureResult(mixture, candidates, best, last.iterations, last.meanLogLik + logDet,
                nTrain, nHeld, seconds);
    }

    // k-means++ seeding (then Lloyd when lloyd) and nearest-centre labels.
    static int[] cluster(double[] y, double[] w, int n, int p, int k, boolean lloyd, CounterRandom rng, long stream) {
        double[] centres = new double[k * p];
        KMeans.seed(y, w, n, p, k, rng, stream, centres);
        int[] labels = new int[n];
        if (lloyd) {
            KMeans.lloyd(y, w, n, p, centres, k, labels);
        } else {
            KMeans.assign(y, w, n, p, centres, k, labels, new double[n]);
        }
        return labels;
    }

    /**
     * The index of an earlier candidate that started from the same partition (the same labels up to a
     * renaming of the clusters, which gives the same starting mixture up to the order of its
     * components), or -1.
     */
    private static int sameStart(List<int[]> starts, int[] labels, int k) {
        int[] map = new int[k];
        for (int c = 0; c < starts.size(); c++) {
            int[] other = starts.get(c);
            if (other == null || other.length != labels.length) {
                continue;
            }
            java.util.Arrays.fill(map, -1);
            boolean same = true;
            for (int j = 0; j < labels.length && same; j++) {
                int a = labels[j];
                int b = other[j];
                if (map[a] < 0) {
                    map[a] = b;
                } else if (map[a] != b) {
                    same = false;
                }
            }
            // The map must also be one-to-one.
            boolean[] hit = new boolean[k];
            for (int a = 0; a < k && same; a++) {
                if (map[a] >= 0) {
                    if (hit[map[a]]) {
                        same = false;
                    }
                    hit[map[a]] = true;
                }
            }
            if (same) {
                return c;
            }
        }
        return -1;
    }

    static double meanLogLik(GaussianMixture mixture, double[] z, double[] w, int n) {
        double[] out = new double[n];
        mixture.logDensity(z, n, out);
        double s = 0;
        double ws = 0;
        for (int j = 0; j < n; j++) {
            double wj = w == null ? 1.0 : w[j];
            if (wj != 0) {
                s += wj * out[j];
                ws += wj;
            }
        }
        return s / ws;
    }

    private static double sum(double[] w, int n) {
        if (w == null) {
            return n;
        }
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += w[j];
        }
        return s;
    }

    private static void validate(double[] x, int n, int d, double[] rowWeights, CrudeMixtureConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config must be given");
        }
        if (d < 1) {
            throw new IllegalArgumentException("dimension d must be at least 1, got " + d);
        }
        if (n < 1) {
            throw new IllegalArgumentException("at least one row is needed, got n = " + n);
        }
        if (x == null || x.length < (long) n * d) {
            throw new IllegalArgumentException("x holds " + (x == null ? 0 : x.length) + " values, fewer than n * d = "
                    + n + " * " + d);
        }
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                double v = x[j * d + r];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("row " + j + ", column " + r + " is not finite (" + v + ")");
                }
            }
        }
        if (rowWeights != null) {
            if (rowWeights.length < n) {
                throw new IllegalArgumentException("rowWeights holds " + rowWeights.length + " values, fewer than n = " + n);
            }
            double s = 0;
            for (int j = 0; j < n; j++) {
                double w = rowWeights[j];
                if (!(w >= 0) || !Double.isFinite(w)) {
                    throw new IllegalArgumentException("row " + j + ": weight must be finite and non-negative, got " + w);
                }
                s += w;
            }
            if (!(s > 0)) {
                throw new IllegalArgumentException("row weights sum to " + s + ": at least one must be positive");
            }
        }
    }

    /** A slice of rows EM iterates over. */
    record Part(double[] x, double[] w, int n) {
    }

    /** One EM run: the final mixture, its mean log-likelihood (whitened units), iterations and convergence. */
    static final class Em {
        final GaussianMixture mixture;
        final double meanLogLik;
        final int iterations;
        final boolean converged;

        private Em(GaussianMixture mixture, double meanLogLik, int iterations, boolean converged) {
            this.mixture = mixture;
            this.meanLogLik = meanLogLik;
            this.iterations = iterations;
            this.converged = converged;
        }

        /**
         * EM from {@code start} until the mean log-likelihood changes by at most the tolerance or the
         * iteration budget is spent; iterations count M-steps, and the returned log-likelihood is that of
         * the returned mixture.
         */
        static Em run(GaussianMixture start, List<Part> parts, CrudeMixtureConfig config) {
            EmStatistics stats = EmStatistics.empty(start.components(), start.dimension());
            GaussianMixture mix = start;
            double ll = eStep(stats, mix, parts);
            int it = 0;
            boolean converged = false;
            while (it < config.maxIterations()) {
                GaussianMixture next = stats.mStep(config.reg());
                double nextLl = eStep(stats, next, parts);
                it++;
                mix = next;
                double change = nextLl - ll;
                ll = nextLl;
                if (Math.abs(change) <= config.tolerance()) {
                    converged = true;
                    break;
                }
            }
            return new Em(mix, ll, it, converged);
        }

        private static double eStep(EmStatistics stats, GaussianMixture mix, List<Part> parts) {
            stats.clear();
            for (Part p : parts) {
                stats.add(mix, p.x, p.w, p.n);
            }
            return stats.meanLogLikelihood();
        }
    }
}
