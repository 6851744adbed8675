package io.scoremix.core.mixture;

import dev.ludovic.netlib.blas.BLAS;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.linalg.Cholesky;
import io.scoremix.core.random.CounterRandom;

import java.util.Arrays;

/**
 * A finite mixture of multivariate Gaussians {@code sum_i lambda_i N(mu_i, Q_i)} on R^d: validated
 * construction, log-densities and posteriors in log space, sampling, the OU-noised mixture and its
 * exact score and Hessian (ALGORITHM.md section 1). Immutable and thread-safe.
 *
 * <p>Block methods take points flat and row-major: {@code x[j*d + r]} is coordinate r of point j.
 *
 * <p>Implementation notes. Each covariance is held by its Cholesky factor {@code Q = L L^T}; with
 * {@code A = L^{-1}} the whitened residual is {@code y = A (x - mu)}, the Mahalanobis term is
 * {@code ||y||^2}, and {@code Q^{-1}(x - mu) = A^T y}. On a block both products are BLAS-3 triangular
 * multiplies (dtrmm) over all points at once, except in {@link #groupScores}, the learner's per-block call:
 * there the points of a chunk are held coordinate-major and both products are Java loops over the points,
 * which the JIT vectorises (at d = 10, k = 4 the call is 1.8x faster than with dtrmm on native OpenBLAS and
 * 5x faster on netlib's Java BLAS). Posteriors are a log-sum-exp softmax of
 * {@code log lambda_i - 1/2 log det Q_i - 1/2 ||y_i||^2}, so they never underflow to equal values the
 * way linear-space densities do in moderate d. The Hessian is
 * {@code -sum pi_i P_i + sum pi_i g_i g_i^T - gbar gbar^T} with {@code g_i = -P_i (x - mu_i)}.
 */
public final class GaussianMixture implements DensityModel {

    /** Relative tolerance on the sum of the weights, and on the asymmetry of covariances. */
    public static final double WEIGHT_SUM_TOLERANCE = 1e-9;
    public static final double SYMMETRY_TOLERANCE = 1e-9;

    private static final double LOG_2PI = Math.log(2 * Math.PI);
    /** Points per internal chunk of the block kernels: bounds scratch at k * CHUNK * d doubles. */
    private static final int CHUNK = 256;
    /** Points per chunk of groupScores: its scratch, (k + 3) d + k rows of GROUP_CHUNK doubles, stays in L2. */
    private static final int GROUP_CHUNK = 256;

    private final int d;
    private final int k;
    private final double[] weights;
    private final double[] means;      // k x d
    private final double[] covs;       // k x d x d, row-major per component
    private final double[] chol;       // k x d x d, lower factors, row-major
    private final double[] invCholCm;  // k x d x d, L^{-1} in column-major (lower) for BLAS
    private final double[] precision;  // k x d x d, Q^{-1} row-major
    private final double[] logNorm;
    private final double[] tracePrecision; // tr Q_i^{-1}    // log lambda_i - 1/2 log det Q_i - d/2 log 2 pi

    private GaussianMixture(int d, double[] weights, double[] means, double[] covs, double[] chol) {
        this.d = d;
        this.k = weights.length;
        this.weights = weights;
        this.means = means;
        this.covs = covs;
        this.chol = chol;
        int dd = d * d;
        this.invCholCm = new double[k * dd];
        this.precision = new double[k * dd];
        this.logNorm = new double[k];
        this.tracePrecision = new double[k];
        double[] l = new double[dd];
        double[] inv = new double[dd];
        for (int i = 0; i < k; i++) {
            System.arraycopy(chol, i * dd, l, 0, dd);
            Cholesky.invertLower(l, d, inv);
            int o = i * dd;
            for (int r = 0; r < d; r++) {
                for (int c = 0; c <= r; c++) {
                    invCholCm[o + r + c * d] = inv[r * d + c];
                }
            }
            // P = A^T A with A = L^{-1} lower: P[r][c] = sum_m A[m][r] A[m][c], m >= max(r, c).
            for (int r = 0; r < d; r++) {
                for (int c = 0; c <= r; c++) {
                    double s = 0;
                    for (int m = r; m < d; m++) {
                        s += inv[m * d + r] * inv[m * d + c];
                    }
                    precision[o + r * d + c] = s;
                    precision[o + c * d + r] = s;
                }
            }
            logNorm[i] = Math.log(weights[i]) - 0.5 * Cholesky.logDet(l, d) - 0.5 * d * LOG_2PI;
            for (int r = 0; r < d; r++) {
                tracePrecision[i] += precision[o + r * d + r];
            }
        }
    }

