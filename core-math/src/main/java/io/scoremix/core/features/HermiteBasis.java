package io.scoremix.core.features;

import java.util.ArrayList;
import java.util.List;

/**
 * All products {@code prod_r He_{a_r}(u_r)} of probabilists' Hermite polynomials over multi-indices
 * {@code a} of total degree {@code <= l} in m variables, in graded order (degree 0, then 1, ...; inside
 * a degree, lexicographic). {@code C(m + l, l)} terms.
 *
 * <p>Implementation notes. {@code He_0 = 1, He_1 = u, He_{j+1} = u He_j - j He_{j-1}}; under N(0, 1)
 * {@code E[He_a He_b] = a! delta_ab}, so standardised inputs give a well-conditioned Gram matrix. Each
 * multi-index is stored as its parent (the same index with its last non-zero coordinate set to zero,
 * which has lower degree and so comes earlier) times one univariate factor {@code He_{a_r}(u_r)}, so a
 * term costs one multiply given the table of univariate values.
 */
final class HermiteBasis {

    final int m;
    final int degree;
    final int size;
    /** Parent term index of each term (-1 for the constant). */
    final int[] parent;
    /** Coordinate and power of the last factor of each term. */
    final int[] coord;
    final int[] power;
    /** prefix[l] = number of terms of degree <= l. */
    final int[] prefix;
    /** Full multi-indices, term-major (size x m), for derivatives. */
    final int[] exponents;
    /** Whether a term is the parent of another (and must be kept while later terms are formed). */
    final boolean[] isParent;

