package io.scoremix.core.linalg;

/**
 * Dense Cholesky factorisation and triangular helpers on flat row-major arrays ({@code a[i*n + j]}).
 *
 * <p>Failure is data, not an exception: {@link #factor} returns the index of the pivot that was not
 * positive, so callers can report it or fall back (more ridge, an eigen-decomposition).
 */
public final class Cholesky {

    /** Returned by {@link #factor} on success. */
    public static final int OK = -1;

    private Cholesky() {
    }

    /**
     * Factors the symmetric matrix {@code a} (n x n, row-major, only the lower triangle is read) as
     * {@code L L^T}.
     *
     * @param l receives L (n x n row-major, upper triangle zeroed); may be the same array as {@code a}
     * @return {@link #OK}, or the index of the first pivot that was not positive and finite
     */
    public static int factor(double[] a, int n, double[] l) {
        // Column-by-column Cholesky-Banachiewicz; row offsets hoisted.
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int j = 0; j <= i; j++) {
                int rj = j * n;
                double s = a[ri + j];
                for (int m = 0; m < j; m++) {
                    s -= l[ri + m] * l[rj + m];
                }
                if (i == j) {
                    if (!(s > 0) || !Double.isFinite(s)) {
                        return i;
                    }
                    l[ri + i] = Math.sqrt(s);
                } else {
                    l[ri + j] = s / l[rj + j];
                }
            }
            for (int j = i + 1; j < n; j++) {
                l[ri + j] = 0.0;
            }
        }
        return OK;
    }

    /** log det(A) = 2 sum log L_ii for a Cholesky factor L (n x n row-major). */
    public static double logDet(double[] l, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.log(l[i * n + i]);
        }
        return 2 * s;
    }

    /**
     * The inverse of the lower-triangular L (n x n row-major), itself lower triangular.
     *
     * @param out receives L^{-1} (row-major); must not alias {@code l}
     */
    public static void invertLower(double[] l, int n, double[] out) {
        java.util.Arrays.fill(out, 0, n * n, 0.0);
        // Forward substitution, one column of the identity at a time: L x = e_j.
        for (int j = 0; j < n; j++) {
            for (int i = j; i < n; i++) {
                double s = i == j ? 1.0 : 0.0;
                int ri = i * n;
                for (int m = j; m < i; m++) {
                    s -= l[ri + m] * out[m * n + j];
                }
                out[ri + j] = s / l[ri + i];
            }
        }
    }

    /**
     * Solves {@code A x = b} in place for the factor L of A: forward then backward substitution.
     *
     * @param b right-hand side of length n; overwritten with x
     */
    public static void solve(double[] l, int n, double[] b) {
        for (int i = 0; i < n; i++) {
            double s = b[i];
            int ri = i * n;
            for (int m = 0; m < i; m++) {
                s -= l[ri + m] * b[m];
            }
            b[i] = s / l[ri + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double s = b[i];
            for (int m = i + 1; m < n; m++) {
                s -= l[m * n + i] * b[m];
            }
            b[i] = s / l[i * n + i];
        }
    }
}
