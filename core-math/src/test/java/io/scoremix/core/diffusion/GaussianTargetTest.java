package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

/**
 * The samplers on one Gaussian target N(mu, Q) with its exact score. The score is affine, so every
 * step of either method is an affine map plus Gaussian noise and the output law is Gaussian with a
 * mean and covariance that a 2 x 2 recursion computes exactly ({@link #discreteLaw}). This separates
 * the two errors: Monte Carlo samples must match the recursion within sampling error (a bug anywhere in
 * the sampler breaks that), and the recursion's distance to q_delta is the discretisation bias, which
 * must shrink at the method's order.
 */
class GaussianTargetTest {

    private static final GaussianMixture TARGET = TestMixtures.gaussian2d();
    private static final double HORIZON = 6;
    private static final double DELTA = 1e-3;
    /** Monte Carlo tolerance in standard errors: a false alarm per check has probability ~6e-7. */
    private static final double Z = 5;

    @Test
    void sdeWith256StepsMatchesItsExactDiscreteLawAndQDelta() {
        int n = 100_000;
        TimeGrid grid = TimeGrid.benton(HORIZON, DELTA, 256);
        double[] out = new double[2 * n];
        ReverseSampler.of(SamplerConfig.builder(grid).build())
                .sample(ExactScore.of(TARGET), CounterRandom.of(3), 0, 0, n, out);
        SampleMoments mc = new SampleMoments(out, n, 2);
        double[][] law = discreteLaw(grid, SamplerConfig.Method.SDE);
        GaussianMixture q = TARGET.noised(DELTA);
        double[] qMean = q.mean(0);
        double[] qCov = flat(q.covariance(0));
        System.out.printf("Gaussian SDE N=256 n=%d: |mean - q_delta| = %.2e (se %.1e), "
                        + "|cov - q_delta| = %.2e (se %.1e); exact discretisation bias: mean %.2e, cov %.2e; MC vs discrete law: %.1f / %.1f se%n",
                n, mc.meanError(qMean), mc.meanSe[0], mc.covError(qCov), mc.covSe[0],
                maxAbsDiff(law[0], qMean), maxAbsDiff(law[1], qCov), mc.meanZ(law[0]), mc.covZ(law[1]));
        assertTrue(mc.meanZ(law[0]) < Z, "mean vs discrete law: " + mc.meanZ(law[0]) + " se");
        assertTrue(mc.covZ(law[1]) < Z, "covariance vs discrete law: " + mc.covZ(law[1]) + " se");
        // Against q_delta itself, the tolerance adds the exact discretisation bias of 256 steps.
        for (int r = 0; r < 2; r++) {
            assertEquals(qMean[r], mc.mean[r], Z * mc.meanSe[r] + Math.abs(law[0][r] - qMean[r]), "mean " + r);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(qCov[i], mc.cov[i], Z * mc.covSe[i] + Math.abs(law[1][i] - qCov[i]), "covariance " + i);
        }
    }

    @Test
    void odeMatchesItsExactDiscreteLaw() {
        int n = 100_000;
        TimeGrid grid = TimeGrid.benton(HORIZON, DELTA, 64);
        double[] out = new double[2 * n];
        ReverseSampler.of(SamplerConfig.builder(grid).method(SamplerConfig.Method.ODE).build())
                .sample(ExactScore.of(TARGET), CounterRandom.of(4), 0, 0, n, out);
        SampleMoments mc = new SampleMoments(out, n, 2);
        double[][] law = discreteLaw(grid, SamplerConfig.Method.ODE);
        System.out.printf("Gaussian ODE N=64 n=%d: MC vs discrete law: %.1f / %.1f se%n", n, mc.meanZ(law[0]),
                mc.covZ(law[1]));
        assertTrue(mc.meanZ(law[0]) < Z, "mean vs discrete law: " + mc.meanZ(law[0]) + " se");
        assertTrue(mc.covZ(law[1]) < Z, "covariance vs discrete law: " + mc.covZ(law[1]) + " se");
    }

    @Test
    void discretisationErrorHasTheMethodsOrder() {
        GaussianMixture q = TARGET.noised(DELTA);
        double[] qMean = q.mean(0);
        double[] qCov = flat(q.covariance(0));
        for (SamplerConfig.Method method : SamplerConfig.Method.values()) {
            int order = method == SamplerConfig.Method.SDE ? 1 : 2;
            // The continuous-time limit, approximated by 16384 steps. Its distance to q_delta is the error of
            // starting at N(0, I) instead of q_T, which no step count removes (plus, for the first-order SDE,
            // the 16384-step discretisation error, ~2e-4). The SDE forgets the start like e^{-2T}; the ODE
            // carries the O(e^{-T} |mu|) mean offset of q_T through to delta.
            double[][] limit = discreteLaw(TimeGrid.benton(HORIZON, DELTA, 16384), method);
            System.out.printf("Gaussian %s start error |limit - q_delta|: mean %.2e, cov %.2e%n", method,
                    maxAbsDiff(limit[0], qMean), maxAbsDiff(limit[1], qCov));
            StringBuilder line = new StringBuilder("Gaussian " + method + " discretisation error |law_N - limit|:");
            double previous = Double.NaN;
            for (int steps = 32; steps <= 512; steps *= 2) {
                double[][] law = discreteLaw(TimeGrid.benton(HORIZON, DELTA, steps), method);
                double error = Math.max(maxAbsDiff(law[0], limit[0]), maxAbsDiff(law[1], limit[1]));
                line.append(String.format(" N=%d %.2e", steps, error));
                if (!Double.isNaN(previous)) {
                    // Doubling the steps divides the error by 2^order; the rounding of the grid's phase counts
                    // keeps the ratio within 30 percent of that.
                    double ratio = previous / error;
                    assertEquals(Math.pow(2, order), ratio, 0.3 * Math.pow(2, order),
                            method + ": error ratio from " + steps / 2 + " to " + steps + " steps");
                }
                previous = error;
            }
            System.out.println(line);
        }
    }