    /**
     * A validated mixture. Weights must be positive and finite and sum to 1 within
     * {@link #WEIGHT_SUM_TOLERANCE} (relative); they are then divided by their sum, unless that sum is already
     * within rounding of 1 (4k ulps), so that {@code of(m.weights(), ...)} keeps the weights bit for bit.
     * Means must have length d, covariances must be d x d, finite, symmetric within {@link #SYMMETRY_TOLERANCE} relative
     * to their largest entry (they are then symmetrised) and positive definite. The arrays are copied.
     *
     * @throws IllegalArgumentException naming the component and the problem
     */
    public static GaussianMixture of(double[] weights, double[][] means, double[][][] covariances) {
        if (weights == null || means == null || covariances == null) {
            throw new IllegalArgumentException("weights, means and covariances must all be given");
        }
        int k = weights.length;
        if (k == 0) {
            throw new IllegalArgumentException("a mixture needs at least one component");
        }
        if (means.length != k || covariances.length != k) {
            throw new IllegalArgumentException("got " + k + " weights, " + means.length + " means and "
                    + covariances.length + " covariances: one of each per component is needed");
        }
        if (means[0] == null || means[0].length == 0) {
            throw new IllegalArgumentException("component 0: mean is empty: the dimension must be at least 1");
        }
        int d = means[0].length;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            double w = weights[i];
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("component " + i + ": weight is not finite (" + w + ")");
            }
            if (!(w > 0)) {
                throw new IllegalArgumentException("component " + i + ": weight must be positive, got " + w);
            }
            sum += w;
        }
        if (Math.abs(sum - 1.0) > WEIGHT_SUM_TOLERANCE) {
            throw new IllegalArgumentException("weights sum to " + sum + ", not 1 (relative tolerance "
                    + WEIGHT_SUM_TOLERANCE + ")");
        }
        double[] w = new double[k];
        // Dividing by a sum that rounds to 1 - 2^-53 moves the weights by an ulp each time: skip it when the
        // weights are normalised up to rounding (the summation error of normalised weights is below k ulps).
        double norm = Math.abs(sum - 1.0) <= 4.0 * k * Math.ulp(1.0) ? 1.0 : sum;
        double[] mu = new double[k * d];
        double[] q = new double[k * d * d];
        for (int i = 0; i < k; i++) {
            w[i] = weights[i] / norm;
            double[] m = means[i];
            if (m == null || m.length != d) {
                throw new IllegalArgumentException("component " + i + ": mean has dimension "
                        + (m == null ? 0 : m.length) + ", expected " + d);
            }
            for (int r = 0; r < d; r++) {
                if (!Double.isFinite(m[r])) {
                    throw new IllegalArgumentException("component " + i + ": mean[" + r + "] is not finite (" + m[r] + ")");
                }
                mu[i * d + r] = m[r];
            }
            copyCovariance(i, covariances[i], d, q, i * d * d);
        }
        return build(d, w, mu, q);
    }

    private static void copyCovariance(int i, double[][] c, int d, double[] q, int off) {
        if (c == null || c.length != d) {
            throw new IllegalArgumentException("component " + i + ": covariance has " + (c == null ? 0 : c.length)
                    + " rows, expected " + d);
        }
        double scale = 0;
        for (int r = 0; r < d; r++) {
            if (c[r] == null || c[r].length != d) {
                throw new IllegalArgumentException("component " + i + ": covariance row " + r + " has length "
                        + (c[r] == null ? 0 : c[r].length) + ", expected " + d);
            }
            for (int s = 0; s < d; s++) {
                if (!Double.isFinite(c[r][s])) {
                    throw new IllegalArgumentException("component " + i + ": covariance[" + r + "][" + s
                            + "] is not finite (" + c[r][s] + ")");
                }
                scale = Math.max(scale, Math.abs(c[r][s]));
            }
        }
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < r; s++) {
                double a = c[r][s];
                double b = c[s][r];
                if (Math.abs(a - b) > SYMMETRY_TOLERANCE * scale) {
                    throw new IllegalArgumentException("component " + i + ": covariance is not symmetric: entry ["
                            + r + "][" + s + "] = " + a + " but [" + s + "][" + r + "] = " + b);
                }
                double avg = 0.5 * (a + b);
                q[off + r * d + s] = avg;
                q[off + s * d + r] = avg;
            }
            q[off + r * d + r] = c[r][r];
        }
    }

    private static GaussianMixture build(int d, double[] w, double[] mu, double[] q) {
        int k = w.length;
        int dd = d * d;
        double[] l = new double[k * dd];
        double[] a = new double[dd];
        double[] li = new double[dd];
        for (int i = 0; i < k; i++) {
            System.arraycopy(q, i * dd, a, 0, dd);
            int pivot = Cholesky.factor(a, d, li);
            if (pivot != Cholesky.OK) {
                throw new IllegalArgumentException("component " + i + ": covariance is not positive definite "
                        + "(Cholesky factorisation fails at pivot " + pivot + ")");
            }
            System.arraycopy(li, 0, l, i * dd, dd);
        }
        return new GaussianMixture(d, w, mu, q, l);
    }

    /** The dimension d. */
    @Override
    public int dimension() {
        return d;
    }

    /** The number of components k. */
    public int components() {
        return k;
    }

    /** The weight of component i. */
    public double weight(int i) {
        return weights[i];
    }

    /** A copy of the weights. */
    public double[] weights() {
        return weights.clone();
    }

    /** A copy of the mean of component i. */
    public double[] mean(int i) {
        return Arrays.copyOfRange(means, i * d, (i + 1) * d);
    }

    /** A copy of the covariance of component i, as d rows. */
    public double[][] covariance(int i) {
        double[][] c = new double[d][];
        for (int r = 0; r < d; r++) {
            c[r] = Arrays.copyOfRange(covs, i * d * d + r * d, i * d * d + (r + 1) * d);
        }
        return c;
    }

    /** The mixture's mean {@code sum lambda_i mu_i}. */
    public double[] overallMean() {
        double[] m = new double[d];
        for (int i = 0; i < k; i++) {
            for (int r = 0; r < d; r++) {
                m[r] += weights[i] * means[i * d + r];
            }
        }
        return m;
    }

    /** The mixture's covariance {@code sum lambda_i (Q_i + mu_i mu_i^T) - m m^T}, d x d row-major. */
    public double[] overallCovariance() {
        double[] m = overallMean();
        double[] c = new double[d * d];
        for (int i = 0; i < k; i++) {
            int o = i * d;
            for (int r = 0; r < d; r++) {
                for (int s = 0; s < d; s++) {
                    double dr = means[o + r] - m[r];
                    double ds = means[o + s] - m[s];
                    c[r * d + s] += weights[i] * (covs[i * d * d + r * d + s] + dr * ds);
                }
            }
        }
        return c;
    }

    /**
     * The law of the OU process {@code x_t = e^{-t} x_0 + sigma_t z} started from this mixture: weights
     * kept, means {@code e^{-t} mu_i}, covariances {@code e^{-2t} Q_i + (1 - e^{-2t}) I}.
     *
     * @param t forward time, finite and non-negative
     */
    public GaussianMixture noised(double t) {
        if (!(t >= 0) || !Double.isFinite(t)) {
            throw new IllegalArgumentException("noise time must be finite and non-negative, got " + t);
        }
        if (t == 0) {
            return this;
        }
        double a = Math.exp(-t);
        double a2 = a * a;
        double s2 = -Math.expm1(-2 * t);
        double[] mu = new double[k * d];
        double[] q = new double[k * d * d];
        for (int j = 0; j < mu.length; j++) {
            mu[j] = a * means[j];
        }
        for (int j = 0; j < q.length; j++) {
            q[j] = a2 * covs[j];
        }
        for (int i = 0; i < k; i++) {
            for (int r = 0; r < d; r++) {
                q[i * d * d + r * d + r] += s2;
            }
        }
        return build(d, weights.clone(), mu, q);
    }

    /** The log-density at one point of length d. */
    public double logDensity(double[] x) {
        double[] out = new double[1];
        logDensity(x, 1, out);
        return out[0];
    }

    @Override
    public void logDensity(double[] x, int n, double[] out) {
        evaluate(x, n, out, null);
    }

    /**
     * Posterior component probabilities {@code pi_i(x)} of n points.
     *
     * @param out receives n x k posteriors, row-major; modified
     */
    public void posteriors(double[] x, int n, double[] out) {
        // One group holding every component: groupScores' posteriors are the mixture's (its vectorised path).
        groupScores(x, n, new int[k], null, null, out, null);
    }

    /**
     * The score {@code grad log p(x) = -sum_i pi_i(x) Q_i^{-1} (x - mu_i)} of n points.
     *
     * @param out receives n x d scores, row-major; modified; must not alias {@code x}
     */
    public void score(double[] x, int n, double[] out) {
        groupScores(x, n, new int[k], null, null, null, out);
    }

    /**
     * Per-component joint log-likelihoods {@code log lambda_i + log N(x; mu_i, Q_i)} of n points.
     *
     * @param out receives n x k values, row-major; modified
     */
    public void componentLogLikelihoods(double[] x, int n, double[] out) {
        evaluate(x, n, null, null, out, null, null);
    }

    /**
     * Squared Mahalanobis distances {@code (x - mu_i)^T Q_i^{-1} (x - mu_i)} of n points to every component.
     *
     * @param out receives n x k values, row-major; modified
     */
    public void mahalanobis2(double[] x, int n, double[] out) {
        evaluate(x, n, null, null, null, out, null);
    }

    /**
     * One pass over the block computing whichever of log-density and posteriors are requested (null outputs
     * are skipped). Posteriors alone, and the score, take {@link #groupScores}' faster path.
     */
    void evaluate(double[] x, int n, double[] logDens, double[] post) {
        evaluate(x, n, logDens, post, null, null, null);
    }

    private void evaluate(double[] x, int n, double[] logDens, double[] post, double[] jointLogLik, double[] maha,
                          double[] laplacian) {
        BLAS blas = Blas.get();
        int chunk = Math.min(n, CHUNK);
        double[] y = new double[k * chunk * d];
        double[] logits = new double[chunk * k];
        // The Laplacian needs the score (gbar) of each chunk.
        double[] grad = laplacian != null ? new double[chunk * d] : null;
        for (int start = 0; start < n; start += CHUNK) {
            int m = Math.min(CHUNK, n - start);
            int xOff = start * d;
            // y_i = A_i (x - mu_i): d x m column-major == m x d row-major.
            for (int i = 0; i < k; i++) {
                int yo = i * chunk * d;
                standardise(blas, i, x, xOff, m, y, yo);
                for (int j = 0; j < m; j++) {
                    int yr = yo + j * d;
                    double quad = 0;
                    for (int r = 0; r < d; r++) {
                        quad += y[yr + r] * y[yr + r];
                    }
                    logits[j * k + i] = logNorm[i] - 0.5 * quad;
                    if (maha != null) {
                        maha[(start + j) * k + i] = quad;
                    }
                }
            }
            if (jointLogLik != null) {
                System.arraycopy(logits, 0, jointLogLik, start * k, m * k);
            }
            if (logDens == null && post == null && laplacian == null) {
                continue;
            }
            // Log-sum-exp softmax per point: logits become posteriors in place.
            for (int j = 0; j < m; j++) {
                int lo = j * k;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < k; i++) {
                    max = Math.max(max, logits[lo + i]);
                }
                double sum = 0;
                for (int i = 0; i < k; i++) {
                    double e = Math.exp(logits[lo + i] - max);
                    logits[lo + i] = e;
                    sum += e;
                }
                if (logDens != null) {
                    logDens[start + j] = max + Math.log(sum);
                }
                double inv = 1.0 / sum;
                for (int i = 0; i < k; i++) {
                    logits[lo + i] *= inv;
                }
            }
            if (post != null) {
                System.arraycopy(logits, 0, post, start * k, m * k);
            }
            if (laplacian != null) {
                Arrays.fill(grad, 0, m * d, 0.0);
                Arrays.fill(laplacian, start, start + m, 0.0);
                for (int i = 0; i < k; i++) {
                    int yo = i * chunk * d;
                    // A_i^T y_i = Q_i^{-1} (x - mu_i) = -g_i.
                    blas.dtrmm("L", "L", "T", "N", d, m, 1.0, invCholCm, i * d * d, d, y, yo, d);
                    for (int j = 0; j < m; j++) {
                        double p = logits[j * k + i];
                        int yr = yo + j * d;
                        int sr = j * d;
                        double g2 = 0;
                        for (int r = 0; r < d; r++) {
                            double v = y[yr + r];
                            grad[sr + r] -= p * v;
                            g2 += v * v;
                        }
                        laplacian[start + j] += p * (g2 - tracePrecision[i]);
                    }
                }
                // tr H = sum_i pi_i (||g_i||^2 - tr P_i) - ||gbar||^2, and gbar is the score.
                for (int j = 0; j < m; j++) {
                    double b2 = 0;
                    for (int r = 0; r < d; r++) {
                        double v = grad[j * d + r];
                        b2 += v * v;
                    }
                    laplacian[start + j] -= b2;
                }
            }
        }
    }

    /**
     * {@code y_i = A_i (x - mu_i)} for the m points of x from offset xOff: component i's standardised
     * residuals, written m x d row-major (d x m column-major) at y[yo..].
     */
    private void standardise(BLAS blas, int i, double[] x, int xOff, int m, double[] y, int yo) {
        int mo = i * d;
        for (int j = 0; j < m; j++) {
            int xr = xOff + j * d;
            int yr = yo + j * d;
            for (int r = 0; r < d; r++) {
                y[yr + r] = x[xr + r] - means[mo + r];
            }
        }
        blas.dtrmm("L", "L", "N", "N", d, m, 1.0, invCholCm, i * d * d, d, y, yo, d);
    }

    /**
     * Everything a partition of the components into groups needs from one evaluation of the mixture: for
     * each point, the group of its most likely component ({@code argmax_i log lambda_i + log N(x; mu_i, Q_i)},
     * the first on ties), the smallest squared Mahalanobis distance to a component of that group, the
     * posteriors within that group and the score of that group's sub-mixture (its weights renormalised).
     * The same numbers, to rounding, as {@link #componentLogLikelihoods}, {@link #mahalanobis2} and
     * {@link #posteriors} / {@link #score} of the group's sub-mixture, for the price of one
     * {@link #score} of this mixture: two triangular multiplies per component. With every component in
     * group 0 the posteriors and score are those of the whole mixture.
     *
     * @param x        n x d points, row-major; not modified
     * @param group    k group indices, non-negative; not modified
     * @param groupOut receives n groups, or null; modified
     * @param minMaha2 receives n squared Mahalanobis distances, or null; modified
     * @param post     receives n x k posteriors within the point's group (0 for other components), or null;
     *                 modified
     * @param score    receives n x d scores of the point's group's sub-mixture, row-major, or null; modified;
     *                 must not alias {@code x}
     */
    public void groupScores(double[] x, int n, int[] group, int[] groupOut, double[] minMaha2, double[] post,
                            double[] score) {
        if (group.length != k) {
            throw new IllegalArgumentException("group has " + group.length + " entries for " + k + " components");
        }
        GroupScratch s = GroupScratch.of(d, k);
        double[][] xt = s.xt;
        double[][] y = s.y;
        double[][] prob = s.prob;
        double[] logits = s.pointMajor;
        double[][] st = s.st;
        for (int start = 0; start < n; start += GROUP_CHUNK) {
            int m = Math.min(GROUP_CHUNK, n - start);
            int xOff = start * d;
            for (int r = 0; r < d; r++) {
                double[] xr = xt[r];
                for (int j = 0; j < m; j++) {
                    xr[j] = x[xOff + j * d + r];
                }
            }
            for (int i = 0; i < k; i++) {
                whiten(i, xt, m, s.res, y, prob[i]);
                double[] quad = prob[i];
                for (int j = 0; j < m; j++) {
                    logits[j * k + i] = quad[j];
                }
            }
            // Per point: the best component's group, the group's smallest distance, and a log-sum-exp softmax
            // over the group's members only (log lambda_i / W_g differs from log lambda_i by a constant in g).
            for (int j = 0; j < m; j++) {
                int lo = j * k;
                int best = 0;
                double bestLogLik = logNorm[0] - 0.5 * logits[lo];
                for (int i = 1; i < k; i++) {
                    double v = logNorm[i] - 0.5 * logits[lo + i];
                    if (v > bestLogLik) {
                        best = i;
                        bestLogLik = v;
                    }
                }
                int g = group[best];
                if (groupOut != null) {
                    groupOut[start + j] = g;
                }
                double min = Double.POSITIVE_INFINITY;
                double sum = 0;
                for (int i = 0; i < k; i++) {
                    if (group[i] == g) {
                        double quad = logits[lo + i];
                        min = Math.min(min, quad);
                        // exp(0) = 1 exactly for the best component.
                        double e = i == best ? 1.0 : Math.exp(logNorm[i] - 0.5 * quad - bestLogLik);
                        logits[lo + i] = e;
                        sum += e;
                    } else {
                        logits[lo + i] = 0;
                    }
                }
                if (minMaha2 != null) {
                    minMaha2[start + j] = min;
                }
                double inv = 1.0 / sum;
                for (int i = 0; i < k; i++) {
                    logits[lo + i] *= inv;
                }
            }
            if (post != null) {
                System.arraycopy(logits, 0, post, start * k, m * k);
            }
            if (score == null) {
                continue;
            }
            for (int c = 0; c < d; c++) {
                Arrays.fill(st[c], 0, m, 0.0);
            }
            for (int i = 0; i < k; i++) {
                double[] p = prob[i];
                boolean any = false;
                for (int j = 0; j < m; j++) {
                    p[j] = logits[j * k + i];
                    any |= p[j] != 0;
                }
                if (any) { // else no point of the chunk is in this component's group
                    addWeightedPrecisionProduct(i, y, p, m, st);
                }
            }
            for (int r = 0; r < d; r++) {
                double[] sr = st[r];
                for (int j = 0; j < m; j++) {
                    score[xOff + j * d + r] = -sr[j];
                }
            }
        }
    }

    /**
     * {@code y_i = A_i (x - mu_i)} (rows i*d .. i*d + d - 1 of y) and {@code quad = ||y_i||^2} for the m points
     * of a coordinate-major chunk xt; res receives {@code x - mu_i}.
     */
    private void whiten(int i, double[][] xt, int m, double[][] res, double[][] y, double[] quad) {
        for (int c = 0; c < d; c++) {
            double mu = means[i * d + c];
            double[] xc = xt[c];
            double[] rc = res[c];
            for (int j = 0; j < m; j++) {
                rc[j] = xc[j] - mu;
            }
        }
        Arrays.fill(quad, 0, m, 0.0);
        for (int r = 0; r < d; r++) {
            // y_r = sum_{c <= r} A[r][c] res_c: row r of A_i (column-major, so stride d).
            double[] yr = y[i * d + r];
            Arrays.fill(yr, 0, m, 0.0);
            addCombination(invCholCm, i * d * d + r, d, res, 0, r + 1, yr, m);
            for (int j = 0; j < m; j++) {
                quad[j] += yr[j] * yr[j];
            }
        }
    }

    /**
     * {@code st += A_i^T (p y_i) = p Q_i^{-1} (x - mu_i)} for the m points of a coordinate-major chunk, with y_i
     * in rows i*d .. i*d + d - 1 of y (overwritten by {@code p y_i}) and the posteriors p of component i.
     */
    private void addWeightedPrecisionProduct(int i, double[][] y, double[] p, int m, double[][] st) {
        for (int r = 0; r < d; r++) {
            double[] yr = y[i * d + r];
            for (int j = 0; j < m; j++) {
                yr[j] *= p[j];
            }
        }
        for (int c = 0; c < d; c++) {
            // st_c += sum_{r >= c} A[r][c] (p y)_r: column c of A_i (column-major, so stride 1).
            addCombination(invCholCm, i * d * d + c * d + c, 1, y, i * d + c, d - c, st[c], m);
        }
    }

    /**
     * {@code out[j] += sum_{t < terms} a[ao + t*stride] rows[first + t][j]} for {@code j < m}, four rows per
     * pass over out. Each row is its own array and every loop starts at index 0: C2 (JDK 17) vectorises such
     * loops, but not the same loops over offsets into one flat array (0.27 vs 1.1 ns per multiply-add measured).
     */
    private static void addCombination(double[] a, int ao, int stride, double[][] rows, int first, int terms,
                                       double[] out, int m) {
        int t = 0;
        for (; t + 4 <= terms; t += 4) {
            double a0 = a[ao + t * stride];
            double a1 = a[ao + (t + 1) * stride];
            double a2 = a[ao + (t + 2) * stride];
            double a3 = a[ao + (t + 3) * stride];
            double[] x0 = rows[first + t];
            double[] x1 = rows[first + t + 1];
            double[] x2 = rows[first + t + 2];
            double[] x3 = rows[first + t + 3];
            for (int j = 0; j < m; j++) {
                out[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
            }
        }
        for (; t < terms; t++) {
            double a0 = a[ao + t * stride];
            double[] x0 = rows[first + t];
            for (int j = 0; j < m; j++) {
                out[j] += a0 * x0[j];
            }
        }
    }

    /**
     * Scratch of {@link #groupScores} for chunks of {@link #GROUP_CHUNK} points in coordinate-major rows
     * ({@code xt[r][j]} is coordinate r of point j), kept per thread and reused while d and k stay the same:
     * the learner calls groupScores per block of rows with the noised crude mixtures of one fit, and fresh
     * scratch per call cost about a tenth of the call in allocation and cold cache lines.
     */
    private static final class GroupScratch {

        private static final ThreadLocal<GroupScratch> CURRENT = new ThreadLocal<>();

        final int d;
        final int k;
        final double[][] xt;
        final double[][] res;
        final double[][] y;          // k d rows: y_i = A_i (x - mu_i) in rows i*d + r, then p_i y_i
        final double[][] prob;       // k rows: ||y_i||^2, then posteriors
        final double[] pointMajor;   // GROUP_CHUNK x k: the same, point-major, for the per-point softmax
        final double[][] st;         // d rows: minus the score

        private GroupScratch(int d, int k) {
            this.d = d;
            this.k = k;
            this.xt = new double[d][GROUP_CHUNK];
            this.res = new double[d][GROUP_CHUNK];
            this.y = new double[k * d][GROUP_CHUNK];
            this.prob = new double[k][GROUP_CHUNK];
            this.pointMajor = new double[GROUP_CHUNK * k];
            this.st = new double[d][GROUP_CHUNK];
        }

        static GroupScratch of(int d, int k) {
            GroupScratch s = CURRENT.get();
            if (s == null || s.d != d || s.k != k) {
                s = new GroupScratch(d, k);
                CURRENT.set(s);
            }
            return s;
        }
    }

    /**
     * The Hessian of {@code log p} at one point.
     *
     * @param x   a point of length d; not modified
     * @param out receives the d x d Hessian, row-major; modified
     */
    public void hessian(double[] x, double[] out) {
        double[] post = new double[k];
        evaluate(x, 1, null, post);
        double[] g = new double[k * d];
        double[] gbar = new double[d];
        int dd = d * d;
        for (int i = 0; i < k; i++) {
            for (int r = 0; r < d; r++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s -= precision[i * dd + r * d + c] * (x[c] - means[i * d + c]);
                }
                g[i * d + r] = s;
                gbar[r] += post[i] * s;
            }
        }
        Arrays.fill(out, 0, dd, 0.0);
        for (int i = 0; i < k; i++) {
            double p = post[i];
            for (int r = 0; r < d; r++) {
                double gr = g[i * d + r];
                for (int c = 0; c < d; c++) {
                    out[r * d + c] += p * (gr * g[i * d + c] - precision[i * dd + r * d + c]);
                }
            }
        }
        for (int r = 0; r < d; r++) {
            for (int c = 0; c < d; c++) {
                out[r * d + c] -= gbar[r] * gbar[c];
            }
        }
    }

    /**
     * The Laplacian {@code tr H(x)} of {@code log p} (the divergence of the score) of n points, by
     * {@code tr H = sum_i pi_i (||g_i||^2 - tr P_i) - ||gbar||^2} with {@code g_i = -P_i (x - mu_i)},
     * {@code gbar = sum_i pi_i g_i}: the trace of {@link #hessian} without forming it, O(k d^2) per point
     * in the same pass and with the same two triangular multiplies per component as {@link #score}.
     *
     * @param x   n x d points, row-major; not modified
     * @param out receives n values; modified
     */
    public void laplacian(double[] x, int n, double[] out) {
        evaluate(x, n, null, null, null, null, out);
    }

    /**
     * Draws n points: point j picks its component with the uniform of counter {@code counter + j} on
     * sub-stream 0 and its Gaussian vector from counters {@code (counter + j) * d ..} on sub-stream 1.
     */
    @Override
    public void sample(CounterRandom rng, long stream, long counter, int n, double[] out) {
        long uStream = CounterRandom.stream(stream, 0);
        long zStream = CounterRandom.stream(stream, 1);
        double[] u = new double[n];
        rng.fillUniform(uStream, counter, u, 0, n);
        rng.fillGaussian(zStream, counter * d, out, 0, n * d);
        double[] cumulative = new double[k];
        double acc = 0;
        for (int i = 0; i < k; i++) {
            acc += weights[i];
            cumulative[i] = acc;
        }
        double[] z = new double[d];
        int dd = d * d;
        for (int j = 0; j < n; j++) {
            // u is in (0, 1]; scaling by acc guards the last bin against rounding of the cumulative sum.
            double target = u[j] * acc;
            int i = 0;
            while (i < k - 1 && target > cumulative[i]) {
                i++;
            }
            int o = j * d;
            System.arraycopy(out, o, z, 0, d);
            int lo = i * dd;
            for (int r = 0; r < d; r++) {
                double s = means[i * d + r];
                int lr = lo + r * d;
                for (int c = 0; c <= r; c++) {
                    s += chol[lr + c] * z[c];
                }
                out[o + r] = s;
            }
        }
    }

    @Override
    public String toString() {
        return "GaussianMixture[k=" + k + ", d=" + d + "]";
    }
}
