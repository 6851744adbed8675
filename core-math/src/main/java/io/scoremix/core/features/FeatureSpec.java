package io.scoremix.core.features;

/**
 * The saved form of a feature map: its family ({@link #MONOMIAL} or {@link #SOFT_GATED}), degree, and the
 * centre and scale of the monomial base's standardisation. Arrays are copied in and out.
 */
public record FeatureSpec(String family, int degree, double[] center, double[] scale) {

    public static final String MONOMIAL = "monomial";
    public static final String SOFT_GATED = "soft_gated";

    public FeatureSpec {
        if (!MONOMIAL.equals(family) && !SOFT_GATED.equals(family)) {
            throw new IllegalArgumentException("unknown feature family '" + family + "' (expected " + MONOMIAL + " or "
                    + SOFT_GATED + ")");
        }
        center = center.clone();
        scale = scale.clone();
    }

    @Override
    public double[] center() {
        return center.clone();
    }

    @Override
    public double[] scale() {
        return scale.clone();
    }

    /** Rebuilds the map; {@code gates} is required for the soft-gated family and ignored otherwise. */
    public FeatureMap build(io.scoremix.core.mixture.GaussianMixture gates) {
        FeatureMap base = FeatureMap.monomial(center, scale, degree);
        return SOFT_GATED.equals(family) ? FeatureMap.softGated(base, gates) : base;
    }
}
