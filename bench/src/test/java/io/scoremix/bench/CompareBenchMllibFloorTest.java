package io.scoremix.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.mixture.GaussianMixture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The floor share of MLlib's E-step, k eps / (k eps + q(x)), against closed forms: a standard normal at its
 * mode has density (2 pi)^(-d/2), which is well above eps = 2^-52 in two dimensions and far below it in 50;
 * and the comparison's markdown shows it per instance.
 */
class CompareBenchMllibFloorTest {

    private static final double EPS = 0x1p-52;

    @Test
    void epsilonIsSparkMlsMachineEpsilon() {
        assertEquals(EPS, CompareBench.MLLIB_EPSILON);
        assertEquals(1.0, 1.0 + CompareBench.MLLIB_EPSILON / 2);
        assertTrue(1.0 + CompareBench.MLLIB_EPSILON > 1.0);
    }

    @Test
    void standardNormalAtItsModeMatchesTheClosedForm() {
        for (int d : new int[] {2, 10, 40, 50}) {
            GaussianMixture q = standard(d);
            double density = Math.pow(2 * Math.PI, -d / 2.0);
            double expected = EPS / (EPS + density);
            double got = share(q, 1, new double[d]);
            assertEquals(expected, got, 1e-12 * Math.max(expected, 1e-300), "d = " + d);
        }
        // d = 2: 1.4e-15, nothing; d = 50: the density 1.1e-20 is 2e-4 of eps, so s = 1 - 5e-5.
        assertTrue(share(standard(2), 1, new double[2]) < 1e-14);
        assertTrue(share(standard(50), 1, new double[50]) > 0.9999);
    }

    @Test
    void meanOverPointsOfATwoComponentMixtureWithKEps() {
        // d = 1, components N(0, 1) and N(10, 1), weights 1/2: q(0) = q(10) = (phi(0) + phi(10)) / 2, and at
        // x = 40 the density, about exp(-450) / sqrt(8 pi) = 1e-196, is so far below 2 eps that s = 1 in doubles.
        GaussianMixture q = GaussianMixture.of(new double[] {0.5, 0.5}, new double[][] {{0}, {10}},
                new double[][][] {{{1}}, {{1}}});
        double near = 0.5 * (1 + Math.exp(-50)) / Math.sqrt(2 * Math.PI);
        double sNear = 2 * EPS / (2 * EPS + near);
        double expected = (sNear + sNear + 1) / 3;
        assertEquals(expected, share(q, 2, new double[] {0, 10, 40}), 1e-12);
    }

    @Test
    void markdownShowsTheFloorPerInstance() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode wide = json.createObjectNode().put("instance", "wide-50d").put("method", "mllib")
                .put("tv_exact", 0.999).put("tv_exact_se", 0.0).put("heldout_loglik", -48.07)
                .put("heldout_loglik_truth", -34.90).put("mllib_iterations", 3).put("mllib_epsilon_share", 0.9876)
                .put("mllib_epsilon_share_at_truth", 0.4321);
        wide.putNull("error");
        ObjectNode crude = json.createObjectNode().put("instance", "wide-50d").put("method", "crude");
        crude.putNull("error");
        ObjectNode low = json.createObjectNode().put("instance", "general-10d").put("method", "mllib")
                .put("mllib_iterations", 100).put("mllib_epsilon_share", 4.86e-8).put("mllib_epsilon_share_at_truth", 0.0);
        low.putNull("error");
        String md = CompareBench.markdown(List.of(new CompareBench.Run("bench/run compare", "now", "1.0")), "test",
                Map.of(), new CompareBench.Settings(1_000, 1, 100, 2048, 10, 10, 100), List.of(crude, wide, low));
        assertTrue(md.contains("| wide-50d | 3 | -48.0700 (-34.9000) | 0.9990 +- 0.0000 | 0.9876 | 0.4321 |"), md);
        assertTrue(md.contains("| general-10d | 100 | - | - | 4.9e-08 | 0.0e+00 |"), md);
        String none = CompareBench.markdown(List.of(new CompareBench.Run("bench/run compare", "now", "1.0")), "test",
                Map.of(), new CompareBench.Settings(1_000, 1, 100, 2048, 10, 10, 100), List.of(crude));
        assertTrue(!none.contains("floor share"), none);
    }

    /** The floor share of q's points (rows of length d), from their log-densities as the comparison does. */
    private static double share(GaussianMixture q, int k, double[] points) {
        int n = points.length / q.dimension();
        double[] logDensity = new double[n];
        q.logDensity(points, n, logDensity);
        return CompareBench.epsilonShare(logDensity, k);
    }

    private static GaussianMixture standard(int d) {
        return GaussianMixture.of(new double[] {1}, new double[][] {new double[d]}, new double[][][] {identity(d)});
    }

    private static double[][] identity(int d) {
        double[][] m = new double[d][d];
        for (int i = 0; i < d; i++) {
            m[i][i] = 1;
        }
        return m;
    }
}
