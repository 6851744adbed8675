package io.scoremix.core.score;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory Learner fits its crude mixture on the Spark job's deterministic row sample. */
class LearnerCrudeSampleTest {

    private static final GaussianMixture TWO = GaussianMixture.of(new double[] {0.4, 0.6},
            new double[][] {{-2.0, 0.0}, {2.0, 1.0}},
            new double[][][] {{{1.0, 0.3}, {0.3, 0.5}}, {{0.6, -0.2}, {-0.2, 1.2}}});

    private static double[] draw(int n, long seed) {
        double[] x = new double[n * 2];
        TWO.sample(CounterRandom.of(seed), 1, 0, n, x);
        return x;
    }

    private static CrudeMixtureConfig crude() {
        return CrudeMixtureConfig.builder(2).seed(5).build();
    }

    @Test
    void aSampleSmallerThanTheRowsFitsTheKeptRowsOnly() {
        int n = 20_000;
        int limit = 3_000;
        double[] x = draw(n, 11);
        double[] w = new double[n];
        for (int r = 0; r < n; r++) {
            w[r] = 0.5 + (r % 3);
        }
        LearnerConfig config = LearnerConfig.builder(2).seed(7).crude(crude()).crudeSample(limit).build();

        // The rule written out independently: row r is kept when uniform(seed, tag, r) < limit / n.
        CounterRandom rng = CounterRandom.of(7);
        long stream = CounterRandom.stream(Learner.CRUDE_SAMPLE_TAG);
        int m = 0;
        double[] xs = new double[n * 2];
        double[] ws = new double[n];
        for (int r = 0; r < n; r++) {
            if (rng.uniform(stream, r) < (double) limit / n) {
                xs[2 * m] = x[2 * r];
                xs[2 * m + 1] = x[2 * r + 1];
                ws[m] = w[r];
                m++;
            }
        }
        // Binomial(n, limit / n) kept rows: within 5 standard deviations of limit.
        double sd = Math.sqrt(limit * (1.0 - (double) limit / n));
        assertTrue(Math.abs(m - limit) <= 5 * sd, "kept " + m + " rows, expected about " + limit);

        CrudeMixtureResult expected = CrudeMixture.fit(java.util.Arrays.copyOf(xs, m * 2), m, 2,
                java.util.Arrays.copyOf(ws, m), crude());
        CrudeMixtureResult got = Learner.fitCrude(x, n, 2, w, config);
        assertEquals(expected.trainingRows() + expected.heldOutRows(), got.trainingRows() + got.heldOutRows());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(expected.mixture().mean(i), got.mixture().mean(i), 0.0);
        }
        assertArrayEquals(expected.mixture().weights(), got.mixture().weights(), 0.0);
    }

    @Test
    void aSampleAtLeastTheRowsUsesEveryRow() {
        int n = 4_000;
        double[] x = draw(n, 12);
        LearnerConfig config = LearnerConfig.builder(2).seed(7).crude(crude()).crudeSample(n).build();
        CrudeMixtureResult all = CrudeMixture.fit(x, n, 2, null, crude());
        CrudeMixtureResult got = Learner.fitCrude(x, n, 2, null, config);
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(all.mixture().mean(i), got.mixture().mean(i), 0.0);
        }
    }

    @Test
    void theSampledCrudeMixtureStillEstimatesTheTruth() {
        int n = 60_000;
        int limit = 10_000;
        double[] x = draw(n, 13);
        LearnerConfig config = LearnerConfig.builder(2).mode(LearnerConfig.Mode.PLUGIN).levels(4).delta(1e-2)
                .seed(3).crude(crude()).crudeSample(limit).build();
        Learner.Result result = Learner.fit(x, n, 2, null, config);
        GaussianMixture fitted = result.plan().crudeResult().mixture();
        // Component means from about limit rows: standard error below sqrt(1.2 / (0.4 limit)) = 0.017
        // per coordinate; allow 6 of them, in either component order.
        double tol = 6 * Math.sqrt(1.2 / (0.4 * limit));
        int first = fitted.mean(0)[0] < fitted.mean(1)[0] ? 0 : 1;
        for (int i = 0; i < 2; i++) {
            double[] mu = fitted.mean(i == 0 ? first : 1 - first);
            double[] truth = TWO.mean(i);
            for (int r = 0; r < 2; r++) {
                assertEquals(truth[r], mu[r], tol, "component " + i + " coordinate " + r);
            }
        }
    }

    @Test
    void aSampleBelowTwoRowsIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LearnerConfig.builder(2).crudeSample(1));
        assertTrue(e.getMessage().contains("crudeSample"));
    }
}
