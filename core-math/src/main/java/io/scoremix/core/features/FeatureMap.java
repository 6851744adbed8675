package io.scoremix.core.features;

/**
 * A feature map {@code phi: R^d -> R^p} evaluated on blocks of points (flat, row-major), with features
 * ordered by degree so that the features of degree {@code <= l} are the leading {@link #prefixSize(int)}
 * entries: a lower-degree fit is a prefix of a higher-degree one (ALGORITHM.md section 4.4). The features
 * come point-major ({@link #evaluate(double[], int, double[])}) or feature-major
 * ({@link #evaluateColumns}, the layout of the normal equations' Gram update), with equal values.
 * Implementations are immutable and thread-safe; scratch space is allocated per call, never per row.
 */
public interface FeatureMap {

    /** The input dimension d. */
    int inputDimension();

    /** The number of features p. */
    int size();

    /** The largest degree l. */
    int degree();

    /** The number of leading features of degree at most {@code degree} (0 <= degree <= {@link #degree()}). */
    int prefixSize(int degree);

    /**
     * Evaluates the features of n points.
     *
     * @param z   n x d points, row-major; not modified
     * @param out receives n x p features, row-major; modified
     */
    void evaluate(double[] z, int n, double[] out);

    /**
     * The mixture whose posteriors gate these features (the soft-gated family), or null for ungated
     * families: a caller that already has its posteriors at the points passes them to
     * {@link #evaluate(double[], int, double[], double[])} instead of having them evaluated again.
     */
    default io.scoremix.core.mixture.GaussianMixture gates() {
        return null;
    }

    /**
     * {@link #evaluate(double[], int, double[])} with the posteriors of {@link #gates()} at the points
     * already computed; ungated families ignore them.
     *
     * @param gatePosteriors n x k posteriors of {@link #gates()}, row-major, or null to compute them; not
     *                       modified
     */
    default void evaluate(double[] z, int n, double[] gatePosteriors, double[] out) {
        evaluate(z, n, out);
    }

    /**
     * {@link #evaluate(double[], int, double[], double[])} written feature-major: feature a of point j at
     * {@code out[a * ld + j]} (a column-major n x p block with leading dimension ld); entries
     * {@code out[a * ld + j]} for j >= n are not touched. The values are bit-for-bit those of
     * {@code evaluate}. The default evaluates row-major runs of rows into a scratch and transposes them;
     * the monomial and soft-gated families evaluate column by column.
     *
     * @param z              n x d points, row-major; not modified
     * @param gatePosteriors n x k posteriors of {@link #gates()}, ROW-MAJOR (as Cells/GaussianMixture.groupScores
     *                       give them), or null to compute them; not modified
     * @param out            receives the p x ld block (at least {@code (p - 1) * ld + n} entries); modified
     * @param ld             leading dimension, at least n
     * @throws IllegalArgumentException if ld < n
     */
    default void evaluateColumns(double[] z, int n, double[] gatePosteriors, double[] out, int ld) {
        FeatureColumns.evaluate(this, z, n, gatePosteriors, out, ld);
    }

    /**
     * The divergence of the vector field {@code f(z) = beta^T phi(z)} (a map R^d -> R^d), i.e.
     * {@code sum_r sum_a beta[a][r] d phi_a / d z_r}, of n points; used by the probability-flow ODE's
     * change of variables.
     *
     * @param beta p x d coefficients, row-major (only the leading {@code rows} rows are used: a prefix)
     * @param rows number of leading features in use
     * @param out  receives n divergences; modified
     */
    void divergence(double[] z, int n, double[] beta, int rows, double[] out);

    /**
     * What is needed to rebuild this map (model persistence): family, degree, the standardisations and,
     * for the projected family, the directions. A soft-gated map is rebuilt with its gating mixture and a
     * softmax map with its cell's sub-mixture, which the model stores.
     */
    FeatureSpec spec();

    /** Graded monomials in Hermite basis in standardised coordinates (the paper's class). */
    static FeatureMap monomial(double[] center, double[] scale, int degree) {
        return new MonomialFeatures(center, scale, degree);
    }

    /**
     * The softmax family (CKS Lemma 43/45): Hermite monomials of degree {@code <= degree} in the m - 1
     * standardised centred log-likelihood ratios of the m components of {@code cell} (a cell's noised
     * sub-mixture), each times {@code (1, (z - center) / scale)}: {@code (d + 1) C(m - 1 + degree, degree)}
     * features. The ratios' means and standard deviations under {@code cell} are computed here in closed
     * form and saved in the spec.
     */
    static FeatureMap softmax(io.scoremix.core.mixture.GaussianMixture cell, double[] center, double[] scale,
                              int degree) {
        return new SoftmaxFeatures(cell, center, scale, degree, null, null);
    }

    /**
     * The projected family: Hermite monomials of degree {@code <= degree} in the standardised projections
     * of {@code z - center} on the top-{@code rank} principal directions of {@code covariance} (d x d,
     * row-major; the cell's sub-mixture covariance), each times {@code (1, (z - center) / scale)}:
     * {@code (d + 1) C(rank + degree, degree)} features.
     *
     * @throws IllegalArgumentException if rank is not in 1..d
     */
    static FeatureMap projected(double[] center, double[] scale, double[] covariance, int rank, int degree) {
        return ProjectedFeatures.principal(center, scale, degree, covariance, rank);
    }

    /**
     * Soft gates: every feature of {@code base} times every posterior {@code pi_i(z)} of {@code gates},
     * ordered base-feature-major so that degree prefixes are kept.
     */
    static FeatureMap softGated(FeatureMap base, io.scoremix.core.mixture.GaussianMixture gates) {
        return new SoftGatedFeatures(base, gates);
    }
}
