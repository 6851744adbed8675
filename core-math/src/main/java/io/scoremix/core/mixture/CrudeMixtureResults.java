package io.scoremix.core.mixture;

import java.util.List;

/**
 * Factories of {@link CrudeMixtureResult} for a crude mixture that was fitted elsewhere: a distributed
 * job ships the fitted mixture (a few arrays) to its executors, and each rebuilds the learning plan from
 * it with {@code LearningPlan.of(config, whitening, CrudeMixtureResults.of(mixture))} rather than
 * receiving the plan itself.
 */
public final class CrudeMixtureResults {

    private CrudeMixtureResults() {
    }

    /**
     * A result holding only {@code mixture}: one candidate marked as restored (no EM record, NaN
     * likelihoods, zero rows and seconds). Use it where only {@link CrudeMixtureResult#mixture()} matters.
     *
     * @throws IllegalArgumentException if {@code mixture} is null
     */
    public static CrudeMixtureResult of(GaussianMixture mixture) {
        if (mixture == null) {
            throw new IllegalArgumentException("a mixture must be given");
        }
        CrudeMixtureResult.Candidate restored = new CrudeMixtureResult.Candidate(null, null, 0, 0, true,
                Double.NaN, Double.NaN, 0.0, -1, null);
        return new CrudeMixtureResult(mixture, List.of(restored), 0, 0, Double.NaN, 0, 0, 0.0);
    }
}
