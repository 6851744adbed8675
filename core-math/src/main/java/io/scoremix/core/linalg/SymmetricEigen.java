package io.scoremix.core.linalg;

import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * Eigen-decomposition {@code A = V diag(w) V^T} of a real symmetric matrix through LAPACK's dsyevr
 * (relatively robust representations), on flat arrays.
 *
 * <p>Failure is data: {@link #decompose} returns LAPACK's {@code info} instead of throwing.
 */
public final class SymmetricEigen {

    /** Returned by {@link #decompose} on success. */
    public static final int OK = 0;

    private SymmetricEigen() {
    }

    /**
     * Decomposes the symmetric n x n matrix {@code a} (row-major; both triangles must hold the same
     * values, only one is read).
     *
     * @param a           n x n symmetric matrix; not modified (a copy is decomposed)
     * @param eigenvalues receives the n eigenvalues in ascending order; modified
     * @param vectors     receives the orthonormal eigenvectors as rows: {@code vectors[k*n + i]} is
     *                    component i of the eigenvector of {@code eigenvalues[k]}; modified
     * @return {@link #OK}, or LAPACK's positive {@code info} when the iteration failed, or -1 when the
     *         matrix has a non-finite entry (LAPACK is not called)
     */
    public static int decompose(double[] a, int n, double[] eigenvalues, double[] vectors) {
        if (n == 0) {
            return OK;
        }
        double[] work = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            if (!Double.isFinite(a[i])) {
                return -1;
            }
            work[i] = a[i];
        }
        LAPACK lapack = LAPACK.getInstance();
        intW m = new intW(0);
        intW info = new intW(0);
        int[] isuppz = new int[2 * n];
        // Workspace query, then the decomposition. Column-major Z (n x n) with eigenvector k in column k
        // is exactly the row layout promised above.
        double[] wq = new double[1];
        int[] iq = new int[1];
        lapack.dsyevr("V", "A", "L", n, work, n, 0.0, 0.0, 0, 0, 0.0, m, eigenvalues, vectors, n, isuppz,
                wq, -1, iq, -1, info);
        if (info.val != 0) {
            return info.val;
        }
        int lwork = Math.max(26 * n, (int) wq[0]);
        int liwork = Math.max(10 * n, iq[0]);
        lapack.dsyevr("V", "A", "L", n, work, n, 0.0, 0.0, 0, 0, 0.0, m, eigenvalues, vectors, n, isuppz,
                new double[lwork], lwork, new int[liwork], liwork, info);
        return info.val;
    }
}
