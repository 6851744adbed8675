package io.scoremix.core.mixture;

import dev.ludovic.netlib.blas.BLAS;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.linalg.SymmetricEigen;

import java.io.Serializable;

/**
 * The standardisation of ALGORITHM.md section 4.1: {@code z = W (x - m)} with the symmetric
 * {@code W = C^{-1/2}}, and its inverse {@code x = W^{-1} z + m}. Immutable and thread-safe;
 * Serializable so Spark can broadcast it (in flight only, never as a file format).
 *
 * <p>Eigenvalue floor. With {@code C = V diag(c) V^T}, every eigenvalue below {@code floor * max(c)} is
 * raised to {@code floor * max(c)} before taking {@code c^{-1/2}}; {@link #flooredCount()} says how many
 * were. A direction of zero variance (a constant column, collinear columns) is therefore floored, not an
 * error: the data have z = 0 along it, the whitened problem stays well posed, and the inverse maps any
 * generated spread along it back to a spread of order {@code sqrt(floor * max(c))}, which is what
 * "(almost) no variance" means at the scale of the data. Only a covariance with no positive eigenvalue
 * (all rows identical, or a single row) or with a non-finite entry is rejected, because it carries no
 * scale to floor against.
 *
 * <p>Block methods take points flat and row-major: {@code x[j*d + r]} is coordinate r of point j.
 *
 * <p>Implementation notes. The eigen-decomposition is LAPACK dsyevr; {@code W = V diag(c^{-1/2}) V^T} and
 * {@code W^{-1} = V diag(c^{1/2}) V^T} are formed once, explicitly symmetrised. {@code apply} centres a
 * chunk of rows before the product (forming {@code W x - W m} instead would cancel catastrophically for
 * data far from the origin), then multiplies the chunk by W with one dgemm.
 * {@code log|det W| = -1/2 sum log c_floored}. Densities transform by the change of variables
 * {@code p_z(z) = p_x(x) / |det W|}.
 */
