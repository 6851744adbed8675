package io.scoremix.core.mixture;

import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * Eigen-decomposition of small dense symmetric matrices through LAPACK {@code dsyev}, and the
 * eigenvalue floor the crude mixture applies to covariances.
 *
 * <p>Package-private helper of the crude mixture; if a shared symmetric eigensolver lands in
 * {@code core.linalg} this class should defer to it.
 */
final class SymmetricEigen {

    /**
     * Eigenvalues smaller than this fraction of the largest are raised to it by {@link #floor}, whatever
     * the requested floor: it keeps the floored matrix safely positive definite for Cholesky in double
     * precision.
     */
    static final double RELATIVE_FLOOR = 1e-12;

    private SymmetricEigen() {
    }

    /**
     * Decomposes the symmetric d x d matrix {@code a} (row-major; both triangles must hold the matrix)
     * as {@code V diag(values) V^T}.
     *
     * @param a      overwritten: row c holds the unit eigenvector of {@code values[c]}
     * @param values receives the d eigenvalues in ascending order; modified
     * @throws IllegalStateException if LAPACK reports non-convergence or a non-finite input
     */
    static void decompose(double[] a, int d, double[] values) {
        for (int j = 0; j < d * d; j++) {
            if (!Double.isFinite(a[j])) {
                throw new IllegalStateException("symmetric eigen-decomposition: entry " + j + " is not finite (" + a[j] + ")");
            }
        }
        LAPACK lapack = LAPACK.getInstance();
        intW info = new intW(0);
        double[] query = new double[1];
        lapack.dsyev("V", "U", d, a, Math.max(1, d), values, query, -1, info);
        int lwork = Math.max(1, (int) query[0]);
        double[] work = new double[lwork];
        info.val = 0;
        // Symmetric input: row-major and column-major are the same matrix; eigenvector c comes back as
        // column c (column-major), which is row c in our row-major view.
        lapack.dsyev("V", "U", d, a, Math.max(1, d), values, work, lwork, info);
        if (info.val != 0) {
            throw new IllegalStateException("symmetric eigen-decomposition failed (LAPACK dsyev info " + info.val + ")");
        }
    }

    /**
     * Floors the eigenvalues of the symmetric d x d matrix {@code a} at
     * {@code max(floor, RELATIVE_FLOOR * largest eigenvalue)}. The matrix is left untouched, bit for bit,
     * when no eigenvalue is below that level; otherwise it is rebuilt as {@code V diag(max(l, f)) V^T},
     * exactly symmetric.
     *
     * @param a       d x d, row-major; modified in place
     * @param scratch at least d * d doubles; modified
     * @return the number of eigenvalues that were raised
     */
    static int floor(double[] a, int d, double floor, double[] scratch) {
        int dd = d * d;
        System.arraycopy(a, 0, scratch, 0, dd);
        double[] values = new double[d];
        decompose(scratch, d, values);
        double level = Math.max(floor, RELATIVE_FLOOR * Math.max(0.0, values[d - 1]));
        if (!(level > 0)) {
            level = floor;
        }
        int raised = 0;
        for (int c = 0; c < d; c++) {
            if (values[c] < level) {
                values[c] = level;
                raised++;
            }
        }
        if (raised == 0) {
            return 0;
        }
        // a = sum_c values[c] v_c v_c^T, v_c = row c of scratch; filled symmetric from the upper triangle.
        for (int r = 0; r < d; r++) {
            for (int s = r; s < d; s++) {
                double acc = 0;
                for (int c = 0; c < d; c++) {
                    acc += values[c] * scratch[c * d + r] * scratch[c * d + s];
                }
                a[r * d + s] = acc;
                a[s * d + r] = acc;
            }
        }
        return raised;
    }
}
