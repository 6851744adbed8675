package io.scoremix.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

import org.junit.jupiter.api.Test;

/**
 * The held-out projection lower bound: about 0 for samples of p itself, positive and below the true TV
 * for samples of a different mixture. Statistical tolerances are 3 standard errors (one-sided normal
 * tail 1.3e-3 per check, at fixed seeds); the comparison with the true TV adds the SE of its Monte Carlo
 * estimate in quadrature.
 */
class ProjectionLowerBoundTest {

    private static final CounterRandom RNG = CounterRandom.of(77L);
    private static final int N = 40_000;

    @Test
    void samplesOfTheTruthGiveAboutZero() {
        GaussianMixture p = TestMixtures.blobs2d();
        for (long stream = 1; stream <= 3; stream++) {
            double[] y = new double[N * 2];
            p.sample(RNG, stream, 0, N, y);
            ProjectionLowerBound lb = Divergences.projectionTvLowerBound(p, y, N, ProjectionConfig.defaults());
            System.out.println("projection lower bound, samples of p itself: " + lb);
            assertTrue(lb.value() <= 3 * lb.standardError(), lb.toString());
            assertEquals(N / 2, lb.estimate().samples());
            // 3 mean differences + 2 principal axes + 16 random directions.
            assertEquals(21, lb.directionsTried());
            assertEquals(1.0, norm(lb.direction()), 1e-12);
            // The first-half gap is the optimistic in-sample figure: of order sqrt(bins / n1), not 0.
            assertTrue(lb.firstHalfGap() > 0);
        }
    }

    @Test
    void samplesOfADifferentMixtureGiveAPositiveBoundBelowTheTrueTv() {
        GaussianMixture p = TestMixtures.blobs2d();
        for (double shift : new double[] {0.15, 0.5}) {
            GaussianMixture q = TestMixtures.shifted(p, new double[] {shift, -shift / 2});
            Estimate tv = Divergences.monteCarloTv(q, p, 400_000, RNG, 10);
            double[] y = new double[N * 2];
            q.sample(RNG, 11, 0, N, y);
            ProjectionLowerBound lb = Divergences.projectionTvLowerBound(p, y, N, ProjectionConfig.defaults());
            System.out.printf("shift %.2f: true TV %s, projection lower bound %s%n", shift, tv, lb);
            double se = Math.hypot(lb.standardError(), tv.standardError());
            assertTrue(lb.value() <= tv.value() + 3 * se, lb + " above TV " + tv);
            assertTrue(lb.conservative() > 0, lb.toString());
        }
    }

    @Test
    void twoSampleVersionBehavesTheSame() {
        GaussianMixture p = TestMixtures.blobs2d();
        GaussianMixture q = TestMixtures.shifted(p, new double[] {0.3, 0.0});
        double[] x = new double[N * 2];
        double[] y = new double[N * 2];
        double[] z = new double[(N + 1) * 2];
        p.sample(RNG, 20, 0, N, x);
        p.sample(RNG, 21, 0, N, y);
        q.sample(RNG, 22, 0, N + 1, z);
        ProjectionLowerBound same = Divergences.projectionTvLowerBound(x, N, y, N, 2, ProjectionConfig.defaults());
        ProjectionLowerBound differ =
                Divergences.projectionTvLowerBound(x, N, z, N + 1, 2, ProjectionConfig.defaults());
        Estimate tv = Divergences.monteCarloTv(q, p, 400_000, RNG, 23);
        System.out.println("two-sample projection lower bound, p vs p: " + same);
        System.out.printf("two-sample projection lower bound, p vs shifted p: %s, true TV %s%n", differ, tv);
        assertTrue(same.value() <= 3 * same.standardError(), same.toString());
        assertTrue(differ.conservative() > 0, differ.toString());
        assertTrue(differ.value() <= tv.value() + 3 * Math.hypot(differ.standardError(), tv.standardError()));
        // 1 mean difference + 2 principal axes + 16 random.
        assertEquals(19, differ.directionsTried());
    }

    @Test
    void projectedMixtureQuantilesHaveEqualMass() {
        double[] w = {0.2, 0.5, 0.3};
        double[] a = {-3.0, 0.5, 4.0};
        double[] s = {0.3, 1.0, 2.5};
        double[] edges = new double[63];
        ProjectionTv.mixtureQuantiles(w, a, s, edges);
        for (int b = 0; b < edges.length; b++) {
            assertEquals((b + 1) / 64.0, ProjectionTv.mixtureCdf(w, a, s, edges[b]), 1e-13);
        }
    }

    @Test
    void rejectsBadInput() {
        GaussianMixture p = TestMixtures.blobs2d();
        double[] y = {0, 0, 1, Double.NaN};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Divergences.projectionTvLowerBound(p, y, 2, ProjectionConfig.defaults()));
        assertTrue(e.getMessage().contains("point 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ProjectionConfig.defaults().withBins(1));
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double c : v) {
            s += c * c;
        }
        return Math.sqrt(s);
    }
}
