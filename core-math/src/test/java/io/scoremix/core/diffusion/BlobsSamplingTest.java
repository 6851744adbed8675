package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Both samplers with the exact score of blobs-2d (3 overlapping anisotropic components), T = 6,
 * delta = 1e-3, checked by Monte Carlo against q_delta, the mixture noised to delta, whose moments are
 * known in closed form. Standard errors are estimated from the samples themselves ({@link SampleMoments});
 * a check fails beyond {@link #Z} of them.
 */
class BlobsSamplingTest {

    private static final GaussianMixture BLOBS = TestMixtures.blobs2d();
    private static final ExactScore SCORE = ExactScore.of(BLOBS);
    private static final double HORIZON = 6;
    private static final double DELTA = 1e-3;
    private static final GaussianMixture Q_DELTA = BLOBS.noised(DELTA);
    /** Points per Monte Carlo check: standard errors ~2.2e-3 on means, ~2.6e-3 on covariances. */
    private static final int N = 200_000;
    /** Monte Carlo tolerance in standard errors: a false alarm per check has probability ~6e-7. */
    private static final double Z = 5;
    /**
     * Allowance for the SDE's weak first-order bias on covariance entries, as a multiple of 1/steps. The
     * exact discrete law of the Gaussian target shows the bias is c/steps (GaussianTargetTest: 2.8/steps);
     * on blobs-2d it measured 3.8/steps at 256 steps and 4.4/steps at 32.
     */
    private static final double SDE_BIAS_PER_STEP = 6;

    private static final Map<String, double[]> RUNS = new HashMap<>();

    /** The output of one configuration on points [0, N) of stream 0, seed 5, computed once per class. */
    private static synchronized double[] run(SamplerConfig.Method method, int steps, int n) {
        return RUNS.computeIfAbsent(method + "/" + steps + "/" + n, key -> {
            double[] out = new double[2 * n];
            SamplerConfig config = SamplerConfig.builder(TimeGrid.benton(HORIZON, DELTA, steps)).method(method).build();
            ReverseSampler.of(config).sample(SCORE, CounterRandom.of(5), 0, 0, n, out);
            return out;
        });
    }

    @Test
    void sdeWith256StepsMatchesQDelta() {
        checkAgainstQDelta(SamplerConfig.Method.SDE, 256, N, SDE_BIAS_PER_STEP / 256);
    }

    @Test
    void residualSdeWith256StepsMatchesQDelta() {
        // Same weak order as the paper's scheme, so the same first-order allowance.
        checkAgainstQDelta(SamplerConfig.Method.SDE_RESIDUAL, 256, N, SDE_BIAS_PER_STEP / 256);
    }

    @Test
    void odeWith256StepsMatchesQDelta() {
        // Second order: the bias at 256 steps is ~1e-4 (OdeConvergenceTest), far below the standard errors,
        // so half the points suffice (two score calls per step).
        checkAgainstQDelta(SamplerConfig.Method.ODE, 256, N / 2, 0);
    }

    private static void checkAgainstQDelta(SamplerConfig.Method method, int steps, int n, double covBias) {
        double[] y = run(method, steps, n);
        SampleMoments mc = new SampleMoments(y, n, 2);
        double[] mean = Q_DELTA.overallMean();
        double[] cov = Q_DELTA.overallCovariance();
        double[] weights = posteriorWeights(y, n);
        System.out.printf("blobs-2d %s N=%d n=%d: |mean - q_delta| %.2e (%.1f se), |cov - q_delta| %.2e (%.1f se),"
                        + " mean posteriors %.4f %.4f %.4f (%.1f se)%n", method, steps, n,
                mc.meanError(mean), mc.meanZ(mean), mc.covError(cov), mc.covZ(cov),
                weights[0], weights[1], weights[2], weights[3]);
        for (int r = 0; r < 2; r++) {
            assertEquals(mean[r], mc.mean[r], Z * mc.meanSe[r], method + ": mean " + r);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(cov[i], mc.cov[i], Z * mc.covSe[i] + covBias, method + ": covariance entry " + i);
        }
        // Component-wise: for Y ~ q_delta, E[pi_i(Y)] = lambda_i exactly (posterior of the noised mixture).
        assertTrue(weights[3] < Z, method + ": posterior-weighted frequencies off by " + weights[3] + " se");
    }

    /** Means of the q_delta posteriors over the sample, then the largest deviation from the weights in se. */
    private static double[] posteriorWeights(double[] y, int n) {
        int k = 3;
        double[] post = new double[n * k];
        Q_DELTA.posteriors(y, n, post);
        double[] sum = new double[k];
        double[] sq = new double[k];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < k; i++) {
                double p = post[j * k + i];
                sum[i] += p;
                sq[i] += p * p;
            }
        }
        double[] result = new double[k + 1];
        for (int i = 0; i < k; i++) {
            double m = sum[i] / n;
            double se = Math.sqrt((sq[i] / n - m * m) / n);
            result[i] = m;
            result[k] = Math.max(result[k], Math.abs(m - BLOBS.weight(i)) / se);
        }
        return result;
    }

    @Test
    void sdeBiasShrinksWithTheStepCount() {
        // Statistic: the second moment E||Y||^2, exact under q_delta: tr(C) + ||m||^2.
        double[] mean = Q_DELTA.overallMean();
        double[] cov = Q_DELTA.overallCovariance();
        double exact = cov[0] + cov[3] + mean[0] * mean[0] + mean[1] * mean[1];
        double[] err256 = secondMomentError(run(SamplerConfig.Method.SDE, 256, N), exact);
        StringBuilder line = new StringBuilder("blobs-2d SDE second-moment error (se):");
        for (int steps : new int[] {8, 16, 32}) {
            double[] err = secondMomentError(run(SamplerConfig.Method.SDE, steps, N), exact);
            line.append(String.format(" N=%d %.3e (%.1e)", steps, err[0], err[1]));
            // |err_N| must exceed |err_256| by more than Z times the combined standard error (se_N + se_256
            // bounds the standard error of the difference whatever the correlation of the two runs).
            assertTrue(Math.abs(err[0]) - Math.abs(err256[0]) > Z * (err[1] + err256[1]),
                    "N = " + steps + ": error " + err[0] + " vs " + err256[0] + " at 256 steps");
        }
        line.append(String.format(" N=256 %.3e (%.1e)", err256[0], err256[1]));
        System.out.println(line);
    }

    /** {mean ||y||^2 - exact, its standard error}. */
    private static double[] secondMomentError(double[] y, double exact) {
        double sum = 0;
        double sq = 0;
        for (int j = 0; j < N; j++) {
            double v = y[2 * j] * y[2 * j] + y[2 * j + 1] * y[2 * j + 1];
            sum += v;
            sq += v * v;
        }
        double m = sum / N;
        return new double[] {m - exact, Math.sqrt((sq / N - m * m) / N)};
    }

    @Test
    void tweedieOutputHasTheMixtureMean() {
        // E[x_0 | x_delta] has mean E[x_0] exactly, while x_delta has mean e^{-delta} E[x_0]. Applied to the
        // SDE run (the sampler's Tweedie step is this formula, bit for bit: ReverseSamplerTest).
        double[] y = run(SamplerConfig.Method.SDE, 256, N);
        double[] x = new double[2 * N];
        double[] s = new double[2 * N];
        SCORE.score(DELTA, y, N, s);
        double scale = Math.exp(DELTA);
        double s2 = NoiseSchedule.sigma2(DELTA);
        for (int i = 0; i < 2 * N; i++) {
            x[i] = scale * (y[i] + s2 * s[i]);
        }
        SampleMoments mc = new SampleMoments(x, N, 2);
        double[] mean = BLOBS.overallMean();
        System.out.printf("blobs-2d SDE N=256 + Tweedie: |mean - mixture mean| %.2e (%.1f se)%n", mc.meanError(mean),
                mc.meanZ(mean));
        assertTrue(mc.meanZ(mean) < Z, "Tweedie mean off by " + mc.meanZ(mean) + " se");
    }

    @Test
    void tweedieUndoesALargeEarlyStop() {
        // At delta = 0.5 the output mean e^{-1/2} m is far from m (0.06 and 0.18 apart, ~17 and ~50 se at
        // n = 50k); the Tweedie step must bring it back. ODE with 32 steps: bias ~1e-3, below 5 se ~ 2e-2.
        int n = 50_000;
        double delta = 0.5;
        TimeGrid grid = TimeGrid.benton(HORIZON, delta, 32);
        double[] mean = BLOBS.overallMean();
        for (boolean tweedie : new boolean[] {false, true}) {
            double[] out = new double[2 * n];
            ReverseSampler.of(SamplerConfig.builder(grid).method(SamplerConfig.Method.ODE).tweedie(tweedie).build())
                    .sample(SCORE, CounterRandom.of(6), 0, 0, n, out);
            SampleMoments mc = new SampleMoments(out, n, 2);
            double[] expected = tweedie ? mean : BLOBS.noised(delta).overallMean();
            System.out.printf("blobs-2d ODE delta=0.5 tweedie=%s: |mean - expected| %.2e (%.1f se)%n", tweedie,
                    mc.meanError(expected), mc.meanZ(expected));
            assertTrue(mc.meanZ(expected) < Z, "tweedie " + tweedie + ": mean off by " + mc.meanZ(expected) + " se");
        }
    }
}
