package io.scoremix.core.score;

import io.scoremix.core.features.FeatureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The softmax and projected families through the learner, the model's divergence and the model format. */
class InnerFeaturesLearnerTest {

    private static double[] sample(GaussianMixture m, int n, long seed) {
        double[] x = new double[n * m.dimension()];
        m.sample(CounterRandom.of(seed), 1, 0, n, x);
        return x;
    }

    private static ScoreModel fit(LearnerConfig.Features family, LearnerConfig.Mode mode, int degree) {
        int n = 20_000;
        double[] x = sample(ScoreModelDivergenceTest.THREE, n, 21);
        LearnerConfig config = LearnerConfig.builder(3).mode(mode).features(family).degree(degree)
                .projectionRank(1).levels(6).delta(5e-3).seed(4).build();
        return Learner.fit(x, n, 2, null, config).model();
    }

    @Test
    void planUsesTheFamilyPerCellWithItsCounts() {
        int n = 5_000;
        double[] x = sample(ScoreModelDivergenceTest.THREE, n, 22);
        LearnerConfig config = LearnerConfig.builder(3).mode(LearnerConfig.Mode.PAPER)
                .features(LearnerConfig.Features.SOFTMAX).degree(2).levels(6).delta(5e-3).build();
        ScoreModel model = Learner.fit(x, n, 2, null, config).model();
        for (int l = 0; l < model.levelCount(); l++) {
            LevelModel level = model.level(l);
            for (int c = 0; c < level.cells.count(); c++) {
                int m = level.cells.subMixture(c).components();
                // (d + 1) C(m - 1 + D, D) with d = 2, D = 2.
                long expected = 3L * (m - 1 + 2) * (m - 1 + 1) / 2;
                assertEquals(expected, level.features[c].size(), "level " + l + " cell " + c + " of " + m);
                assertEquals(FeatureSpec.SOFTMAX, level.features[c].spec().family());
            }
        }
        LearnerConfig projected = LearnerConfig.builder(3).features(LearnerConfig.Features.PROJECTED).degree(3)
                .projectionRank(2).levels(4).delta(5e-3).build();
        ScoreModel pm = Learner.fit(x, n, 2, null, projected).model();
        // (d + 1) C(r + l, l) = 3 * C(5, 3) = 30.
        assertEquals(30, pm.level(0).features[0].size());
        assertThrows(IllegalArgumentException.class, () -> LearnerConfig.builder(3).projectionRank(0));
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> Learner.fit(x, n, 2,
                null, projected.toBuilder().projectionRank(3).build()));
        assertTrue(tooMany.getMessage().contains("projectionRank"), tooMany.getMessage());
    }

    @Test
    void divergenceOfSoftmaxAndProjectedModelsMatchesFiniteDifferences() {
        assertTrue(ScoreModelDivergenceTest.checkModel(fit(LearnerConfig.Features.SOFTMAX, LearnerConfig.Mode.PAPER, 2),
                "paper, softmax degree 2") > 0);
        assertTrue(ScoreModelDivergenceTest.checkModel(fit(LearnerConfig.Features.PROJECTED, LearnerConfig.Mode.PAPER,
                3), "paper, projected rank 1 degree 3") > 0);
    }

    @Test
    void saveThenLoadGivesAnIdenticalModel(@TempDir Path dir) throws Exception {
        ScoreModel[] models = {fit(LearnerConfig.Features.SOFTMAX, LearnerConfig.Mode.PAPER, 2),
                fit(LearnerConfig.Features.PROJECTED, LearnerConfig.Mode.PAPER, 2)};
        int i = 0;
        for (ScoreModel model : models) {
            Path folder = dir.resolve("m" + i++);
            ScoreModelFormat.save(model, Map.of(), folder, false);
            ScoreModel loaded = ScoreModelFormat.load(folder);
            double[] z = new double[50 * 2];
            CounterRandom.of(3).fillGaussian(7, 0, z, 0, z.length);
            for (double t : new double[] {0.005, 0.05, 0.3, 2.0, 5.9}) {
                double[] a = new double[z.length];
                double[] b = new double[z.length];
                model.score(t, z, 50, a);
                loaded.score(t, z, 50, b);
                assertArrayEquals(a, b, 0.0, "t = " + t);
                double[] da = new double[50];
                double[] db = new double[50];
                model.divergence(t, z, 50, da);
                loaded.divergence(t, z, 50, db);
                assertArrayEquals(da, db, 0.0, "t = " + t);
            }
            ScoreModelFormat.Encoded e1 = ScoreModelFormat.encode(model, null);
            ScoreModelFormat.Encoded e2 = ScoreModelFormat.encode(loaded, null);
            assertArrayEquals(e1.modelJson(), e2.modelJson());
            assertArrayEquals(e1.coefficients(), e2.coefficients());
        }
        // The older families write no inner-variable keys, so their files read as before.
        ScoreModel monomial = fit(LearnerConfig.Features.MONOMIAL, LearnerConfig.Mode.PAPER, 2);
        String json = new String(ScoreModelFormat.encode(monomial, null).modelJson(), StandardCharsets.UTF_8);
        assertFalse(json.contains("inner_") || json.contains("directions"), "monomial model.json has new keys");
        // A softmax file whose ratio standardisation is missing is refused with its location named.
        ScoreModelFormat.Encoded e = ScoreModelFormat.encode(models[0], null);
        // (without its content checksum, which would otherwise catch the edit first)
        String broken = new String(e.modelJson(), StandardCharsets.UTF_8)
                .replaceFirst("^\\{\\n  \"content_sha256\" : \"[0-9a-f]{64}\",", "{")
                .replaceFirst("\"inner_scale\"", "\"x\"");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> ScoreModelFormat.decode(broken.getBytes(StandardCharsets.UTF_8), e.coefficients(), "broken"));
        assertTrue(bad.getMessage().contains("inner_scale"), bad.getMessage());
    }

    /**
     * Two overlapping 1-D components in one cell, paper target: the affine (1, z) of degree 0 cannot follow
     * the bimodal score, softmax degree 1 and 3 (polynomials in the log-likelihood ratio times (1, z)) can.
     */
    @Test
    void softmaxOfDegreeAtLeastOneRecoversATwoComponentScoreBetterThanDegreeZero() {
        GaussianMixture truth = GaussianMixture.of(new double[] {0.45, 0.55}, new double[][] {{-1.6}, {1.4}},
                new double[][][] {{{0.35}}, {{0.8}}});
        int n = 50_000;
        double[] x = sample(truth, n, 31);
        double[] errors = new double[3];
        int[] degrees = {0, 1, 3};
        for (int i = 0; i < degrees.length; i++) {
            LearnerConfig config = LearnerConfig.builder(2).mode(LearnerConfig.Mode.PAPER)
                    .features(LearnerConfig.Features.SOFTMAX).degree(degrees[i]).maxOverlapDistance(1e9)
                    .levels(12).noisesPerRow(2).delta(1e-2).seed(5).build();
            ScoreModel model = Learner.fit(x, n, 1, null, config).model();
            GaussianMixture whitened = model.whitening().toWhitened(truth);
            for (int l = 0; l < model.levelCount(); l++) {
                assertEquals(1, model.level(l).cells.count(), "one cell at level " + l);
            }
            double sum = 0;
            StringBuilder line = new StringBuilder();
            for (double t : new double[] {0.02, 0.05, 0.1, 0.2, 0.4}) {
                double e = heldOutScoreError(model, whitened, t, 20_000, 77);
                sum += e;
                line.append(String.format(" t=%.2f: %.4f", t, e));
            }
            errors[i] = sum / 5;
            System.out.printf("softmax degree %d, held-out score MSE%s; mean %.4f%n", degrees[i], line, errors[i]);
        }
        assertTrue(errors[1] < 0.5 * errors[0], "degree 1 " + errors[1] + " vs degree 0 " + errors[0]);
        assertTrue(errors[2] < 0.5 * errors[0], "degree 3 " + errors[2] + " vs degree 0 " + errors[0]);
    }

    /** Mean squared error of the model's score against the exact score, over m fresh points of q_t. */
    private static double heldOutScoreError(ScoreModel model, GaussianMixture whitenedTruth, double t, int m, long seed) {
        int d = whitenedTruth.dimension();
        GaussianMixture qt = whitenedTruth.noised(t);
        double[] z = new double[m * d];
        qt.sample(CounterRandom.of(seed), 5, 0, m, z);
        double[] exact = new double[m * d];
        double[] learned = new double[m * d];
        qt.score(z, m, exact);
        model.score(t, z, m, learned);
        double s = 0;
        for (int j = 0; j < m * d; j++) {
            double e = learned[j] - exact[j];
            s += e * e;
        }
        return s / m;
    }
}