    HermiteBasis(int m, int degree) {
        if (m < 1) {
            throw new IllegalArgumentException("number of variables must be at least 1, got " + m);
        }
        if (degree < 0) {
            throw new IllegalArgumentException("degree must be non-negative, got " + degree);
        }
        this.m = m;
        this.degree = degree;
        List<int[]> terms = new ArrayList<>();
        prefix = new int[degree + 1];
        for (int l = 0; l <= degree; l++) {
            enumerate(new int[m], 0, l, terms);
            prefix[l] = terms.size();
        }
        size = terms.size();
        parent = new int[size];
        coord = new int[size];
        power = new int[size];
        exponents = new int[size * m];
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int t = 0; t < size; t++) {
            int[] a = terms.get(t);
            System.arraycopy(a, 0, exponents, t * m, m);
            index.put(java.util.Arrays.toString(a), t);
        }
        for (int t = 0; t < size; t++) {
            int[] a = terms.get(t).clone();
            int last = -1;
            for (int r = m - 1; r >= 0; r--) {
                if (a[r] != 0) {
                    last = r;
                    break;
                }
            }
            if (last < 0) {
                parent[t] = -1;
                continue;
            }
            coord[t] = last;
            power[t] = a[last];
            a[last] = 0;
            parent[t] = index.get(java.util.Arrays.toString(a));
        }
        isParent = new boolean[size];
        for (int t = 1; t < size; t++) {
            isParent[parent[t]] = true;
        }
    }

    /** Multi-indices of total degree exactly {@code remaining} over coordinates {@code from..m-1}, lexicographic. */
    private void enumerate(int[] a, int from, int remaining, List<int[]> out) {
        if (from == m - 1) {
            a[from] = remaining;
            out.add(a.clone());
            a[from] = 0;
            return;
        }
        for (int e = remaining; e >= 0; e--) {
            a[from] = e;
            enumerate(a, from + 1, remaining - e, out);
        }
        a[from] = 0;
    }

    /**
     * Univariate table {@code table[r*(l+1) + j] = He_j(u_r)} for one point.
     *
     * @param u     m inputs starting at {@code uOff}
     * @param table receives m x (l + 1) values; modified
     */
    void univariate(double[] u, int uOff, double[] table) {
        int w = degree + 1;
        for (int r = 0; r < m; r++) {
            double x = u[uOff + r];
            int o = r * w;
            table[o] = 1.0;
            if (degree >= 1) {
                table[o + 1] = x;
            }
            for (int j = 1; j < degree; j++) {
                table[o + j + 1] = x * table[o + j] - j * table[o + j - 1];
            }
        }
    }

    /** Terms of one point from its univariate table, into {@code out[off .. off+size)}. */
    void terms(double[] table, double[] out, int off) {
        int w = degree + 1;
        out[off] = 1.0;
        for (int t = 1; t < size; t++) {
            out[off + t] = out[off + parent[t]] * table[coord[t] * w + power[t]];
        }
    }

    /**
     * Column scratch for {@link #termColumns}: the univariate table of a run of points as one column per
     * (variable, power), and a column for every term that is the parent of another.
     */
    final class Columns {
        /** {@code table[r * (l + 1) + j][i] = He_j(u_r)} of point i; the caller fills {@link #input}. */
        final double[][] table;
        /** Term columns in use: a parent's own column, or the table column a one-factor term equals. */
        final double[][] values;
        /** The column of the term being handed on when it is nobody's parent. */
        final double[] leaf;

        Columns(int rows) {
            int w = degree + 1;
            double[] ones = new double[rows];
            java.util.Arrays.fill(ones, 1.0);
            table = new double[m * w][];
            for (int r = 0; r < m; r++) {
                table[r * w] = ones;
                for (int j = 1; j < w; j++) {
                    table[r * w + j] = new double[rows];
                }
            }
            values = new double[size][];
            values[0] = ones;
            for (int t = 1; t < size; t++) {
                if (parent[t] == 0) {
                    // 1.0 * x == x exactly: a one-factor term is its table column.
                    values[t] = table[coord[t] * w + power[t]];
                } else if (isParent[t]) {
                    values[t] = new double[rows];
                }
            }
            leaf = new double[rows];
        }

        /** The column to fill with the variable u_r of the run's points (when the degree is at least 1). */
        double[] input(int r) {
            return table[r * (degree + 1) + 1];
        }
    }

    /**
     * Terms of a run of points column by column, the same operations per point as {@link #univariate}
     * and {@link #terms} (so bit-for-bit equal): the univariate powers by the recursion over columns, then
     * term t as its parent's column times one univariate column, handed to {@code sink} in term order.
     *
     * @param cols scratch made for at least {@code rows} rows, with the inputs u_r filled in; modified
     */
    void termColumns(Columns cols, int rows, FeatureColumns.Sink sink) {
        int w = degree + 1;
        double[][] table = cols.table;
        for (int r = 0; r < m && degree >= 2; r++) {
            // He_{j+1} = u He_j - j He_{j-1}, over the run.
            double[] x = table[r * w + 1];
            for (int j = 1; j < degree; j++) {
                double[] h0 = table[r * w + j - 1];
                double[] h1 = table[r * w + j];
                double[] h2 = table[r * w + j + 1];
                double jj = j;
                for (int i = 0; i < rows; i++) {
                    h2[i] = x[i] * h1[i] - jj * h0[i];
                }
            }
        }
        double[][] values = cols.values;
        sink.column(0, values[0]);
        for (int t = 1; t < size; t++) {
            double[] v = values[t];
            if (parent[t] != 0) {
                if (v == null) {
                    v = cols.leaf;
                }
                FeatureColumns.product(values[parent[t]], table[coord[t] * w + power[t]], v, rows);
            }
            sink.column(t, v);
        }
    }

    /**
     * Partial derivative of term t with respect to u_r for one point: {@code a_r He_{a_r - 1}(u_r)
     * prod_{s != r} He_{a_s}(u_s)} (since {@code He_j' = j He_{j-1}}).
     */
    double partial(double[] table, int t, int r) {
        int w = degree + 1;
        int ar = exponents[t * m + r];
        if (ar == 0) {
            return 0.0;
        }
        double v = ar * table[r * w + ar - 1];
        for (int s = 0; s < m; s++) {
            if (s != r) {
                v *= table[s * w + exponents[t * m + s]];
            }
        }
        return v;
    }
}