public final class Whitening implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Default relative eigenvalue floor. */
    public static final double DEFAULT_FLOOR = 1e-10;
    /** Points per internal chunk of the block methods: bounds scratch at {@code CHUNK * d} doubles. */
    private static final int CHUNK = 256;

    private final int d;
    private final double[] mean;        // d
    private final double[] w;           // d x d, symmetric, C^{-1/2}
    private final double[] wInv;        // d x d, symmetric, C^{1/2}
    private final double[] eigenvalues; // d ascending, as decomposed (before the floor)
    private final double floor;
    private final int floored;
    private final double logDet;        // log |det W|

    private Whitening(int d, double[] mean, double[] w, double[] wInv, double[] eigenvalues, double floor,
                      int floored, double logDet) {
        this.d = d;
        this.mean = mean;
        this.w = w;
        this.wInv = wInv;
        this.eigenvalues = eigenvalues;
        this.floor = floor;
        this.floored = floored;
        this.logDet = logDet;
    }

    /** The whitening of an accumulator's mean and (biased) covariance, with {@link #DEFAULT_FLOOR}. */
    public static Whitening of(Moments moments) {
        return of(moments.mean(), moments.covariance(), DEFAULT_FLOOR);
    }

    /**
     * The whitening for a mean and covariance.
     *
     * @param mean       length d, finite; copied
     * @param covariance d x d row-major, finite, symmetric within 1e-9 of its largest entry (it is then
     *                   symmetrised); copied
     * @param floor      relative eigenvalue floor in [0, 1); 0 means no floor, in which case any
     *                   non-positive eigenvalue is an error
     * @throws IllegalArgumentException naming the bad argument; also if the covariance has no positive
     *                                  eigenvalue, or (floor 0) is singular, or the decomposition fails
     */
    public static Whitening of(double[] mean, double[] covariance, double floor) {
        if (mean == null || mean.length == 0) {
            throw new IllegalArgumentException("mean must have at least one coordinate");
        }
        int d = mean.length;
        if (covariance == null || covariance.length != d * d) {
            throw new IllegalArgumentException("covariance must have d*d = " + d * d + " entries, got "
                    + (covariance == null ? 0 : covariance.length));
        }
        if (!(floor >= 0 && floor < 1)) {
            throw new IllegalArgumentException("eigenvalue floor must be in [0, 1), got " + floor);
        }
        double scale = 0;
        for (int r = 0; r < d; r++) {
            if (!Double.isFinite(mean[r])) {
                throw new IllegalArgumentException("mean[" + r + "] is not finite (" + mean[r] + ")");
            }
        }
        for (int i = 0; i < d * d; i++) {
            if (!Double.isFinite(covariance[i])) {
                throw new IllegalArgumentException("covariance[" + i / d + "][" + i % d + "] is not finite ("
                        + covariance[i] + ")");
            }
            scale = Math.max(scale, Math.abs(covariance[i]));
        }
        double[] c = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int s = 0; s <= r; s++) {
                double a = covariance[r * d + s];
                double b = covariance[s * d + r];
                if (Math.abs(a - b) > 1e-9 * scale) {
                    throw new IllegalArgumentException("covariance is not symmetric: [" + r + "][" + s + "] = " + a
                            + " but [" + s + "][" + r + "] = " + b);
                }
                c[r * d + s] = 0.5 * (a + b);
                c[s * d + r] = 0.5 * (a + b);
            }
        }
        double[] lam = new double[d];
        double[] vt = new double[d * d];
        int info = SymmetricEigen.decompose(c, d, lam, vt);
        if (info != SymmetricEigen.OK) {
            throw new IllegalArgumentException("eigen-decomposition of the covariance failed (LAPACK info " + info + ")");
        }
        double max = lam[d - 1];
        if (!(max > 0)) {
            throw new IllegalArgumentException("covariance has no positive eigenvalue (largest " + max
                    + "): the data have no spread (identical rows or a single row), so there is no scale to whiten by");
        }
        double lo = floor * max;
        int floored = 0;
        double[] inv = new double[d];
        double[] sq = new double[d];
        double logDet = 0;
        for (int k = 0; k < d; k++) {
            double v = lam[k];
            if (v < lo || (floor == 0 && !(v > 0))) {
                if (floor == 0) {
                    throw new IllegalArgumentException("covariance is singular (eigenvalue " + v + " of largest "
                            + max + ") and no eigenvalue floor was requested");
                }
                v = lo;
                floored++;
            }
            inv[k] = 1.0 / Math.sqrt(v);
            sq[k] = Math.sqrt(v);
            logDet -= 0.5 * Math.log(v);
        }
        return new Whitening(d, mean.clone(), compose(vt, inv, d), compose(vt, sq, d), lam, floor, floored, logDet);
    }

    /**
     * Restores a saved whitening exactly (model loading): the matrices are taken as given, not recomputed,
     * so a loaded model evaluates bit for bit like the saved one.
     *
     * @throws IllegalArgumentException on a shape mismatch or a non-finite entry
     */
    public static Whitening restore(double[] mean, double[] matrix, double[] inverseMatrix, double[] eigenvalues,
                                    double floor, int flooredCount, double logAbsDetW) {
        int d = mean.length;
        if (d == 0 || matrix.length != d * d || inverseMatrix.length != d * d || eigenvalues.length != d) {
            throw new IllegalArgumentException("whitening of dimension " + d + " needs d*d matrices and d eigenvalues, got "
                    + matrix.length + ", " + inverseMatrix.length + " and " + eigenvalues.length);
        }
        for (double[] a : new double[][] {mean, matrix, inverseMatrix, eigenvalues}) {
            for (double v : a) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("whitening has a non-finite entry (" + v + ")");
                }
            }
        }
        if (!Double.isFinite(logAbsDetW) || !(floor >= 0 && floor < 1) || flooredCount < 0 || flooredCount > d) {
            throw new IllegalArgumentException("whitening has a bad floor (" + floor + "), floored count ("
                    + flooredCount + ") or log-determinant (" + logAbsDetW + ")");
        }
        return new Whitening(d, mean.clone(), matrix.clone(), inverseMatrix.clone(), eigenvalues.clone(), floor,
                flooredCount, logAbsDetW);
    }

    /** {@code V diag(f) V^T} for eigenvectors stored as rows of vt, symmetrised exactly. */
    private static double[] compose(double[] vt, double[] f, int d) {
        double[] out = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int s = 0; s <= r; s++) {
                double acc = 0;
                for (int k = 0; k < d; k++) {
                    acc += vt[k * d + r] * f[k] * vt[k * d + s];
                }
                out[r * d + s] = acc;
                out[s * d + r] = acc;
            }
        }
        return out;
    }

    /** The dimension d. */
    public int dimension() {
        return d;
    }

    /** A copy of the centre m. */
    public double[] mean() {
        return mean.clone();
    }

    /** A copy of W = C^{-1/2} (floored), d x d row-major, symmetric. */
    public double[] matrix() {
        return w.clone();
    }

    /** A copy of W^{-1} = C^{1/2} (floored), d x d row-major, symmetric. */
    public double[] inverseMatrix() {
        return wInv.clone();
    }

    /** A copy of the covariance's eigenvalues as decomposed, ascending, before the floor. */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    /** The relative floor this whitening was built with. */
    public double floor() {
        return floor;
    }

    /** How many eigenvalues were raised to the floor. */
    public int flooredCount() {
        return floored;
    }

    /** {@code log |det W|}: add it to a log-density in x to get the log-density of z = W(x - m). */
    public double logAbsDetW() {
        return logDet;
    }

    /**
     * Whitens n points: {@code z_j = W (x_j - m)}.
     *
     * @param x   n x d points; not modified unless {@code out == x}
     * @param out receives n x d whitened points; may be {@code x} (in place)
     */
    public void apply(double[] x, int n, double[] out) {
        checkBlock(x, n, out);
        BLAS blas = Blas.get();
        double[] c = new double[Math.min(n, CHUNK) * d];
        for (int start = 0; start < n; start += CHUNK) {
            int m = Math.min(CHUNK, n - start);
            int o = start * d;
            // Shape: c is m x d row-major == d x m column-major; W symmetric so row/column order agree.
            for (int j = 0; j < m * d; j += d) {
                for (int r = 0; r < d; r++) {
                    c[j + r] = x[o + j + r] - mean[r];
                }
            }
            blas.dgemm("N", "N", d, m, d, 1.0, w, 0, d, c, 0, d, 0.0, out, o, d);
        }
    }

    /**
     * Maps n whitened points back: {@code x_j = W^{-1} z_j + m}.
     *
     * @param z   n x d whitened points; not modified unless {@code out == z}
     * @param out receives n x d points; may be {@code z} (in place)
     */
    public void invert(double[] z, int n, double[] out) {
        checkBlock(z, n, out);
        BLAS blas = Blas.get();
        double[] c = new double[Math.min(n, CHUNK) * d];
        for (int start = 0; start < n; start += CHUNK) {
            int m = Math.min(CHUNK, n - start);
            int o = start * d;
            System.arraycopy(z, o, c, 0, m * d);
            blas.dgemm("N", "N", d, m, d, 1.0, wInv, 0, d, c, 0, d, 0.0, out, o, d);
            for (int j = 0; j < m * d; j += d) {
                for (int r = 0; r < d; r++) {
                    out[o + j + r] += mean[r];
                }
            }
        }
    }

    private void checkBlock(double[] x, int n, double[] out) {
        long len = (long) n * d;
        if (n < 0 || x.length < len || out.length < len) {
            throw new IllegalArgumentException(n + " points of dimension " + d + " need arrays of length " + len
                    + ", got " + x.length + " in and " + out.length + " out");
        }
    }

    /**
     * The mixture in whitened coordinates: weights kept, means {@code W (mu_i - m)}, covariances
     * {@code W Q_i W^T}. Its log-density at {@code W(x - m)} is the original's at x minus {@link #logAbsDetW()}.
     *
     * @throws IllegalArgumentException if the dimensions differ
     */
    public GaussianMixture toWhitened(GaussianMixture mixture) {
        return affine(mixture, w, true);
    }

    /**
     * The mixture in data coordinates for one in whitened coordinates: means {@code W^{-1} mu_i + m},
     * covariances {@code W^{-1} Q_i W^{-1}}.
     *
     * @throws IllegalArgumentException if the dimensions differ
     */
    public GaussianMixture fromWhitened(GaussianMixture mixture) {
        return affine(mixture, wInv, false);
    }

    private GaussianMixture affine(GaussianMixture g, double[] a, boolean whiten) {
        if (g.dimension() != d) {
            throw new IllegalArgumentException("mixture has dimension " + g.dimension() + ", whitening has " + d);
        }
        int k = g.components();
        double[][] means = new double[k][];
        double[][][] covs = new double[k][][];
        double[] aq = new double[d * d];
        for (int i = 0; i < k; i++) {
            double[] mu = g.mean(i);
            double[] v = new double[d];
            for (int r = 0; r < d; r++) {
                v[r] = whiten ? mu[r] - mean[r] : mu[r];
            }
            double[] nm = new double[d];
            for (int r = 0; r < d; r++) {
                double s = whiten ? 0 : mean[r];
                for (int c = 0; c < d; c++) {
                    s += a[r * d + c] * v[c];
                }
                nm[r] = s;
            }
            means[i] = nm;
            double[][] q = g.covariance(i);
            // aq = A Q (d x d), then A Q A^T symmetrised.
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    double s = 0;
                    for (int m = 0; m < d; m++) {
                        s += a[r * d + m] * q[m][c];
                    }
                    aq[r * d + c] = s;
                }
            }
            double[][] nq = new double[d][d];
            for (int r = 0; r < d; r++) {
                for (int c = 0; c <= r; c++) {
                    double s = 0;
                    for (int m = 0; m < d; m++) {
                        s += aq[r * d + m] * a[c * d + m];
                    }
                    nq[r][c] = s;
                    nq[c][r] = s;
                }
            }
            covs[i] = nq;
        }
        return GaussianMixture.of(g.weights(), means, covs);
    }

    @Override
    public String toString() {
        return "Whitening[d=" + d + ", floored=" + floored + ", log|det W|=" + logDet + "]";
    }
}
