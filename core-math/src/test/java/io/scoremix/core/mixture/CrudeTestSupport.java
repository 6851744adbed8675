package io.scoremix.core.mixture;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.random.CounterRandom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Test helpers of the crude-mixture tests: benchmark instances read from the checkout's sibling
 * {@code shared/bench/instances} (override with the system property {@code scoremix.instances}),
 * training data drawn from a mixture, and the Monte Carlo total variation of core.metrics.
 */
final class CrudeTestSupport {

    private CrudeTestSupport() {
    }

    static Path instancesDir() {
        String prop = System.getProperty("scoremix.instances");
        if (prop != null) {
            return Paths.get(prop);
        }
        // Surefire runs in the module directory; walk up to the directory whose sibling is "shared".
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null && p.getParent() != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared").resolve("bench").resolve("instances");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return here.resolve("../../shared/bench/instances").normalize();
    }

    /** The named instance (file name without .json); skips the test when the instances are absent. */
    static GaussianMixture instance(String name) throws IOException {
        // The project's own copies (test resources) first, so the must-show tests run in any clone.
        try (java.io.InputStream in = CrudeTestSupport.class.getResourceAsStream("/instances/" + name + ".json")) {
            if (in != null) {
                return MixtureSpec.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                        name + ".json").mixture();
            }
        }
        Path file = instancesDir().resolve(name + ".json");
        assumeTrue(Files.isRegularFile(file), "benchmark instance not found: " + file);
        return MixtureSpec.read(file).mixture();
    }

    /** n points of p, row-major, drawn on stream {@code stream} of seed {@code seed}. */
    static double[] sample(GaussianMixture p, int n, long seed, long stream) {
        double[] x = new double[n * p.dimension()];
        p.sample(CounterRandom.of(seed), stream, 0, n, x);
        return x;
    }

    /**
     * {@code TV(p, q) = E_{x~p}[(1 - q(x)/p(x))_+]} by Monte Carlo in log space with n draws of p
     * (core.metrics); the integrand lies in [0, 1], so the standard error is at most {@code 0.5 / sqrt(n)}.
     */
    static Estimate tv(GaussianMixture p, GaussianMixture q, int n, long seed) {
        return Divergences.monteCarloTv(p, q, n, CounterRandom.of(seed), 77);
    }
}
