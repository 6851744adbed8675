package io.scoremix.core.mixture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.random.CounterRandom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Test helpers of the crude-mixture tests: benchmark instances read from
 * {@code ../shared/bench/instances} (the checkout's sibling; override with the system property
 * {@code scoremix.instances}), training data drawn from a mixture, and Monte Carlo total variation.
 *
 * <p>The instance reader is a minimal Jackson walk of the {@code scoremix.gmm/v1} fields, kept here so
 * these tests do not depend on the format module; validation is GaussianMixture.of's.
 */
final class CrudeTestSupport {

    private CrudeTestSupport() {
    }

    static Path instancesDir() {
        String prop = System.getProperty("scoremix.instances");
        if (prop != null) {
            return Paths.get(prop);
        }
        // Surefire runs in the module directory: core-math -> repository root -> its sibling "shared".
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared").resolve("bench").resolve("instances");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return here.resolve("../../shared/bench/instances").normalize();
    }

    /** The named instance (file name without .json); skips the test when the instances are absent. */
    static GaussianMixture instance(String name) throws IOException {
        Path file = instancesDir().resolve(name + ".json");
        assumeTrue(Files.isRegularFile(file), "benchmark instance not found: " + file);
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode comps = root.get("components");
        int k = comps.size();
        int d = root.get("dimension").asInt();
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[][][] cov = new double[k][d][d];
        for (int i = 0; i < k; i++) {
            JsonNode c = comps.get(i);
            w[i] = c.get("weight").asDouble();
            for (int r = 0; r < d; r++) {
                mu[i][r] = c.get("mean").get(r).asDouble();
                for (int s = 0; s < d; s++) {
                    cov[i][r][s] = c.get("covariance").get(r).get(s).asDouble();
                }
            }
        }
        return GaussianMixture.of(w, mu, cov);
    }

    /** n points of p, row-major, drawn on stream {@code stream} of seed {@code seed}. */
    static double[] sample(GaussianMixture p, int n, long seed, long stream) {
        double[] x = new double[n * p.dimension()];
        p.sample(CounterRandom.of(seed), stream, 0, n, x);
        return x;
    }

    /**
     * {@code TV(p, q) = E_{x~p}[(1 - q(x)/p(x))_+]} by Monte Carlo in log space with n draws of p:
     * returns {tv, standard error}. The integrand lies in [0, 1], so the standard error is at most
     * {@code 0.5 / sqrt(n)}.
     */
    static double[] tv(GaussianMixture p, GaussianMixture q, int n, long seed) {
        int d = p.dimension();
        int block = 4096;
        double[] x = new double[block * d];
        double[] lp = new double[block];
        double[] lq = new double[block];
        CounterRandom rng = CounterRandom.of(seed);
        double sum = 0;
        double sum2 = 0;
        for (int start = 0; start < n; start += block) {
            int m = Math.min(block, n - start);
            p.sample(rng, 77, start, m, x);
            p.logDensity(x, m, lp);
            q.logDensity(x, m, lq);
            for (int j = 0; j < m; j++) {
                double diff = lq[j] - lp[j];
                double f = diff >= 0 ? 0.0 : -Math.expm1(diff);
                sum += f;
                sum2 += f * f;
            }
        }
        double mean = sum / n;
        double var = Math.max(0, (sum2 - n * mean * mean) / (n - 1));
        return new double[] {mean, Math.sqrt(Math.min(var, 0.25) / n)};
    }
}
