package io.scoremix.core.score;

import io.scoremix.core.diffusion.NoiseSchedule;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-cell fast path of {@link ScoreModel#score} (crude score evaluated once for both neighbouring
 * levels) equals the per-level predictions blended in log sigma^2, the general definition.
 */
class ScoreModelSharedBaselineTest {

    private static final GaussianMixture TWO = GaussianMixture.of(new double[] {0.4, 0.6},
            new double[][] {{-2, 0}, {2, 1}},
            new double[][][] {{{1, 0.3}, {0.3, 0.5}}, {{0.6, -0.2}, {-0.2, 1.0}}});

    @Test
    void oneCellScoreEqualsTheBlendOfTheLevelPredictions() {
        int n = 20_000;
        double[] x = new double[n * 2];
        TWO.sample(CounterRandom.of(5), 1, 0, n, x);
        // k = 1 on two components: misspecified crude, so the soft-gated levels keep coefficients.
        ScoreModel model = Learner.fit(x, n, 2, null,
                LearnerConfig.builder(1).degree(2).levels(6).delta(1e-2).build()).model();
        int kept = 0;
        for (int l = 0; l < model.levelCount(); l++) {
            kept += model.level(l).coefficients[0] != null ? 1 : 0;
        }
        assertTrue(kept >= 2, "the test needs fitted corrections, got " + kept + " levels with coefficients");
        double[] times = model.levelTimes();
        int m = 200;
        double[] z = new double[m * 2];
        CounterRandom.of(9).fillGaussian(1, 0, z, 0, z.length);
        double[] queries = {times[0] * 0.5, times[0], Math.sqrt(times[1] * times[2]), times[3],
                0.5 * (times[4] + times[5]), times[5] * 1.5};
        for (double t : queries) {
            double[] fast = new double[m * 2];
            model.score(t, z, m, fast);
            double[] blended = blend(model, t, z, m);
            for (int j = 0; j < m * 2; j++) {
                // (1 - w) b + w b against b: rounding of a few ulps of the baseline's size.
                assertEquals(blended[j], fast[j], 1e-12 * Math.max(1, Math.abs(blended[j])), "t = " + t + ", entry " + j);
            }
        }
    }

    /** The general definition: the nearest level outside the range, else linear in log sigma^2. */
    private static double[] blend(ScoreModel model, double t, double[] z, int m) {
        double[] times = model.levelTimes();
        double ls = Math.log(NoiseSchedule.sigma2(t));
        double[] out = new double[m * 2];
        if (t <= times[0] || t >= times[times.length - 1]) {
            model.predict(t <= times[0] ? 0 : times.length - 1, t, z, m, out);
            return out;
        }
        int hi = 1;
        while (times[hi] < t) {
            hi++;
        }
        int lo = hi - 1;
        double a = Math.log(NoiseSchedule.sigma2(times[lo]));
        double b = Math.log(NoiseSchedule.sigma2(times[hi]));
        double w = (ls - a) / (b - a);
        double[] other = new double[m * 2];
        model.predict(lo, t, z, m, out);
        model.predict(hi, t, z, m, other);
        for (int j = 0; j < m * 2; j++) {
            out[j] = (1 - w) * out[j] + w * other[j];
        }
        return out;
    }
}
