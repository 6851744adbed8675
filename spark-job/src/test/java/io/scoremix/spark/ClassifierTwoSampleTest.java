package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

/** The classifier two-sample test: null calibration, a known TV, and its lower-bound property. */
class ClassifierTwoSampleTest {

    static double[] draw(GaussianMixture g, long stream, int n) {
        double[] x = new double[n * g.dimension()];
        g.sample(CounterRandom.of(7), stream, 0, n, x);
        return x;
    }

    static GaussianMixture gaussian(double[] mean, double scale) {
        int d = mean.length;
        double[][] cov = new double[d][d];
        for (int r = 0; r < d; r++) {
            cov[r][r] = scale * scale;
        }
        return GaussianMixture.of(new double[] {1}, new double[][] {mean}, new double[][][] {cov});
    }

    @Test
    void sameLawGivesChanceAccuracy() {
        // Under the null the held-out balanced accuracy is 0.5 up to its standard error (10,000 held out per class).
        GaussianMixture g = gaussian(new double[] {1, -2, 0.5}, 1.5);
        for (long s = 0; s < 3; s++) {
            ClassifierTwoSample.Result r = ClassifierTwoSample.test(draw(g, 10 + s, 20_000), 20_000,
                    draw(g, 20 + s, 20_000), 20_000, 3);
            assertEquals(0.5, r.accuracy(), 4 * r.standardError(), r.toString());
            assertEquals(10_000, r.testP());
            assertEquals(1 + 3 + 6, r.features());
            assertTrue(r.conservative(2) < 0.02, r.toString());
        }
    }

    @Test
    void shiftedGaussiansReachTheirTotalVariation() {
        // N(0, 1) against N(1, 1): TV = 2 Phi(1/2) - 1 = 0.382925; the Bayes classifier is linear, so the
        // quadratic logistic regression reaches it up to estimation error, and never exceeds it beyond noise.
        double tv = 0.3829249225480262;
        GaussianMixture p = gaussian(new double[] {0}, 1);
        GaussianMixture q = gaussian(new double[] {1}, 1);
        ClassifierTwoSample.Result r = ClassifierTwoSample.test(draw(p, 1, 40_000), 40_000, draw(q, 2, 30_000), 30_000, 1);
        double se = 2 * r.standardError();
        assertEquals(tv, r.tvLowerBound(), 4 * se + 0.005, r.toString());
        assertTrue(r.conservative(2) <= tv, r.toString());
    }

    @Test
    void differentScalesNeedTheQuadraticTerms() {
        // Same mean, variance 1 against 4 in 5-D: a linear classifier is at chance, the quadratic one is not.
        GaussianMixture p = gaussian(new double[5], 1);
        GaussianMixture q = gaussian(new double[5], 2);
        ClassifierTwoSample.Result r = ClassifierTwoSample.test(draw(p, 3, 10_000), 10_000, draw(q, 4, 10_000), 10_000, 5);
        assertTrue(r.conservative(2) > 0.5, r.toString());
    }

    @Test
    void rejectsTooFewOrNonFiniteRows() {
        assertThrows(IllegalArgumentException.class, () -> ClassifierTwoSample.test(new double[3], 3, new double[8], 8, 1));
        double[] bad = new double[10];
        bad[4] = Double.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassifierTwoSample.test(bad, 10, new double[10], 10, 1));
        assertTrue(e.getMessage().contains("index 4"), e.getMessage());
    }
}
