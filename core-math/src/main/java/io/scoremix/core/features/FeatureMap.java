package io.scoremix.core.features;

/**
 * A feature map {@code phi: R^d -> R^p} evaluated on blocks of points (flat, row-major), with features
 * ordered by degree so that the features of degree {@code <= l} are the leading {@link #prefixSize(int)}
 * entries: a lower-degree fit is a prefix of a higher-degree one (ALGORITHM.md section 4.4).
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
     * What is needed to rebuild this map (model persistence): family, degree and the standardisation of
     * the monomial base. A soft-gated map is rebuilt with its gating mixture, which the model stores.
     */
    FeatureSpec spec();

    /** Graded monomials in Hermite basis in standardised coordinates (the paper's class). */
    static FeatureMap monomial(double[] center, double[] scale, int degree) {
        return new MonomialFeatures(center, scale, degree);
    }

    /**
     * Soft gates: every feature of {@code base} times every posterior {@code pi_i(z)} of {@code gates},
     * ordered base-feature-major so that degree prefixes are kept.
     */
    static FeatureMap softGated(FeatureMap base, io.scoremix.core.mixture.GaussianMixture gates) {
        return new SoftGatedFeatures(base, gates);
    }
}
