package io.scoremix.core.features;

import io.scoremix.core.linalg.SymmetricEigen;

/**
 * The projected family for large d (ALGORITHM.md section 4.4): Hermite monomials of degree {@code <= l} in
 * the r standardised projections {@code v_k = (V_k^T (z - center) - innerCenter_k) / innerScale_k}, each
 * times {@code (1, u_1 .. u_d)}: {@code (d + 1) C(r + l, l)} features. V holds the top-r principal
 * directions of the cell's sub-mixture covariance and innerScale the square roots of their eigenvalues,
 * so the v's are uncorrelated with unit variance under the cell's law. {@code grad v_k = V_k / innerScale_k}.
 */
final class ProjectedFeatures extends InnerTimesAffineFeatures {

    /** d x r, row-major: {@code directions[x * r + k]} is coordinate x of direction k. */
    private final double[] directions;
    private final double[] innerCenter;
    private final double[] innerScale;
    private final double[] invInnerScale;

    ProjectedFeatures(double[] center, double[] scale, int degree, double[] directions, double[] innerCenter,
                      double[] innerScale) {
        super(center, scale, innerScale.length, degree);
        int r = innerScale.length;
        if (r < 1 || r > d) {
            throw new IllegalArgumentException("the projection rank must lie in 1.." + d + ", got " + r);
        }
        if (directions.length != d * r || innerCenter.length != r) {
            throw new IllegalArgumentException("rank " + r + " in dimension " + d + " needs " + d * r
                    + " direction entries and " + r + " centres, got " + directions.length + " and "
                    + innerCenter.length);
        }
        this.directions = directions.clone();
        this.innerCenter = innerCenter.clone();
        this.innerScale = innerScale.clone();
        this.invInnerScale = new double[r];
        for (int k = 0; k < r; k++) {
            if (!(innerScale[k] > 0) || !Double.isFinite(innerScale[k]) || !Double.isFinite(innerCenter[k])) {
                throw new IllegalArgumentException("projection " + k + ": centre " + innerCenter[k] + " and scale "
                        + innerScale[k] + " must be finite with a positive scale");
            }
            invInnerScale[k] = 1.0 / innerScale[k];
        }
        for (double v : directions) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("a projection direction has a non-finite entry (" + v + ")");
            }
        }
    }

    /**
     * The top-{@code rank} principal directions of the d x d covariance {@code cov} (row-major) around
     * {@code center}, scaled by the square roots of their eigenvalues (floored at {@code 1e-12} of the
     * largest, so a degenerate direction keeps a finite scale).
     */
    static ProjectedFeatures principal(double[] center, double[] scale, int degree, double[] cov, int rank) {
        int d = center.length;
        if (rank < 1 || rank > d) {
            throw new IllegalArgumentException("the projection rank must lie in 1.." + d + ", got " + rank);
        }
        double[] w = new double[d];
        double[] vec = new double[d * d];
        int info = SymmetricEigen.decompose(cov, d, w, vec);
        if (info != SymmetricEigen.OK) {
            throw new IllegalArgumentException("the cell covariance could not be decomposed (LAPACK info " + info + ")");
        }
        double top = Math.max(w[d - 1], Double.MIN_NORMAL);
        double[] directions = new double[d * rank];
        double[] innerScale = new double[rank];
        for (int k = 0; k < rank; k++) {
            int e = d - 1 - k;  // eigenvalues ascend: take them from the top
            for (int x = 0; x < d; x++) {
                directions[x * rank + k] = vec[e * d + x];
            }
            innerScale[k] = Math.sqrt(Math.max(w[e], 1e-12 * top));
        }
        return new ProjectedFeatures(center, scale, degree, directions, new double[rank], innerScale);
    }

    @Override
    void inner(double[] z, int n, double[] v) {
        // v (n x q) = (z - center) V, then standardised.
        for (int j = 0; j < n; j++) {
            int vo = j * q;
            java.util.Arrays.fill(v, vo, vo + q, 0.0);
            for (int x = 0; x < d; x++) {
                double c = z[j * d + x] - center[x];
                int xo = x * q;
                for (int k = 0; k < q; k++) {
                    v[vo + k] += c * directions[xo + k];
                }
            }
            for (int k = 0; k < q; k++) {
                v[vo + k] = (v[vo + k] - innerCenter[k]) * invInnerScale[k];
            }
        }
    }

    @Override
    void innerGradients(double[] z, int j, double[] grad) {
        for (int k = 0; k < q; k++) {
            for (int x = 0; x < d; x++) {
                grad[k * d + x] = directions[x * q + k] * invInnerScale[k];
            }
        }
    }

    @Override
    public FeatureSpec spec() {
        return new FeatureSpec(FeatureSpec.PROJECTED, degree, center, scale, directions, innerCenter, innerScale);
    }
}
