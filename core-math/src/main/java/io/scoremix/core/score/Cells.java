package io.scoremix.core.score;

import io.scoremix.core.linalg.Cholesky;
import io.scoremix.core.mixture.GaussianMixture;

import java.util.Arrays;

/**
 * The cells of one learned level (ALGORITHM.md section 4.3, CKS Algorithm 5 without the brute force):
 * components of the noised crude mixture {@code M_t} are merged by single linkage while their overlap says
 * they are not separable; a point belongs to the cell of its maximum-likelihood component
 * ({@code argmax_i log lambda_i + log N(x; m_i, S_i)}, the paper's own test); a Mahalanobis gate says
 * where the cell's polynomial is trusted, and outside it the crude sub-mixture score of the cell is used.
 * Immutable.
 *
 * <p>Implementation notes. Separability is the Bhattacharyya distance
 * {@code D_B = 1/8 dm^T S^{-1} dm + 1/2 log(det S / sqrt(det S_i det S_j))}, {@code S = (S_i + S_j) / 2}:
 * the Bhattacharyya coefficient {@code exp(-D_B)} bounds the overlap of the two densities, so
 * {@code D_B > maxOverlapDistance} means the two can be told apart by a likelihood-ratio test with error
 * below {@code exp(-maxOverlapDistance)}. At large t every pair overlaps and there is a single cell.
 * The gate keeps a point when its smallest squared Mahalanobis distance to a component of its cell is at
 * most {@code (sqrt(d) + gateWidth)^2}: the chi-square(d) tail beyond that is below
 * {@code exp(-gateWidth^2 / 2)} (Laurent and Massart, 2000).
 */
public final class Cells {

    private final GaussianMixture mixture;
    private final int[] cellOf;          // component -> cell
    private final int cellCount;
    private final GaussianMixture[] subMixtures;
    private final double gateRadius2;

    private Cells(GaussianMixture mixture, int[] cellOf, int cellCount, double gateRadius2) {
        this.mixture = mixture;
        this.cellOf = cellOf;
        this.cellCount = cellCount;
        this.gateRadius2 = gateRadius2;
        this.subMixtures = new GaussianMixture[cellCount];
        for (int c = 0; c < cellCount; c++) {
            subMixtures[c] = subMixture(mixture, cellOf, c);
        }
    }

