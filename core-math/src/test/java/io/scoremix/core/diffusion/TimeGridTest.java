package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.metrics.CertifiedBoundConfig;
import io.scoremix.core.metrics.CertifiedTvBound;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.mixture.GaussianMixture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TimeGridTest {

    private static final double[] HORIZONS = {1, 1.5, 3, 6, 10};
    private static final double[] DELTAS = {1e-5, 1e-3, 0.02, 0.5};
    private static final int[] STEPS = {2, 3, 5, 8, 16, 33, 64, 256, 1000};

    @Test
    void bentonHasTheRequestedShape() {
        for (double horizon : HORIZONS) {
            for (double delta : DELTAS) {
                for (int steps : STEPS) {
                    checkBenton(horizon, delta, steps);
                }
            }
        }
    }

    private static void checkBenton(double horizon, double delta, int steps) {
        String where = "T = " + horizon + ", delta = " + delta + ", N = " + steps;
        double[] s = TimeGrid.benton(horizon, delta, steps).times();
        assertEquals(steps + 1, s.length, where);
        assertEquals(horizon, s[0], 0.0, where);
        assertEquals(delta, s[steps], 0.0, where);
        for (int j = 1; j <= steps; j++) {
            assertTrue(s[j] < s[j - 1], where + ": not strictly decreasing at " + j);
        }
        // Forward time 1 is hit exactly; it splits the flat phase from the geometric one.
        int one = -1;
        for (int j = 0; j <= steps; j++) {
            if (s[j] == 1.0) {
                one = j;
            }
        }
        assertTrue(one >= 0, where + ": time 1 is not on the grid");
        assertEquals(horizon > 1 ? 1 : 0, Math.min(one, 1), where + ": a flat phase exists iff T > 1");
        assertTrue(one < steps, where + ": no geometric step");

        // Flat steps equal, up to the rounding of T - j h (a few ulps of T).
        double hFlat = one > 0 ? (horizon - 1) / one : 0;
        for (int j = 0; j < one; j++) {
            assertEquals(hFlat, s[j] - s[j + 1], 4 * Math.ulp(horizon), where + ": flat step " + j);
        }
        // Geometric phase: constant ratio r = delta^{1 / nGeo} (relative rounding of pow: ~1e-15 per step).
        int nGeo = steps - one;
        double ratio = Math.pow(delta, 1.0 / nGeo);
        for (int j = one; j < steps; j++) {
            assertEquals(ratio, s[j + 1] / s[j], 1e-13, where + ": geometric ratio at step " + j);
        }
        // The two phases' kappas solve the defining equation (T - 1)/kappa + log(1/delta)/log(1 + kappa) = N
        // exactly (kappa_geo = 1/r - 1 so that h_j = kappa_geo s_{j+1}), i.e. the counts tile [delta, T].
        double kappaGeo = 1 / ratio - 1;
        double count = (one > 0 ? (horizon - 1) / hFlat : 0) + Math.log(1 / delta) / Math.log1p(kappaGeo);
        assertEquals(steps, count, 1e-9 * steps, where + ": phase step counts");
        // Benton's step condition h_j <= kappa min(1, s_{j+1}), with kappa the larger of the two phases'.
        // Slack: s_j = r^j carries a relative error of about j ulps, and h_j = s_j - s_{j+1} ~ kappa s_j loses
        // a further factor 1/kappa to cancellation: N eps / kappa <= 1e-9 for every grid here.
        double kappa = Math.max(hFlat, kappaGeo);
        for (int j = 0; j < steps; j++) {
            double h = s[j] - s[j + 1];
            assertTrue(h <= kappa * Math.min(1, s[j + 1]) * (1 + 1e-9),
                    where + ": step " + j + " = " + h + " exceeds kappa min(1, s_{j+1}) with kappa = " + kappa);
        }
        // Rounding the flat step count to an integer keeps the two kappas comparable once each phase has a
        // few steps: a count n rounded by at most 1/2 moves its kappa by a factor of at most (n + 1/2)/(n - 1/2).
        if (one >= 4 && nGeo >= 4) {
            double spread = Math.max(hFlat / kappaGeo, kappaGeo / hFlat);
            assertTrue(spread < 2, where + ": kappa_flat = " + hFlat + ", kappa_geo = " + kappaGeo);
        }
    }

    @Test
    void bentonFinerGridsHaveSmallerSteps() {
        double prev = Double.POSITIVE_INFINITY;
        for (int steps : new int[] {16, 32, 64, 128, 256}) {
            double[] s = TimeGrid.benton(6, 1e-3, steps).times();
            double max = 0;
            for (int j = 0; j < steps; j++) {
                max = Math.max(max, s[j] - s[j + 1]);
            }
            // The largest step is a flat one, about (T - 1 + log(1/delta)) / N.
            assertTrue(max < prev, "N = " + steps);
            assertEquals((5 + Math.log(1e3)) / steps, max, 0.5 * max, "N = " + steps);
            prev = max;
        }
    }

    @Test
    void learnedLevelsAreGeometricInSigma2() {
        for (int levels : new int[] {2, 3, 32, 64}) {
            double delta = 1e-3;
            double horizon = 6;
            double[] t = TimeGrid.learnedLevels(levels, delta, horizon).times();
            assertEquals(levels, t.length);
            assertEquals(delta, t[0], 0.0);
            assertEquals(horizon, t[levels - 1], 0.0);
            double logStep = Math.log(NoiseSchedule.sigma2(horizon) / NoiseSchedule.sigma2(delta)) / (levels - 1);
            for (int i = 1; i < levels; i++) {
                assertTrue(t[i] > t[i - 1], "levels " + levels + ": not increasing at " + i);
                double ratio = Math.log(NoiseSchedule.sigma2(t[i]) / NoiseSchedule.sigma2(t[i - 1]));
                assertEquals(logStep, ratio, 1e-10, "levels " + levels + ": log sigma^2 step " + i);
            }
        }
        assertEquals(1e-3, TimeGrid.learnedLevels(1, 1e-3, 6).time(0), 0.0);
    }

    @Test
    void ofCopiesAndValidates() {
        double[] times = {3, 2, 1};
        TimeGrid g = TimeGrid.of(times);
        times[0] = 99;
        assertEquals(3, g.time(0), 0.0);
        g.times()[1] = 99;
        assertEquals(2, g.time(1), 0.0);
        assertEquals(2, g.steps());
        assertEquals(3, g.size());
        assertMessage(() -> TimeGrid.of(3, 3, 1), "time 1 = 3.0");
        assertMessage(() -> TimeGrid.of(3, 2, 2.5), "time 2 = 2.5");
        assertMessage(() -> TimeGrid.of(1, -2), "-2.0");
        assertMessage(() -> TimeGrid.of(1, Double.NaN), "NaN");
        assertMessage(() -> TimeGrid.of(1), "at least two");
    }

    /** Two narrow components at -1 and +1 in 1-D (far-1d after whitening), a 2-D anisotropic pair, N(0, I). */
    private static GaussianMixture[] references() {
        GaussianMixture far = GaussianMixture.of(new double[] {0.5, 0.5}, new double[][] {{-0.995}, {0.995}},
                new double[][][] {{{0.0099}}, {{0.0099}}});
        GaussianMixture pair = GaussianMixture.of(new double[] {0.3, 0.7}, new double[][] {{-1.2, 0.3}, {0.5, -0.1}},
                new double[][][] {{{0.2, 0.05}, {0.05, 0.02}}, {{0.05, 0}, {0, 0.6}}});
        GaussianMixture normal = GaussianMixture.of(new double[] {1.0}, new double[][] {{0.0, 0.0}},
                new double[][][] {{{1, 0}, {0, 1}}});
        return new GaussianMixture[] {far, pair, normal};
    }

    @Test
    void curvatureGridIsValidAndDeterministic() {
        for (GaussianMixture reference : references()) {
            for (double horizon : new double[] {1, 6}) {
                for (double delta : new double[] {1e-4, 0.02}) {
                    for (int steps : new int[] {1, 2, 7, 64, 2048}) {
                        String where = reference.dimension() + "-D k = " + reference.components() + ", T = " + horizon
                                + ", delta = " + delta + ", N = " + steps;
                        double[] s = TimeGrid.curvature(reference, horizon, delta, steps).times();
                        assertEquals(steps + 1, s.length, where);
                        assertEquals(horizon, s[0], 0.0, where);
                        assertEquals(delta, s[steps], 0.0, where);
                        for (int j = 1; j <= steps; j++) {
                            assertTrue(s[j] < s[j - 1], where + ": not strictly decreasing at " + j);
                        }
                        assertArrayEquals(s, TimeGrid.curvature(reference, horizon, delta, steps).times(), 0.0,
                                where + ": a second call differs");
                    }
                }
            }
        }
    }

    /**
     * For N(0, I) the curvature c(t) = E||grad^2 log q_t + I||^2 is 0, so every step follows Benton's density
     * (1 / t below 1, constant above): the share of steps above time 1 is (T - 1) / (T - 1 + log(1 / delta))
     * up to the trapezoid rule on 128 log-spaced nodes. For the narrow 1-D pair it is concentrated where the
     * components have not yet merged: most steps lie below t = 0.3, and fewer than Benton's lie above 1.
     */
    @Test
    void curvatureGridFollowsTheReferenceCurvature() {
        GaussianMixture[] refs = references();
        int steps = 2048;
        double horizon = 6;
        double delta = 1e-4;
        double bentonShareAbove1 = (horizon - 1) / (horizon - 1 + Math.log(1 / delta));
        double[] normal = TimeGrid.curvature(refs[2], horizon, delta, steps).times();
        assertEquals(bentonShareAbove1 * steps, countAbove(normal, 1.0), 0.01 * steps + 2, "N(0, I) reference");
        double[] far = TimeGrid.curvature(refs[0], horizon, delta, steps).times();
        assertTrue(countAbove(far, 1.0) < 0.2 * bentonShareAbove1 * steps, "narrow pair: steps above t = 1: "
                + countAbove(far, 1.0));
        assertTrue(countAbove(far, 0.3) < 0.25 * steps, "narrow pair: steps above t = 0.3: " + countAbove(far, 0.3));
    }

    private static int countAbove(double[] s, double t) {
        int count = 0;
        for (int j = 1; j < s.length; j++) {
            if (s[j] >= t) {
                count++;
            }
        }
        return count;
    }

    /**
     * The predicted discretisation integral {@code unitIntegral / N} against the score integral the certified
     * bound measures for the same grid with the exact score (so all of it is discretisation), residual scheme,
     * on the narrow 1-D pair (far-1d whitened) and the 2-D pair at N = 256 and 1024. Tolerance: 4 standard
     * errors of the measured integral, plus 10 percent for the prediction itself. Its own errors: (a) it is
     * first order in h, and the next order is relatively of the size of h c'/c over a step, at most about 2 / N
     * of the log-time span per step for these references, under 1 percent at N = 256; (b) c is a Monte Carlo
     * mean of 256 points per node with a coefficient of variation of the Frobenius norm of order 1, so each
     * node's c is within about 6 percent and the integral over 129 nodes within 1-2 percent; (c) the trapezoid
     * rule on 128 log-spaced nodes, relatively 1e-3. Measured: within 2 percent on every case (printed).
     */
    @Test
    void predictedIntegralMatchesTheMeasuredScoreIntegral() {
        GaussianMixture[] refs = references();
        double horizon = 6;
        double delta = 1e-3;
        for (GaussianMixture p : new GaussianMixture[] {refs[0], refs[1]}) {
            TimeGrid.CurvatureProfile profile = TimeGrid.curvatureProfile(p, horizon, delta);
            for (int steps : new int[] {256, 1024}) {
                TimeGrid grid = profile.grid(steps);
                CertifiedTvBound b = Divergences.certifiedTvUpperBound(p, ExactScore.of(p), grid,
                        CertifiedBoundConfig.defaults().withScheme(CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL)
                                .withPaths(Math.max(500, 2_000 * 256 / steps)));
                double predicted = profile.unitIntegral() / steps;
                double measured = b.scoreIntegral().value();
                double se = b.scoreIntegral().standardError();
                System.out.printf("%d-D k = %d, N = %d: predicted I = %.4e, measured %.4e +- %.1e (ratio %.3f)%n",
                        p.dimension(), p.components(), steps, predicted, measured, se, measured / predicted);
                assertEquals(measured, predicted, 4 * se + 0.1 * predicted, p.dimension() + "-D, N = " + steps);
            }
        }
    }

    /**
     * The automatic step count: 2048 where the curvature is negligible (N(0, I)), above 2048 for the narrow 1-D
     * pair (clamped at 2048 * 10 = 20,480 for d = 1), exactly 2048 for dimension 10 or more even with a
     * large predicted integral, the fewest steps meeting the target when not clamped, and monotone in the
     * target.
     */
    @Test
    void autoStepsFollowsThePredictedIntegral() {
        assertEquals(20_480, TimeGrid.autoMaxSteps(1));
        assertEquals(10_240, TimeGrid.autoMaxSteps(2));
        assertEquals(4_096, TimeGrid.autoMaxSteps(5));
        assertEquals(2_048, TimeGrid.autoMaxSteps(6));
        assertEquals(2_048, TimeGrid.autoMaxSteps(8));
        assertEquals(2_048, TimeGrid.autoMaxSteps(10));
        assertEquals(2_048, TimeGrid.autoMaxSteps(50));
        GaussianMixture[] refs = references();
        double horizon = 6;
        double delta = 1e-4;

        TimeGrid.StepChoice normal = TimeGrid.autoSteps(refs[2], horizon, delta);
        assertTrue(normal.unitIntegral() < 1e-9, "N(0, I): " + normal);
        assertEquals(2048, normal.steps(), "N(0, I): " + normal);

        TimeGrid.CurvatureProfile far = TimeGrid.curvatureProfile(refs[0], horizon, delta);
        TimeGrid.StepChoice farChoice = far.autoSteps();
        System.out.println("narrow 1-D pair: " + farChoice + ", predicted I " + farChoice.predictedIntegral());
        assertTrue(farChoice.steps() > 2048, "narrow 1-D pair: " + farChoice);
        assertEquals(20_480, farChoice.maxSteps());
        assertEquals(Math.min(20_480, (int) Math.ceil(far.unitIntegral() / TimeGrid.AUTO_TARGET_INTEGRAL)),
                farChoice.steps());
        assertEquals(farChoice, TimeGrid.autoSteps(refs[0], horizon, delta), "deterministic");
        assertArrayEquals(TimeGrid.curvature(refs[0], horizon, delta, 3000).times(), far.grid(3000).times(), 0.0,
                "the profile's grid is the curvature grid");

        // Fewest steps meeting the target, and monotone: a smaller target never takes fewer steps.
        int previous = 0;
        for (double target : new double[] {1e-2, 3e-3, 1e-3, 5e-4, 3e-4, 2e-4, 1e-4}) {
            TimeGrid.StepChoice c = far.autoSteps(target);
            assertTrue(c.steps() >= previous, "target " + target + ": " + c.steps() + " < " + previous);
            previous = c.steps();
            if (c.steps() > c.minSteps() && c.steps() < c.maxSteps()) {
                assertTrue(c.predictedIntegral() <= target, "target " + target + ": " + c);
                assertTrue(far.unitIntegral() / (c.steps() - 1) > target, "target " + target + ": not the fewest");
            }
        }
        assertEquals(2048, far.autoSteps(1e-2).steps(), "a loose target keeps the minimum");
        assertEquals(20_480, far.autoSteps(1e-6).steps(), "a tight target is clamped");

        // Dimension 10: two narrow components far apart have a large predicted integral but keep 2048 steps.
        int d = 10;
        double[][] means = new double[2][d];
        double[][][] covs = new double[2][d][d];
        for (int i = 0; i < d; i++) {
            means[0][i] = -0.3;
            means[1][i] = 0.3;
            covs[0][i][i] = 0.05;
            covs[1][i][i] = 0.05;
        }
        GaussianMixture wide = GaussianMixture.of(new double[] {0.5, 0.5}, means, covs);
        TimeGrid.StepChoice ten = TimeGrid.autoSteps(wide, horizon, 1e-3);
        System.out.println("10-D narrow pair: " + ten + ", predicted I " + ten.predictedIntegral());
        assertTrue(ten.unitIntegral() / TimeGrid.AUTO_TARGET_INTEGRAL > 2048, "10-D: " + ten);
        assertEquals(2048, ten.steps(), "10-D: " + ten);
    }

    @Test
    void badArgumentsAreNamed() {
        assertMessage(() -> TimeGrid.benton(0.5, 1e-3, 10), "0.5");
        assertMessage(() -> TimeGrid.benton(Double.POSITIVE_INFINITY, 1e-3, 10), "Infinity");
        assertMessage(() -> TimeGrid.benton(Double.NaN, 1e-3, 10), "NaN");
        assertMessage(() -> TimeGrid.benton(6, 0, 10), "0.0");
        assertMessage(() -> TimeGrid.benton(6, 1, 10), "1.0");
        assertMessage(() -> TimeGrid.benton(6, 1e-3, 1), "got 1");
        assertMessage(() -> TimeGrid.benton(1, 1e-3, 0), "got 0");
        GaussianMixture reference = references()[1];
        assertMessage(() -> TimeGrid.curvature(null, 6, 1e-3, 10), "reference");
        assertMessage(() -> TimeGrid.curvature(reference, 0.5, 1e-3, 10), "0.5");
        assertMessage(() -> TimeGrid.curvature(reference, 6, 0, 10), "0.0");
        assertMessage(() -> TimeGrid.curvature(reference, 6, 1e-3, 0), "got 0");
        assertMessage(() -> TimeGrid.autoSteps(null, 6, 1e-3), "reference");
        assertMessage(() -> TimeGrid.curvatureProfile(reference, 6, 1e-3).autoSteps(0), "got 0.0");
        assertMessage(() -> TimeGrid.autoMaxSteps(0), "got 0");
        assertMessage(() -> TimeGrid.learnedLevels(0, 1e-3, 6), "got 0");
        assertMessage(() -> TimeGrid.learnedLevels(4, 7, 6), "delta = 7.0");
        assertMessage(() -> TimeGrid.learnedLevels(4, -1, 6), "delta = -1.0");
        assertMessage(() -> TimeGrid.learnedLevels(4, 1e-3, Double.POSITIVE_INFINITY), "T = Infinity");
    }

    private static void assertMessage(Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should name " + fragment);
    }
}
