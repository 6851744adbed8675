package io.scoremix.core.score;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ScoreModel.divergence against central finite differences of ScoreModel.score, and the mixture Laplacian. */
class ScoreModelDivergenceTest {

    /** Two overlapping components and one apart, 2-D: several cells at small t, one at large t. */
    static final GaussianMixture THREE = GaussianMixture.of(new double[] {0.5, 0.3, 0.2},
            new double[][] {{0.0, 0.0}, {1.0, 0.9}, {-3.0, 2.0}},
            new double[][][] {{{0.9, 0.25}, {0.25, 0.2}}, {{0.25, 0.1}, {0.1, 0.5}}, {{0.1, -0.05}, {-0.05, 0.2}}});

    /** Central difference step; the truncation error is O(FD_STEP^2 * third derivatives). */
    private static final double FD_STEP = 1e-5;
    /** Relative tolerance of a central difference at FD_STEP (truncation ~1e-10, rounding ~1e-16/1e-5). */
    private static final double FD_TOLERANCE = 1e-6;

    static double[] finiteDifferenceDivergence(ScoreModel model, double t, double[] z, int n) {
        int d = model.dimension();
        double[] div = new double[n];
        double[] zp = new double[n * d];
        double[] sp = new double[n * d];
        double[] sm = new double[n * d];
        for (int r = 0; r < d; r++) {
            System.arraycopy(z, 0, zp, 0, n * d);
            for (int j = 0; j < n; j++) {
                zp[j * d + r] += FD_STEP;
            }
            model.score(t, zp, n, sp);
            System.arraycopy(z, 0, zp, 0, n * d);
            for (int j = 0; j < n; j++) {
                zp[j * d + r] -= FD_STEP;
            }
            model.score(t, zp, n, sm);
            for (int j = 0; j < n; j++) {
                div[j] += (sp[j * d + r] - sm[j * d + r]) / (2 * FD_STEP);
            }
        }
        return div;
    }

    @Test
    void mixtureLaplacianIsTheTraceOfTheHessian() {
        int d = 2;
        int n = 300;
        double[] x = new double[n * d];
        THREE.sample(CounterRandom.of(1), 2, 0, n, x);
        double[] lap = new double[n];
        THREE.laplacian(x, n, lap);
        double[] h = new double[d * d];
        for (int j = 0; j < n; j++) {
            THREE.hessian(new double[] {x[j * d], x[j * d + 1]}, h);
            double tr = h[0] + h[3];
            assertEquals(tr, lap[j], 1e-10 * Math.max(1, Math.abs(tr)), "point " + j);
        }
    }

    /** Checks the model's divergence against finite differences at times on and between learned levels. */
    static int checkModel(ScoreModel model, String label) {
        int d = model.dimension();
        int n = 400;
        double[] z = new double[n * d];
        GaussianMixture crude = model.crude();
        double[] times = model.levelTimes();
        int checked = 0;
        int mismatched = 0;
        double worst = 0;
        for (double t : new double[] {times[0], 0.5 * (times[0] + times[1]), 0.03, 0.4, 1.3, times[times.length - 1], 9.0}) {
            crude.noised(t).sample(CounterRandom.of(7), 3, 0, n, z);
            double[] exact = new double[n];
            model.divergence(t, z, n, exact);
            double[] fd = finiteDifferenceDivergence(model, t, z, n);
            for (int j = 0; j < n; j++) {
                double err = Math.abs(exact[j] - fd[j]) / Math.max(1, Math.abs(fd[j]));
                checked++;
                if (err > FD_TOLERANCE) {
                    // A point within FD_STEP of a cell border or a gate: the field jumps there.
                    mismatched++;
                } else {
                    worst = Math.max(worst, err);
                }
            }
        }
        int fitted = 0;
        for (int l = 0; l < model.levelCount(); l++) {
            for (double[] beta : model.level(l).coefficients) {
                fitted += beta == null ? 0 : 1;
            }
        }
        System.out.printf("%s: %d fitted cells; divergence vs central differences, %d points, worst relative error "
                + "%.3g, %d at a border%n", label, fitted, checked, worst, mismatched);
        // A border within FD_STEP of a point has probability O(FD_STEP): allow a handful, never a pattern.
        assertTrue(mismatched <= checked / 500, label + ": " + mismatched + " of " + checked + " points disagree");
        return fitted;
    }

    private static double[] sample(GaussianMixture m, int n, long seed) {
        double[] x = new double[n * m.dimension()];
        m.sample(CounterRandom.of(seed), 1, 0, n, x);
        return x;
    }

    @Test
    void divergenceMatchesFiniteDifferencesForEveryModeAndFamily() {
        int n = 20_000;
        double[] x = sample(THREE, n, 11);
        LearnerConfig.Builder base = LearnerConfig.builder(3).levels(6).delta(5e-3).seed(3);
        checkModel(Learner.fit(x, n, 2, null, base.mode(LearnerConfig.Mode.PLUGIN).build()).model(), "plug-in");
        checkModel(Learner.fit(x, n, 2, null, base.mode(LearnerConfig.Mode.PAPER).degree(2).build()).model(),
                "paper, monomial degree 2, hard cells");
        // The crude mixture of 3 components fitted with k = 2 is misspecified: the residual fits are kept.
        LearnerConfig.Builder misfit = LearnerConfig.builder(2).levels(6).delta(5e-3).seed(3).degree(2)
                .mode(LearnerConfig.Mode.DEFAULT);
        assertTrue(checkModel(Learner.fit(x, n, 2, null, misfit.features(LearnerConfig.Features.SOFT_GATED).build())
                .model(), "residual (k = 2), soft-gated degree 2") > 0);
        assertTrue(checkModel(Learner.fit(x, n, 2, null, misfit.features(LearnerConfig.Features.MONOMIAL).build())
                .model(), "residual (k = 2), monomial degree 2, hard cells") > 0);
    }
}
