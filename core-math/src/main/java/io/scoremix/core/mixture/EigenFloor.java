package io.scoremix.core.mixture;

import io.scoremix.core.linalg.SymmetricEigen;

/**
 * The eigenvalue floor the crude mixture applies to covariances (ALGORITHM.md section 4.2; STYLE.md
 * item 5), through {@link SymmetricEigen}.
 */
final class EigenFloor {

    /**
     * Eigenvalues smaller than this fraction of the largest are raised to it by {@link #floor}, whatever
     * the requested floor: it keeps the floored matrix safely positive definite for Cholesky in double
     * precision.
     */
    static final double RELATIVE_FLOOR = 1e-12;

    private EigenFloor() {
    }

    /**
     * Decomposes the symmetric d x d matrix {@code a} (row-major, both triangles filled).
     *
     * @param vectors receives the unit eigenvectors as rows, in the order of {@code values}; modified
     * @param values  receives the eigenvalues in ascending order; modified
     * @throws IllegalStateException if the decomposition fails (non-finite entry or no convergence)
     */
    static void decompose(double[] a, int d, double[] values, double[] vectors) {
        int info = SymmetricEigen.decompose(a, d, values, vectors);
        if (info != SymmetricEigen.OK) {
            throw new IllegalStateException("symmetric eigen-decomposition failed (LAPACK info " + info
                    + (info == -1 ? ": non-finite entry" : "") + ")");
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
        double[] values = new double[d];
        decompose(a, d, values, scratch);
        double level = Math.max(floor, RELATIVE_FLOOR * Math.max(0.0, values[d - 1]));
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
        // a = sum_c values[c] v_c v_c^T, v_c = row c of scratch; mirrored from the upper triangle.
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
