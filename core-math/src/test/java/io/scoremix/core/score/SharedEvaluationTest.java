package io.scoremix.core.score;

import io.scoremix.core.diffusion.NoiseSchedule;
import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The learner's shared evaluation of the noised crude mixture (one {@link GaussianMixture#groupScores}
 * per block for the cell, the gate, the residual's crude score and the soft gates' posteriors) against
 * the formulas it replaced: {@link Cells#assign}, the cell sub-mixture's {@code score} and
 * {@code posteriors}, and {@link LearningPlan#accumulate} against the previous row-block implementation
 * kept below as {@link #referenceAccumulate}. Only rounding differs: {@link #TOLERANCE} relative.
 */
class SharedEvaluationTest {

    /** Relative tolerance: the formulas agree to rounding (a few ulps times sums of tens to thousands of terms). */
    private static final double TOLERANCE = 1e-12;

    private static GaussianMixture randomMixture(int d, int k, double spread, SplittableRandom rnd) {
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[][][] cov = new double[k][d][d];
        double total = 0;
        for (int i = 0; i < k; i++) {
            w[i] = 0.2 + rnd.nextDouble();
            total += w[i];
            for (int r = 0; r < d; r++) {
                mu[i][r] = spread * (rnd.nextDouble() - 0.5);
            }
            double[][] a = new double[d][d];
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    a[r][c] = rnd.nextGaussian() * 0.4;
                }
            }
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    double s = r == c ? 0.3 : 0;
                    for (int m = 0; m < d; m++) {
                        s += a[r][m] * a[c][m];
                    }
                    cov[i][r][c] = s;
                }
            }
        }
        for (int i = 0; i < k; i++) {
            w[i] /= total;
        }
        return GaussianMixture.of(w, mu, cov);
    }

    /** |a - b| relative to the largest entry of the reference row b (and at least 1e-300). */
    private static void assertRowsClose(double[] expected, double[] actual, int n, int width, String what) {
        for (int j = 0; j < n; j++) {
            double scale = 1e-300;
            for (int r = 0; r < width; r++) {
                scale = Math.max(scale, Math.abs(expected[j * width + r]));
            }
            for (int r = 0; r < width; r++) {
                double diff = Math.abs(expected[j * width + r] - actual[j * width + r]) / scale;
                assertTrue(diff <= TOLERANCE, what + " of row " + j + ", entry " + r + ": " + expected[j * width + r]
                        + " vs " + actual[j * width + r] + " (relative " + diff + ")");
            }
        }
    }

    @Test
    void cellScoresEqualAssignmentThenSubMixtureScore() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 6; trial++) {
            int d = 2 + trial;
            int k = 2 + trial % 4;
            GaussianMixture m = randomMixture(d, k, 8.0, rnd).noised(0.05 * trial);
            // Trial 0..2: several cells with a gate; 3..5: everything in one cell, no gate (soft gates).
            Cells cells = trial < 3 ? Cells.of(m, 2.0 + trial, 1.0) : Cells.of(m, Double.POSITIVE_INFINITY,
                    Double.POSITIVE_INFINITY);
            int n = 700; // more than one internal chunk of the mixture kernels
            double[] x = new double[n * d];
            m.sample(CounterRandom.of(trial), 1, 0, n, x);
            for (int j = 0; j < n * d; j += 7) {
                x[j] *= 3; // some points far out, outside the gates
            }
            int[] cellOld = new int[n];
            boolean[] insideOld = new boolean[n];
            cells.assign(x, n, cellOld, insideOld);
            int[] cell = new int[n];
            boolean[] inside = new boolean[n];
            double[] post = new double[n * k];
            double[] score = new double[n * d];
            cells.assignAndScore(x, n, cell, inside, post, score, new double[n]);
            assertArrayEquals(cellOld, cell, "cells of trial " + trial);
            assertArrayEquals(insideOld, inside, "gates of trial " + trial);
            double[] scoreOld = new double[n * d];
            double[] postOld = new double[n * k];
            for (int c = 0; c < cells.count(); c++) {
                GaussianMixture sub = cells.subMixture(c);
                int[] members = new int[k];
                int mc = 0;
                for (int i = 0; i < k; i++) {
                    if (cells.cellOfComponent(i) == c) {
                        members[mc++] = i;
                    }
                }
                double[] one = new double[d];
                double[] s = new double[d];
                double[] p = new double[mc];
                for (int j = 0; j < n; j++) {
                    if (cell[j] != c) {
                        continue;
                    }
                    System.arraycopy(x, j * d, one, 0, d);
                    sub.score(one, 1, s);
                    sub.posteriors(one, 1, p);
                    System.arraycopy(s, 0, scoreOld, j * d, d);
                    for (int a = 0; a < mc; a++) {
                        postOld[j * k + members[a]] = p[a];
                    }
                }
            }
            assertRowsClose(scoreOld, score, n, d, "crude score (trial " + trial + ")");
            assertRowsClose(postOld, post, n, k, "posteriors within the cell (trial " + trial + ")");
        }
    }

    @Test
    void softGatesWithGivenPosteriorsEqualTheirOwnEvaluation() {
        SplittableRandom rnd = new SplittableRandom(5);
        int d = 4;
        int k = 3;
        GaussianMixture m = randomMixture(d, k, 4.0, rnd);
        FeatureMap f = FeatureMap.softGated(FeatureMap.monomial(new double[d], new double[] {1, 2, 1, 0.5}, 2), m);
        assertTrue(f.gates() == m);
        int n = 300;
        double[] x = new double[n * d];
        m.sample(CounterRandom.of(1), 1, 0, n, x);
        double[] post = new double[n * k];
        m.posteriors(x, n, post);
        double[] own = new double[n * f.size()];
        double[] given = new double[n * f.size()];
        f.evaluate(x, n, own);
        f.evaluate(x, n, post, given);
        assertArrayEquals(own, given, 0.0);
        assertEquals(null, FeatureMap.monomial(new double[d], new double[] {1, 1, 1, 1}, 2).gates());
    }

    private static LearningPlan plan(LearnerConfig.Mode mode, double[] x, int n, int d, int k) {
        Whitening w = Whitening.of(new Moments(d).addBlock(x, n));
        CrudeMixtureResult crude = CrudeMixture.fit(x, n, d, CrudeMixtureConfig.builder(k).restarts(1).seed(3).build());
        LearnerConfig config = LearnerConfig.builder(k).mode(mode).degree(2).levels(6).noisesPerRow(2).delta(1e-2)
                .seed(4).build();
        return LearningPlan.of(config, w, crude);
    }

    @Test
    void accumulateEqualsThePreviousImplementation() {
        int d = 3;
        int k = 3;
        GaussianMixture truth = GaussianMixture.of(new double[] {0.3, 0.3, 0.4},
                new double[][] {{-6, 0, 0}, {0, 5, 1}, {6, -1, 0}},
                new double[][][] {{{1, 0.2, 0}, {0.2, 1, 0}, {0, 0, 1}}, {{0.5, 0, 0}, {0, 2, 0.3}, {0, 0.3, 1}},
                        {{1.5, 0, 0.1}, {0, 0.7, 0}, {0.1, 0, 1}}});
        int n = 5_000;
        double[] x = new double[n * d];
        truth.sample(CounterRandom.of(8), 1, 0, n, x);
        double[] w = new double[n];
        SplittableRandom rnd = new SplittableRandom(2);
        for (int j = 0; j < n; j++) {
            w[j] = rnd.nextDouble() * 2;
        }
        boolean severalCells = false;
        for (LearnerConfig.Mode mode : LearnerConfig.Mode.values()) {
            LearningPlan plan = plan(mode, x, n, d, k);
            double[] z = new double[n * d];
            plan.whitening().apply(x, n, z);
            for (double[] weights : new double[][] {null, w}) {
                ScoreMoments now = plan.emptyMoments();
                plan.accumulate(z, weights, n, 100, now);
                ScoreMoments before = plan.emptyMoments();
                referenceAccumulate(plan, z, weights, n, 100, before);
                double diff = maxRelativeDifference(before, now);
                assertTrue(diff <= TOLERANCE, mode + (weights == null ? "" : ", weighted") + ": differs by " + diff);
            }
            for (int l = 0; l < plan.times().length; l++) {
                severalCells |= plan.cells(l).count() > 1;
            }
        }
        assertTrue(severalCells, "the paper mode's plan should have levels of several cells");
    }

    /** The accumulation as it was before the shared evaluation (blocks of 512 rows, every level per block). */
    private static void referenceAccumulate(LearningPlan plan, double[] z, double[] weights, int n, long firstKey,
                                            ScoreMoments moments) {
        LearnerConfig config = plan.config();
        double[] times = plan.times();
        int d = plan.crude().dimension();
        int block = 512;
        CounterRandom rng = CounterRandom.of(config.seed());
        long splitStream = CounterRandom.stream(config.seed(), 0x53504C4954L);
        double[] u = new double[block];
        double[] xi = new double[block * d];
        double[] zt = new double[block * d];
        double[] y = new double[block * d];
        double[] base = new double[block * d];
        int[] cell = new int[block];
        boolean[] inside = new boolean[block];
        int[] members = new int[block];
        double[] gz = new double[block * d];
        double[] gy = new double[block * d];
        double[] gw = new double[block];
        boolean paper = config.target() == ScoreModel.Target.PAPER;
        for (int start = 0; start < n; start += block) {
            int m = Math.min(block, n - start);
            long key0 = firstKey + start;
            rng.fillUniform(splitStream, key0, u, 0, m);
            for (int l = 0; l < times.length; l++) {
                double sigma = NoiseSchedule.sigma(times[l]);
                double alpha = NoiseSchedule.alpha(times[l]);
                Cells lc = plan.cells(l);
                for (int q = 0; q < config.noisesPerRow(); q++) {
                    rng.fillGaussian(CounterRandom.stream(config.seed(), 0x4E4F495345L, l, q), key0 * d, xi, 0, m * d);
                    for (int j = 0; j < m * d; j++) {
                        zt[j] = alpha * z[start * d + j] + sigma * xi[j];
                    }
                    lc.assign(zt, m, cell, inside);
                    for (int c = 0; c < lc.count(); c++) {
                        int cnt = 0;
                        for (int j = 0; j < m; j++) {
                            if (cell[j] == c) {
                                members[cnt++] = j;
                            }
                        }
                        if (cnt == 0) {
                            continue;
                        }
                        for (int a = 0; a < cnt; a++) {
                            System.arraycopy(zt, members[a] * d, gz, a * d, d);
                        }
                        lc.subMixture(c).score(gz, cnt, base);
                        for (int a = 0; a < cnt; a++) {
                            int j = members[a];
                            double wj = weights == null ? 1.0 : weights[start + j];
                            int split = u[j] < config.validationFraction() ? 1 : 0;
                            double plug = 0;
                            for (int r = 0; r < d; r++) {
                                double target = -xi[j * d + r] / sigma;
                                double res = target - base[a * d + r];
                                plug += res * res;
                                y[j * d + r] = paper ? target : res;
                            }
                            moments.addScalars(l, split, wj * plug, inside[j] ? 0 : wj * plug, wj);
                        }
                        for (int split = 0; split < 2; split++) {
                            int g = 0;
                            for (int a = 0; a < cnt; a++) {
                                int j = members[a];
                                int s = u[j] < config.validationFraction() ? 1 : 0;
                                if (s != split || !inside[j]) {
                                    continue;
                                }
                                System.arraycopy(zt, j * d, gz, g * d, d);
                                System.arraycopy(y, j * d, gy, g * d, d);
                                gw[g] = weights == null ? 1.0 : weights[start + j];
                                g++;
                            }
                            if (g == 0) {
                                continue;
                            }
                            FeatureMap f = plan.features(l, c);
                            double[] phi = new double[g * f.size()];
                            f.evaluate(gz, g, phi);
                            moments.equations(l, c, split).addBlock(phi, gy, weights == null ? null : gw, g);
                        }
                    }
                }
            }
        }
    }

    /** Largest relative difference over every (level, cell, split): scalars, Gram and right-hand side. */
    private static double maxRelativeDifference(ScoreMoments a, ScoreMoments b) {
        double worst = 0;
        for (int l = 0; l < a.levels(); l++) {
            for (int s = 0; s < 2; s++) {
                worst = Math.max(worst, rel(a.pluginSquares(l, s), b.pluginSquares(l, s)));
                worst = Math.max(worst, rel(a.outsideSquares(l, s), b.outsideSquares(l, s)));
                worst = Math.max(worst, rel(a.weight(l, s), b.weight(l, s)));
                for (int c = 0; c < a.cells(l); c++) {
                    NormalEquations ea = a.equations(l, c, s);
                    NormalEquations eb = b.equations(l, c, s);
                    assertEquals(ea.count(), eb.count(), "row counts of level " + l + " cell " + c + " split " + s);
                    if (ea.isEmpty()) {
                        continue;
                    }
                    NormalEquations.Snapshot sa = ea.snapshot();
                    NormalEquations.Snapshot sb = eb.snapshot();
                    worst = Math.max(worst, relative(sa.packedGram(), sb.packedGram()));
                    worst = Math.max(worst, relative(sa.rhs(), sb.rhs()));
                    worst = Math.max(worst, rel(sa.sumSquaredTargets(), sb.sumSquaredTargets()));
                    worst = Math.max(worst, rel(sa.weight(), sb.weight()));
                }
            }
        }
        return worst;
    }

    /** Largest entry difference relative to the largest entry. */
    private static double relative(double[] a, double[] b) {
        double scale = 0;
        for (double v : a) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
        }
        return worst;
    }

    private static double rel(double a, double b) {
        return a == b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
    }
}