    /**
     * Cells of {@code noisedCrude} by single linkage on the Bhattacharyya distance.
     *
     * @param maxOverlapDistance components closer than this (in D_B) share a cell; e.g. 5
     * @param gateWidth          gate radius beyond sqrt(d) in Mahalanobis units; infinite disables the gate
     */
    public static Cells of(GaussianMixture noisedCrude, double maxOverlapDistance, double gateWidth) {
        if (!(maxOverlapDistance >= 0)) {
            throw new IllegalArgumentException("maxOverlapDistance must be non-negative, got " + maxOverlapDistance);
        }
        if (!(gateWidth > 0)) {
            throw new IllegalArgumentException("gateWidth must be positive, got " + gateWidth);
        }
        int k = noisedCrude.components();
        int[] parent = new int[k];
        for (int i = 0; i < k; i++) {
            parent[i] = i;
        }
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                if (bhattacharyya(noisedCrude, i, j) < maxOverlapDistance) {
                    union(parent, i, j);
                }
            }
        }
        int[] label = new int[k];
        Arrays.fill(label, -1);
        int[] cellOf = new int[k];
        int cells = 0;
        for (int i = 0; i < k; i++) {
            int root = find(parent, i);
            if (label[root] < 0) {
                label[root] = cells++;
            }
            cellOf[i] = label[root];
        }
        double r = Math.sqrt(noisedCrude.dimension()) + gateWidth;
        return new Cells(noisedCrude, cellOf, cells, Double.isInfinite(gateWidth) ? Double.POSITIVE_INFINITY : r * r);
    }

    /** Restores cells from a saved assignment (model loading). */
    public static Cells restore(GaussianMixture noisedCrude, int[] cellOfComponent, double gateRadius2) {
        int k = noisedCrude.components();
        if (cellOfComponent.length != k) {
            throw new IllegalArgumentException("cell assignment has " + cellOfComponent.length + " entries for "
                    + k + " components");
        }
        int cells = 0;
        for (int c : cellOfComponent) {
            if (c < 0) {
                throw new IllegalArgumentException("negative cell index " + c);
            }
            cells = Math.max(cells, c + 1);
        }
        boolean[] seen = new boolean[cells];
        for (int c : cellOfComponent) {
            seen[c] = true;
        }
        for (int c = 0; c < cells; c++) {
            if (!seen[c]) {
                throw new IllegalArgumentException("cell " + c + " has no component");
            }
        }
        return new Cells(noisedCrude, cellOfComponent.clone(), cells, gateRadius2);
    }

    /** Bhattacharyya distance between components i and j of m. */
    static double bhattacharyya(GaussianMixture m, int i, int j) {
        int d = m.dimension();
        double[][] si = m.covariance(i);
        double[][] sj = m.covariance(j);
        double[] s = new double[d * d];
        double[] a = new double[d * d];
        double[] b = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int c = 0; c < d; c++) {
                s[r * d + c] = 0.5 * (si[r][c] + sj[r][c]);
                a[r * d + c] = si[r][c];
                b[r * d + c] = sj[r][c];
            }
        }
        double[] l = new double[d * d];
        Cholesky.factor(a, d, l);
        double ldi = Cholesky.logDet(l, d);
        Cholesky.factor(b, d, l);
        double ldj = Cholesky.logDet(l, d);
        Cholesky.factor(s, d, l);
        double lds = Cholesky.logDet(l, d);
        double[] mi = m.mean(i);
        double[] dm = m.mean(j);
        for (int r = 0; r < d; r++) {
            dm[r] -= mi[r];
        }
        double[] v = dm.clone();
        Cholesky.solve(l, d, v);
        double quad = 0;
        for (int r = 0; r < d; r++) {
            quad += dm[r] * v[r];
        }
        return 0.125 * quad + 0.5 * (lds - 0.5 * (ldi + ldj));
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void union(int[] parent, int i, int j) {
        int a = find(parent, i);
        int b = find(parent, j);
        if (a != b) {
            parent[Math.max(a, b)] = Math.min(a, b);
        }
    }

    private static GaussianMixture subMixture(GaussianMixture m, int[] cellOf, int cell) {
        int count = 0;
        double total = 0;
        for (int i = 0; i < cellOf.length; i++) {
            if (cellOf[i] == cell) {
                count++;
                total += m.weight(i);
            }
        }
        double[] w = new double[count];
        double[][] mu = new double[count][];
        double[][][] q = new double[count][][];
        int o = 0;
        for (int i = 0; i < cellOf.length; i++) {
            if (cellOf[i] == cell) {
                w[o] = m.weight(i) / total;
                mu[o] = m.mean(i);
                q[o] = m.covariance(i);
                o++;
            }
        }
        // Renormalising can leave the sum a few ulps from 1; of() tolerates 1e-9.
        return GaussianMixture.of(w, mu, q);
    }

    /** The number of cells. */
    public int count() {
        return cellCount;
    }

    /** The noised crude mixture these cells partition. */
    public GaussianMixture mixture() {
        return mixture;
    }

    /** The cell of component i. */
    public int cellOfComponent(int i) {
        return cellOf[i];
    }

    /** A copy of the component-to-cell map. */
    public int[] cellOfComponents() {
        return cellOf.clone();
    }

    /** The squared Mahalanobis gate radius (infinite when the gate is off). */
    public double gateRadius2() {
        return gateRadius2;
    }

    /** The crude sub-mixture of cell c (weights renormalised within the cell). */
    public GaussianMixture subMixture(int c) {
        return subMixtures[c];
    }

    /**
     * {@link #assign} and, in the same evaluation of the mixture, each point's crude score under its cell's
     * sub-mixture ({@code subMixture(cell[j]).score}) and its posteriors within the cell: one
     * {@link GaussianMixture#groupScores} instead of one evaluation to assign and one per cell to score.
     * Equal to those formulas to rounding.
     *
     * @param x      n x d points, row-major; not modified
     * @param cell   receives the cell of each point; modified
     * @param inside receives whether each point passes its cell's gate; modified
     * @param post   receives n x k posteriors within the point's cell (0 outside it), or null; modified
     * @param score  receives n x d crude scores, row-major; modified
     * @param maha2  scratch of at least n doubles when the gate is on, else unused (may be null); modified
     */
    public void assignAndScore(double[] x, int n, int[] cell, boolean[] inside, double[] post, double[] score,
                               double[] maha2) {
        boolean gated = Double.isFinite(gateRadius2);
        mixture.groupScores(x, n, cellOf, cell, gated ? maha2 : null, post, score);
        for (int j = 0; j < n; j++) {
            inside[j] = !gated || maha2[j] <= gateRadius2;
        }
    }

    /**
     * Assigns n points to cells and gates them.
     *
     * @param cell   receives the cell of each point; modified
     * @param inside receives whether each point passes its cell's gate; modified (may be null)
     */
    public void assign(double[] x, int n, int[] cell, boolean[] inside) {
        if (cellCount == 1 && Double.isInfinite(gateRadius2)) {
            // One cell and no gate (soft gates, or everything merged): nothing to evaluate.
            java.util.Arrays.fill(cell, 0, n, 0);
            if (inside != null) {
                java.util.Arrays.fill(inside, 0, n, true);
            }
            return;
        }
        int k = mixture.components();
        double[] logLik = new double[n * k];
        mixture.componentLogLikelihoods(x, n, logLik);
        for (int j = 0; j < n; j++) {
            int best = 0;
            for (int i = 1; i < k; i++) {
                if (logLik[j * k + i] > logLik[j * k + best]) {
                    best = i;
                }
            }
            int c = cellOf[best];
            cell[j] = c;
            if (inside != null) {
                inside[j] = true;
            }
        }
        if (inside != null && Double.isFinite(gateRadius2)) {
            double[] maha = new double[n * k];
            mixture.mahalanobis2(x, n, maha);
            for (int j = 0; j < n; j++) {
                double min = Double.POSITIVE_INFINITY;
                for (int i = 0; i < k; i++) {
                    if (cellOf[i] == cell[j]) {
                        min = Math.min(min, maha[j * k + i]);
                    }
                }
                inside[j] = min <= gateRadius2;
            }
        }
    }
}
