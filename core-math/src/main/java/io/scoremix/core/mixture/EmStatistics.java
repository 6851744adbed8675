package io.scoremix.core.mixture;

import dev.ludovic.netlib.blas.BLAS;
import io.scoremix.core.linalg.Blas;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The E-step sufficient statistics of EM for a k-component full-covariance Gaussian mixture on R^d: per
 * component the responsibility weight {@code W_i = sum_j w_j pi_i(x_j)}, the weighted mean and the
 * centred scatter {@code sum_j w_j pi_i(x_j) (x_j - mean_i)(x_j - mean_i)^T}, plus the weighted
 * log-likelihood of the mixture the responsibilities came from. A mergeable accumulator (ALGORITHM.md
 * section 4.2, STYLE.md item 4): executors {@link #add} blocks of rows, partial results {@link #merge}
 * (associative, {@link #empty} is the identity), and the driver takes the M-step:
 *
 * <pre>{@code
 * EmStatistics stats = EmStatistics.empty(k, d);
 * stats.add(current, x, weights, n);      // any number of blocks, on any executor
 * stats.merge(other);                     // partial results, in any grouping
 * GaussianMixture next = stats.mStep(reg);
 * double meanLogLik = stats.meanLogLikelihood();   // of `current`
 * }</pre>
 *
 * <p>Mutable and not thread-safe; {@code add} and {@code merge} modify this object and return it.
 * Serializable for shipping between JVMs: the empty value holds no arrays (they are allocated on first
 * use), the scatter is packed (d(d+1)/2 per component), and scratch space is transient.
 *
 * <p>Implementation notes. Responsibilities come from {@link GaussianMixture#posteriors} in log space
 * (log-sum-exp), so they never underflow to equal values. Inside a block of at most {@link #BLOCK_ROWS}
 * rows, each component's statistics are formed in two passes (weighted mean, then the centred scatter
 * by BLAS {@code dsyrk} on rows {@code sqrt(r_j)(x_j - mean)}); blocks and partial results are combined
 * with Chan, Golub and LeVeque's pairwise update {@code S = S_a + S_b + delta delta^T W_a W_b / W}
 * (Chan, Golub, LeVeque 1979), never as raw second moments minus the squared mean. The M-step floors each
 * covariance's eigenvalues at {@code reg} (LAPACK {@code dsyev}).
 */
public final class EmStatistics implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Rows per internal block: bounds the scratch space at about {@code BLOCK_ROWS * (d + 2k)} doubles. */
    public static final int BLOCK_ROWS = 1024;

    /**
     * A component whose responsibility weight is below this fraction of the total is dead: the M-step
     * gives it this weight, the overall mean and the overall (floored) covariance, so the next E-step can
     * still revive it and nothing divides by zero.
     */
    static final double DEAD_WEIGHT = 1e-12;

    private final int k;
    private final int d;
    private double[] weight;   // k, lazily allocated
    private double[] mean;     // k x d
    private double[] scatter;  // k x d(d+1)/2, packed upper by columns: (r, c), r <= c at r + c(c+1)/2
    private double logLikSum;
    private double logLikWeight;
    private double rowWeight;
    private long count;

    private transient double[] post;     // BLOCK_ROWS x k
    private transient double[] logDens;  // BLOCK_ROWS
    private transient double[] rows;     // BLOCK_ROWS x d: block copy, then centred scaled rows
    private transient double[] centred;  // BLOCK_ROWS x d
    private transient double[] blockMean; // k x d
    private transient double[] blockWeight; // k
    private transient double[] syrk;     // d x d

    private EmStatistics(int k, int d) {
        this.k = k;
        this.d = d;
    }

    /**
     * The empty statistics (the identity of {@link #merge}) for k components in dimension d.
     *
     * @throws IllegalArgumentException if k or d is not positive
     */
    public static EmStatistics empty(int k, int d) {
        if (k < 1) {
            throw new IllegalArgumentException("number of components k must be at least 1, got " + k);
        }
        if (d < 1) {
            throw new IllegalArgumentException("dimension d must be at least 1, got " + d);
        }
        return new EmStatistics(k, d);
    }

    /** The number of components k. */
    public int components() {
        return k;
    }

    /** The dimension d. */
    public int dimension() {
        return d;
    }

    /** The number of rows added (including zero-weight rows). */
    public long count() {
        return count;
    }

    /** The total row weight added (the number of rows when unweighted). */
    public double totalWeight() {
        return rowWeight;
    }

    /** True when nothing has been added or merged in. */
    public boolean isEmpty() {
        return count == 0;
    }

    /**
     * The weighted mean log-likelihood {@code sum_j w_j log p(x_j) / sum_j w_j} of the rows added, under
     * the mixture(s) passed to {@link #add}: in an EM loop, the log-likelihood of the current parameters.
     *
     * @throws IllegalStateException if no row with positive weight was added
     */
    public double meanLogLikelihood() {
        if (!(logLikWeight > 0)) {
            throw new IllegalStateException("no row with positive weight has been added: the mean log-likelihood is undefined");
        }
        return logLikSum / logLikWeight;
    }

    /** The responsibility weight {@code W_i} of component i (0 when empty). */
    public double componentWeight(int i) {
        checkComponent(i);
        return weight == null ? 0.0 : weight[i];
    }

    /** A copy of the weighted mean of component i (zeros when its weight is 0). */
    public double[] componentMean(int i) {
        checkComponent(i);
        return weight == null ? new double[d] : Arrays.copyOfRange(mean, i * d, (i + 1) * d);
    }

    /** The centred scatter of component i as a d x d row-major matrix (a new array). */
    public double[] componentScatter(int i) {
        checkComponent(i);
        double[] s = new double[d * d];
        if (weight != null) {
            unpack(scatter, i * packedSize(), d, s);
        }
        return s;
    }

    /**
     * Adds the E-step statistics of n rows under the mixture {@code current}: posteriors
     * {@code pi_i(x_j)} in log space, responsibilities {@code r_ji = w_j pi_i(x_j)}, and
     * {@code w_j log p(x_j)} into the log-likelihood.
     *
     * @param current    the mixture of this EM iteration; k components, dimension d
     * @param x          n x d rows, row-major; not modified
     * @param rowWeights n finite non-negative row weights, or null for all ones; not modified
     * @return this
     * @throws IllegalArgumentException on a shape mismatch, a negative or non-finite weight, or a
     *                                  non-finite row (the message gives its index)
     */
    public EmStatistics add(GaussianMixture current, double[] x, double[] rowWeights, int n) {
        if (current.components() != k || current.dimension() != d) {
            throw new IllegalArgumentException("mixture has k = " + current.components() + ", d = " + current.dimension()
                    + " but these statistics are for k = " + k + ", d = " + d);
        }
        checkRows(x, rowWeights, n);
        ensureScratch();
        for (int start = 0; start < n; start += BLOCK_ROWS) {
            int m = Math.min(BLOCK_ROWS, n - start);
            double[] block = x;
            if (start != 0 || m != n) {
                System.arraycopy(x, start * d, rows, 0, m * d);
                block = rows;
            }
            current.evaluate(block, m, logDens, post);
            double ll = 0;
            double wsum = 0;
            for (int j = 0; j < m; j++) {
                double w = rowWeights == null ? 1.0 : rowWeights[start + j];
                double l = logDens[j];
                if (!Double.isFinite(l)) {
                    throw new IllegalArgumentException("row " + (start + j) + " has a non-finite log-density (" + l
                            + "): the row is not finite or the mixture is degenerate");
                }
                if (w != 0) {
                    ll += w * l;
                    wsum += w;
                }
            }
            logLikSum += ll;
            logLikWeight += wsum;
            rowWeight += wsum;
            accumulate(block, 0, rowWeights, start, post, m);
        }
        count += n;
        return this;
    }

    /**
     * Adds n rows with hard assignments (responsibility 1 for {@code labels[j]}): the statistics an
     * initialisation by clustering starts EM from. The log-likelihood is not touched.
     *
     * @param labels n component indices in [0, k); not modified
     */
    EmStatistics addAssigned(double[] x, double[] rowWeights, int[] labels, int n) {
        checkRows(x, rowWeights, n);
        ensureScratch();
        for (int start = 0; start < n; start += BLOCK_ROWS) {
            int m = Math.min(BLOCK_ROWS, n - start);
            Arrays.fill(post, 0, m * k, 0.0);
            for (int j = 0; j < m; j++) {
                int label = labels[start + j];
                if (label < 0 || label >= k) {
                    throw new IllegalArgumentException("row " + (start + j) + ": label " + label + " is not in [0, " + k + ")");
                }
                post[j * k + label] = 1.0;
                rowWeight += rowWeights == null ? 1.0 : rowWeights[start + j];
            }
            accumulate(x, start * d, rowWeights, start, post, m);
        }
        count += n;
        return this;
    }

    /**
     * Merges {@code other} into this (Chan's pairwise update per component); {@code other} is not
     * modified. Associative and commutative up to rounding; an empty side is the identity.
     *
     * @return this
     * @throws IllegalArgumentException if the shapes differ
     */
    public EmStatistics merge(EmStatistics other) {
        if (other.k != k || other.d != d) {
            throw new IllegalArgumentException("cannot merge statistics for k = " + other.k + ", d = " + other.d
                    + " into statistics for k = " + k + ", d = " + d);
        }
        if (other == this) {
            throw new IllegalArgumentException("cannot merge statistics into themselves");
        }
        if (other.weight != null) {
            ensureArrays();
            int p = packedSize();
            for (int i = 0; i < k; i++) {
                mergeComponent(i, other.weight[i], other.mean, i * d, other.scatter, i * p, true);
            }
        }
        logLikSum += other.logLikSum;
        logLikWeight += other.logLikWeight;
        rowWeight += other.rowWeight;
        count += other.count;
        return this;
    }

    /**
     * The M-step: weights {@code W_i / sum W}, means, covariances {@code S_i / W_i} with eigenvalues
     * floored at {@code max(reg, 1e-12 * largest)}. A component with less than {@code 1e-12} of the total
     * weight is dead: it gets that weight, the overall mean and the overall floored covariance.
     * Does not modify these statistics.
     *
     * @param reg eigenvalue floor, finite and positive, in the units of the rows' squared coordinates
     * @throws IllegalArgumentException if reg is not finite and positive
     * @throws IllegalStateException    if no positive weight has been accumulated
     */
    public GaussianMixture mStep(double reg) {
        if (!(reg > 0) || !Double.isFinite(reg)) {
            throw new IllegalArgumentException("eigenvalue floor reg must be finite and positive, got " + reg);
        }
        double total = 0;
        if (weight != null) {
            for (int i = 0; i < k; i++) {
                total += weight[i];
            }
        }
        if (!(total > 0)) {
            throw new IllegalStateException("no positive responsibility weight has been accumulated: no M-step is possible");
        }
        int p = packedSize();
        double[] scratch = new double[d * d];
        // The overall mean and scatter, for dead components: the merge of all components.
        EmStatistics all = empty(1, d);
        all.ensureArrays();
        for (int i = 0; i < k; i++) {
            all.mergeComponent(0, weight[i], mean, i * d, scatter, i * p, true);
        }
        double[] overallCov = new double[d * d];
        unpack(all.scatter, 0, d, overallCov);
        scale(overallCov, 1.0 / all.weight[0]);
        EigenFloor.floor(overallCov, d, reg, scratch);

        double[] w = new double[k];
        double[][] mu = new double[k][];
        double[][][] cov = new double[k][][];
        double wsum = 0;
        double[] c = new double[d * d];
        for (int i = 0; i < k; i++) {
            double wi = weight[i];
            if (!(wi >= DEAD_WEIGHT * total)) {
                w[i] = DEAD_WEIGHT;
                mu[i] = Arrays.copyOf(all.mean, d);
                System.arraycopy(overallCov, 0, c, 0, d * d);
            } else {
                w[i] = wi / total;
                mu[i] = Arrays.copyOfRange(mean, i * d, (i + 1) * d);
                unpack(scatter, i * p, d, c);
                scale(c, 1.0 / wi);
                EigenFloor.floor(c, d, reg, scratch);
            }
            wsum += w[i];
            cov[i] = rowsOf(c, d);
        }
        for (int i = 0; i < k; i++) {
            w[i] /= wsum;
        }
        return GaussianMixture.of(w, mu, cov);
    }

    /** Forgets everything added: back to the empty value, keeping allocated space. */
    void clear() {
        if (weight != null) {
            Arrays.fill(weight, 0.0);
            Arrays.fill(mean, 0.0);
            Arrays.fill(scatter, 0.0);
        }
        logLikSum = 0;
        logLikWeight = 0;
        rowWeight = 0;
        count = 0;
    }

    // Adds m rows x[xOff ..] with responsibilities resp (m x k) times the row weights w[wOff ..].
    private void accumulate(double[] x, int xOff, double[] w, int wOff, double[] resp, int m) {
        ensureArrays();
        // Pass 1: per-component responsibility weight and weighted mean of the block.
        Arrays.fill(blockWeight, 0.0);
        Arrays.fill(blockMean, 0.0);
        for (int j = 0; j < m; j++) {
            double wj = w == null ? 1.0 : w[wOff + j];
            if (wj == 0) {
                continue;
            }
            int xr = xOff + j * d;
            int pr = j * k;
            for (int i = 0; i < k; i++) {
                double r = wj * resp[pr + i];
                resp[pr + i] = r;
                if (r == 0) {
                    continue;
                }
                blockWeight[i] += r;
                int mo = i * d;
                for (int c = 0; c < d; c++) {
                    blockMean[mo + c] += r * x[xr + c];
                }
            }
        }
        BLAS blas = Blas.get();
        int p = packedSize();
        for (int i = 0; i < k; i++) {
            double wb = blockWeight[i];
            if (!(wb > 0)) {
                continue;
            }
            int mo = i * d;
            double inv = 1.0 / wb;
            for (int c = 0; c < d; c++) {
                blockMean[mo + c] *= inv;
            }
            // Pass 2: rows sqrt(r_j)(x_j - mean_b), m x d row-major == d x m column-major.
            int used = 0;
            for (int j = 0; j < m; j++) {
                double wj = w == null ? 1.0 : w[wOff + j];
                double r = wj == 0 ? 0.0 : resp[j * k + i];
                if (r == 0) {
                    continue;
                }
                double s = Math.sqrt(r);
                int xr = xOff + j * d;
                int cr = used * d;
                for (int c = 0; c < d; c++) {
                    centred[cr + c] = s * (x[xr + c] - blockMean[mo + c]);
                }
                used++;
            }
            // syrk (column-major d x d, upper) = sum_j y_j y_j^T.
            blas.dsyrk("U", "N", d, used, 1.0, centred, 0, d, 0.0, syrk, 0, d);
            mergeComponent(i, wb, blockMean, mo, syrk, 0, false);
        }
    }

    /**
     * Chan's update of component i with (wb, mean b, scatter b); the scatter is packed when
     * {@code packed}, else the upper triangle of a column-major d x d array.
     */
    private void mergeComponent(int i, double wb, double[] meanB, int mbOff, double[] sb, int sbOff, boolean packed) {
        if (!(wb > 0)) {
            return;
        }
        int p = packedSize();
        int so = i * p;
        int mo = i * d;
        double wa = weight[i];
        double wt = wa + wb;
        double f = wa * wb / wt;
        double g = wb / wt;
        for (int c = 0; c < d; c++) {
            double dc = meanB[mbOff + c] - mean[mo + c];
            int col = so + c * (c + 1) / 2;
            int colB = packed ? sbOff + c * (c + 1) / 2 : sbOff + c * d;
            for (int r = 0; r <= c; r++) {
                double dr = meanB[mbOff + r] - mean[mo + r];
                scatter[col + r] += sb[colB + r] + f * dr * dc;
            }
        }
        for (int c = 0; c < d; c++) {
            mean[mo + c] += g * (meanB[mbOff + c] - mean[mo + c]);
        }
        weight[i] = wt;
    }

    private void checkRows(double[] x, double[] rowWeights, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("number of rows must be non-negative, got " + n);
        }
        if (x.length < (long) n * d) {
            throw new IllegalArgumentException("x holds " + x.length + " values, fewer than n * d = " + n + " * " + d);
        }
        if (rowWeights != null) {
            if (rowWeights.length < n) {
                throw new IllegalArgumentException("rowWeights holds " + rowWeights.length + " values, fewer than n = " + n);
            }
            for (int j = 0; j < n; j++) {
                double w = rowWeights[j];
                if (!(w >= 0) || !Double.isFinite(w)) {
                    throw new IllegalArgumentException("row " + j + ": weight must be finite and non-negative, got " + w);
                }
            }
        }
    }

    private void checkComponent(int i) {
        if (i < 0 || i >= k) {
            throw new IndexOutOfBoundsException("component " + i + " is not in [0, " + k + ")");
        }
    }

    private int packedSize() {
        return d * (d + 1) / 2;
    }

    private void ensureArrays() {
        if (weight == null) {
            weight = new double[k];
            mean = new double[k * d];
            scatter = new double[k * packedSize()];
        }
    }

    private void ensureScratch() {
        if (post == null) {
            post = new double[BLOCK_ROWS * k];
            logDens = new double[BLOCK_ROWS];
            rows = new double[BLOCK_ROWS * d];
            centred = new double[BLOCK_ROWS * d];
            blockMean = new double[k * d];
            blockWeight = new double[k];
            syrk = new double[d * d];
        }
    }

    // Packed upper (by columns) at off -> full symmetric d x d row-major.
    private static void unpack(double[] packed, int off, int d, double[] out) {
        for (int c = 0; c < d; c++) {
            int col = off + c * (c + 1) / 2;
            for (int r = 0; r <= c; r++) {
                double v = packed[col + r];
                out[r * d + c] = v;
                out[c * d + r] = v;
            }
        }
    }

    private static void scale(double[] a, double s) {
        for (int j = 0; j < a.length; j++) {
            a[j] *= s;
        }
    }

    private static double[][] rowsOf(double[] a, int d) {
        double[][] out = new double[d][];
        for (int r = 0; r < d; r++) {
            out[r] = Arrays.copyOfRange(a, r * d, (r + 1) * d);
        }
        return out;
    }

    @Override
    public String toString() {
        return "EmStatistics[k=" + k + ", d=" + d + ", rows=" + count + ", weight=" + rowWeight + "]";
    }
}
