package io.scoremix.core.features;

import io.scoremix.core.mixture.GaussianMixture;

/**
 * The saved form of a feature map: its family, degree, and the centre and scale of the standardisation
 * of z; for the families with inner variables also their standardisation ({@code innerCenter},
 * {@code innerScale}: the r's of the softmax family, the projections of the projected family) and, for
 * the projected family, the d x r projection {@code directions} (row-major). Arrays not used by a family
 * are empty. Arrays are copied in and out.
 *
 * <p>A soft-gated map is rebuilt with its gating mixture and a softmax map with its cell's sub-mixture,
 * which the model stores (the crude mixture and the cell assignment); see {@link #build(GaussianMixture,
 * GaussianMixture)}.
 */
public record FeatureSpec(String family, int degree, double[] center, double[] scale, double[] directions,
                          double[] innerCenter, double[] innerScale) {

    public static final String MONOMIAL = "monomial";
    public static final String SOFT_GATED = "soft_gated";
    public static final String SOFTMAX = "softmax";
    public static final String PROJECTED = "projected";

    public FeatureSpec {
        if (!MONOMIAL.equals(family) && !SOFT_GATED.equals(family) && !SOFTMAX.equals(family)
                && !PROJECTED.equals(family)) {
            throw new IllegalArgumentException("unknown feature family '" + family + "' (expected " + MONOMIAL + ", "
                    + SOFT_GATED + ", " + SOFTMAX + " or " + PROJECTED + ")");
        }
        center = center.clone();
        scale = scale.clone();
        directions = directions == null ? new double[0] : directions.clone();
        innerCenter = innerCenter == null ? new double[0] : innerCenter.clone();
        innerScale = innerScale == null ? new double[0] : innerScale.clone();
    }

    /** A spec without inner variables (the monomial and soft-gated families). */
    public FeatureSpec(String family, int degree, double[] center, double[] scale) {
        this(family, degree, center, scale, null, null, null);
    }

    @Override
    public double[] center() {
        return center.clone();
    }

    @Override
    public double[] scale() {
        return scale.clone();
    }

    @Override
    public double[] directions() {
        return directions.clone();
    }

    @Override
    public double[] innerCenter() {
        return innerCenter.clone();
    }

    @Override
    public double[] innerScale() {
        return innerScale.clone();
    }

    /**
     * Rebuilds the map of a family that needs no cell mixture; {@code gates} is required for the soft-gated
     * family and ignored otherwise.
     *
     * @throws IllegalArgumentException for the softmax family, which needs its cell's sub-mixture
     */
    public FeatureMap build(GaussianMixture gates) {
        return build(gates, null);
    }

    /**
     * Rebuilds the map.
     *
     * @param gates the gating mixture (soft-gated family), else ignored
     * @param cell  the cell's sub-mixture the log-likelihood ratios are taken in (softmax family), else ignored
     */
    public FeatureMap build(GaussianMixture gates, GaussianMixture cell) {
        switch (family) {
            case SOFTMAX -> {
                if (cell == null) {
                    throw new IllegalArgumentException("a softmax feature map is rebuilt with its cell's sub-mixture");
                }
                return new SoftmaxFeatures(cell, center, scale, degree, innerCenter, innerScale);
            }
            case PROJECTED -> {
                return new ProjectedFeatures(center, scale, degree, directions, innerCenter, innerScale);
            }
            default -> {
                FeatureMap base = FeatureMap.monomial(center, scale, degree);
                return SOFT_GATED.equals(family) ? FeatureMap.softGated(base, gates) : base;
            }
        }
    }
}
