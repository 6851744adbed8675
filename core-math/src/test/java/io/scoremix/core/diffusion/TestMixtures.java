package io.scoremix.core.diffusion;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Mixtures for the sampler tests. blobs-2d is the benchmark instance kept as test data
 * ({@code src/test/resources/instances}, a copy of ../shared/bench/instances), read by {@link MixtureSpec}.
 */
final class TestMixtures {

    private TestMixtures() {
    }

    /** blobs-2d: 3 overlapping anisotropic components in 2-D. */
    static GaussianMixture blobs2d() {
        String resource = "/instances/blobs-2d.json";
        try (InputStream in = TestMixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + resource + " is missing");
            }
            return MixtureSpec.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource).mixture();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One Gaussian N(mu, Q) in 2-D, anisotropic and correlated. */
    static GaussianMixture gaussian2d() {
        return GaussianMixture.of(new double[] {1.0}, new double[][] {{0.7, -1.2}},
                new double[][][] {{{0.5, 0.15}, {0.15, 0.09}}});
    }
}
