package io.scoremix.core.score;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearnerTest {

    private static final GaussianMixture ONE_GAUSSIAN = GaussianMixture.of(new double[] {1.0},
            new double[][] {{1.0, -2.0, 0.5}},
            new double[][][] {{{2.0, 0.6, 0.0}, {0.6, 1.0, -0.3}, {0.0, -0.3, 0.5}}});

    /** Mean squared error of the model's score against the exact score, over m fresh points of q_t. */
    private static double scoreError(ScoreModel model, GaussianMixture whitenedTruth, double t, int m, long seed) {
        int d = whitenedTruth.dimension();
        GaussianMixture qt = whitenedTruth.noised(t);
        double[] x = new double[m * d];
        qt.sample(CounterRandom.of(seed), 5, 0, m, x);
        double[] exact = new double[m * d];
        double[] learned = new double[m * d];
        qt.score(x, m, exact);
        model.score(t, x, m, learned);
        double s = 0;
        for (int j = 0; j < m * d; j++) {
            double e = learned[j] - exact[j];
            s += e * e;
        }
        return s / m;
    }

    @Test
    void degreeOneRecoversTheAffineScoreOfOneGaussianAtEveryLevel() {
        int n = 50_000;
        int d = 3;
        double[] x = new double[n * d];
        ONE_GAUSSIAN.sample(CounterRandom.of(3), 1, 0, n, x);
        LearnerConfig config = LearnerConfig.builder(1).mode(LearnerConfig.Mode.PAPER).degree(1).levels(8)
                .noisesPerRow(2).delta(1e-2).seed(9).build();
        Learner.Result result = Learner.fit(x, n, d, null, config);
        ScoreModel model = result.model();
        GaussianMixture truth = model.whitening().toWhitened(ONE_GAUSSIAN);
        int p = d + 1;
        double nTrain = n * 0.9 * config.noisesPerRow();
        for (double t : model.levelTimes()) {
            double s2 = io.scoremix.core.diffusion.NoiseSchedule.sigma2(t);
            // OLS on n rows with per-output noise variance at most 1/sigma_t^2 leaves an expected squared
            // error of about d * p / (sigma_t^2 n) in the fitted affine map at a typical point; the noises
            // of one row are correlated across draws, so count rows, not draws, with a factor 4 margin.
            double tolerance = 4.0 * d * p / (s2 * n * 0.9) + 1e-12;
            double err = scoreError(model, truth, t, 20_000, 17);
            System.out.printf("single Gaussian, t = %.4g: score MSE %.3g, tolerance %.3g%n", t, err, tolerance);
            assertTrue(err <= tolerance, "t = " + t + ": error " + err + " > tolerance " + tolerance
                    + " (train rows x draws " + nTrain + ")");
        }
    }

    @Test
    void plugInModeReproducesTheCrudeScore() {
        int n = 20_000;
        int d = 3;
        double[] x = new double[n * d];
        ONE_GAUSSIAN.sample(CounterRandom.of(4), 1, 0, n, x);
        LearnerConfig config = LearnerConfig.builder(1).mode(LearnerConfig.Mode.PLUGIN).levels(4).delta(1e-2).build();
        Learner.Result result = Learner.fit(x, n, d, null, config);
        ScoreModel model = result.model();
        double t = 0.37;
        double[] z = new double[10 * d];
        CounterRandom.of(8).fillGaussian(1, 0, z, 0, z.length);
        double[] a = new double[z.length];
        double[] b = new double[z.length];
        model.score(t, z, 10, a);
        model.crude().noised(t).score(z, 10, b);
        for (int j = 0; j < z.length; j++) {
            assertEquals(b[j], a[j], 1e-12 * Math.max(1, Math.abs(b[j])));
        }
        for (LearningPlan.LevelReport level : result.levels()) {
            assertEquals(level.pluginLoss(), level.fitLoss(), 1e-9 * level.pluginLoss(), "t = " + level.time());
        }
    }
}