    /**
     * The exact law N(mean, cov) of the sampler's output on this grid for the Gaussian target: with
     * {@code S_t = e^{-2t} Q + sigma_t^2 I}, {@code m_t = e^{-t} mu} and {@code P = S^{-1}} the exact score
     * is {@code -P (y - m_t)}, so an SDE step is {@code y' = A y + b + c xi} with {@code A = e^h I - 2(e^h - 1) P_j},
     * {@code b = 2(e^h - 1) P_j m_j}, {@code c^2 = e^{2h} - 1}; an ODE step is affine too. Computed with plain
     * 2 x 2 matrix algebra, independently of the sampler and of GaussianMixture's score.
     *
     * @return {mean (2), covariance (2 x 2 row-major)}
     */
    static double[][] discreteLaw(TimeGrid grid, SamplerConfig.Method method) {
        double[] mu = TARGET.mean(0);
        double[] q = flat(TARGET.covariance(0));
        double[] mean = {0, 0};
        double[] cov = {1, 0, 0, 1};
        for (int j = 0; j < grid.steps(); j++) {
            double t0 = grid.time(j);
            double t1 = grid.time(j + 1);
            double e = Math.expm1(t0 - t1);
            double[] p0 = precision(q, t0);
            double[] m0 = scale(mu, Math.exp(-t0));
            double[] a;
            double[] b;
            double noise;
            if (method == SamplerConfig.Method.SDE) {
                a = add(identity(1 + e), scaleM(p0, -2 * e));
                b = mul(scaleM(p0, 2 * e), m0);
                noise = Math.expm1(2 * (t0 - t1));
            } else {
                // pred = e^h y + e s1, s1 = -P0 (y - m0): pred = A1 y + b1.
                double[] a1 = add(identity(1 + e), scaleM(p0, -e));
                double[] b1 = mul(scaleM(p0, e), m0);
                double[] p1 = precision(q, t1);
                double[] m1 = scale(mu, Math.exp(-t1));
                // y' = e^h y + e/2 (s1 + s2), s2 = -P1 (pred - m1).
                a = add(add(identity(1 + e), scaleM(p0, -e / 2)), scaleM(mulM(p1, a1), -e / 2));
                b = addV(mul(scaleM(p0, e / 2), m0), mul(scaleM(p1, e / 2), subV(m1, b1)));
                noise = 0;
            }
            mean = addV(mul(a, mean), b);
            cov = add(mulM(mulM(a, cov), transpose(a)), identity(noise));
        }
        return new double[][] {mean, cov};
    }

    private static double[] precision(double[] q, double t) {
        double a2 = Math.exp(-2 * t);
        double s2 = NoiseSchedule.sigma2(t);
        double s00 = a2 * q[0] + s2;
        double s01 = a2 * q[1];
        double s11 = a2 * q[3] + s2;
        double det = s00 * s11 - s01 * s01;
        return new double[] {s11 / det, -s01 / det, -s01 / det, s00 / det};
    }

    private static double[] flat(double[][] m) {
        return new double[] {m[0][0], m[0][1], m[1][0], m[1][1]};
    }

    private static double[] identity(double v) {
        return new double[] {v, 0, 0, v};
    }

    private static double[] add(double[] a, double[] b) {
        return new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]};
    }

    private static double[] scaleM(double[] a, double s) {
        return new double[] {s * a[0], s * a[1], s * a[2], s * a[3]};
    }

    private static double[] mulM(double[] a, double[] b) {
        return new double[] {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
    }

    private static double[] transpose(double[] a) {
        return new double[] {a[0], a[2], a[1], a[3]};
    }

    private static double[] mul(double[] a, double[] v) {
        return new double[] {a[0] * v[0] + a[1] * v[1], a[2] * v[0] + a[3] * v[1]};
    }

    private static double[] scale(double[] v, double s) {
        return new double[] {s * v[0], s * v[1]};
    }

    private static double[] addV(double[] a, double[] b) {
        return new double[] {a[0] + b[0], a[1] + b[1]};
    }

    private static double[] subV(double[] a, double[] b) {
        return new double[] {a[0] - b[0], a[1] - b[1]};
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
