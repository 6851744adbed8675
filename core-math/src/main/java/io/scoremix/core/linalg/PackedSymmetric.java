package io.scoremix.core.linalg;

/**
 * Packed storage of symmetric n x n matrices: the lower triangle, row by row, so entry (i, j) with
 * {@code j <= i} sits at {@code i*(i+1)/2 + j} and the array has {@code n*(n+1)/2} entries.
 *
 * <p>This is the same memory as the column-major upper-packed layout of BLAS/LAPACK ({@code uplo = "U"},
 * e.g. {@code dspmv("U", ...)}). Its useful property: the leading m x m principal submatrix is the prefix
 * of length {@code m*(m+1)/2}, so features ordered by degree make every lower degree a packed prefix.
 */
public final class PackedSymmetric {

    private PackedSymmetric() {
    }

    /** Number of packed entries of an n x n symmetric matrix, {@code n*(n+1)/2}. */
    public static int size(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("matrix order must be non-negative, got " + n);
        }
        long s = (long) n * (n + 1) / 2;
        if (s > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a packed " + n + " x " + n + " matrix does not fit in one array");
        }
        return (int) s;
    }

    /** Packed index of entry (i, j), in either order. */
    public static int index(int i, int j) {
        return i >= j ? i * (i + 1) / 2 + j : j * (j + 1) / 2 + i;
    }

    /**
     * Packs the lower triangle of the row-major n x n matrix {@code full} (the upper triangle is not read).
     *
     * @param packed receives {@code size(n)} entries; modified
     */
    public static void pack(double[] full, int n, double[] packed) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            System.arraycopy(full, i * n, packed, k, i + 1);
            k += i + 1;
        }
    }

    /**
     * Unpacks the leading m x m principal submatrix of a packed matrix (m no larger than its order) into
     * a full symmetric row-major array.
     *
     * @param out receives m x m entries, both triangles; modified
     */
    public static void unpack(double[] packed, int m, double[] out) {
        int k = 0;
        for (int i = 0; i < m; i++) {
            int ri = i * m;
            for (int j = 0; j <= i; j++) {
                double v = packed[k++];
                out[ri + j] = v;
                out[j * m + i] = v;
            }
        }
    }

    /** Trace of the leading m x m principal submatrix of a packed matrix. */
    public static double trace(double[] packed, int m) {
        double s = 0;
        for (int i = 0; i < m; i++) {
            s += packed[i * (i + 1) / 2 + i];
        }
        return s;
    }
}
