package io.scoremix.core.metrics;

import io.scoremix.core.diffusion.ExactScore;
import io.scoremix.core.diffusion.ScoreFunction;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Shared fixtures of the metrics tests. */
final class TestMixtures {

    private TestMixtures() {
    }

    /** The benchmark instance blobs-2d (3 overlapping anisotropic components), from the test resources. */
    static GaussianMixture blobs2d() {
        try (InputStream in = TestMixtures.class.getResourceAsStream("/instances/blobs-2d.json")) {
            if (in == null) {
                throw new IllegalStateException("test resource /instances/blobs-2d.json is missing");
            }
            return MixtureSpec.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "blobs-2d.json").mixture();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same mixture with every mean moved by {@code shift}. */
    static GaussianMixture shifted(GaussianMixture p, double[] shift) {
        int k = p.components();
        double[][] means = new double[k][];
        double[][][] covs = new double[k][][];
        for (int i = 0; i < k; i++) {
            means[i] = p.mean(i);
            for (int r = 0; r < means[i].length; r++) {
                means[i][r] += shift[r];
            }
            covs[i] = p.covariance(i);
        }
        return GaussianMixture.of(p.weights(), means, covs);
    }

    /** The exact score {@code grad log q_t} of the OU-noised {@code mixture} (the test oracle). */
    static ScoreFunction exactScore(GaussianMixture mixture) {
        return ExactScore.of(mixture);
    }

    static GaussianMixture gaussian1d(double mean, double variance) {
        return GaussianMixture.of(new double[] {1.0}, new double[][] {{mean}}, new double[][][] {{{variance}}});
    }
}
