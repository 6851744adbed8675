package io.scoremix.core.score;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreMomentsTest {

    private static final GaussianMixture TWO = GaussianMixture.of(new double[] {0.3, 0.7},
            new double[][] {{-1.5, 0.2}, {1.0, -0.4}},
            new double[][][] {{{0.5, 0.1}, {0.1, 0.3}}, {{0.8, -0.2}, {-0.2, 0.6}}});

    private static LearningPlan plan(LearnerConfig.Mode mode, double[] x, int n) {
        Moments m = new Moments(2).addBlock(x, n);
        Whitening w = Whitening.of(m);
        CrudeMixtureResult crude = CrudeMixture.fit(x, n, 2, CrudeMixtureConfig.builder(2).restarts(1).seed(3).build());
        LearnerConfig config = LearnerConfig.builder(2).mode(mode).degree(2).levels(5).noisesPerRow(2).delta(1e-2)
                .seed(4).build();
        return LearningPlan.of(config, w, crude);
    }

    /** Relative difference of two accumulations, entry by entry, over every (level, cell, split). */
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
                        assertTrue(eb.isEmpty());
                        continue;
                    }
                    NormalEquations.Snapshot sa = ea.snapshot();
                    NormalEquations.Snapshot sb = eb.snapshot();
                    double[] ga = sa.packedGram();
                    double[] gb = sb.packedGram();
                    double scale = 0;
                    for (double v : ga) {
                        scale = Math.max(scale, Math.abs(v));
                    }
                    for (int i = 0; i < ga.length; i++) {
                        worst = Math.max(worst, Math.abs(ga[i] - gb[i]) / scale);
                    }
                    double[] ba = sa.rhs();
                    double[] bb = sb.rhs();
                    double bs = 0;
                    for (double v : ba) {
                        bs = Math.max(bs, Math.abs(v));
                    }
                    for (int i = 0; i < ba.length; i++) {
                        worst = Math.max(worst, Math.abs(ba[i] - bb[i]) / bs);
                    }
                    worst = Math.max(worst, rel(sa.sumSquaredTargets(), sb.sumSquaredTargets()));
                }
            }
        }
        return worst;
    }

    /** n draws of TWO (row-major n x 2) on the stream of the given seed. */
    private static double[] draws(long seed, int n) {
        double[] x = new double[n * 2];
        TWO.sample(CounterRandom.of(seed), 1, 0, n, x);
        return x;
    }

    /** The n two-dimensional rows of x in the plan's whitened coordinates. */
    private static double[] whitened(LearningPlan plan, double[] x, int n) {
        double[] z = new double[n * 2];
        plan.whitening().apply(x, n, z);
        return z;
    }

    private static double rel(double a, double b) {
        return a == b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
    }

    @Test
    void splittingTheRowsAndMergingEqualsOnePassForEveryMode() {
        int n = 6_000;
        double[] x = draws(2, n);
        for (LearnerConfig.Mode mode : LearnerConfig.Mode.values()) {
            LearningPlan plan = plan(mode, x, n);
            double[] z = whitened(plan, x, n);
            ScoreMoments one = plan.emptyMoments();
            plan.accumulate(z, null, n, 0, one);
            // Uneven parts, accumulated in reverse order and merged as a tree: ((p3 + p2) + (p1 + p0)).
            int[] cut = {0, 777, 2900, 2901, n};
            ScoreMoments[] parts = new ScoreMoments[4];
            for (int p = 3; p >= 0; p--) {
                parts[p] = plan.emptyMoments();
                int len = cut[p + 1] - cut[p];
                double[] zp = java.util.Arrays.copyOfRange(z, cut[p] * 2, cut[p + 1] * 2);
                plan.accumulate(zp, null, len, cut[p], parts[p]);
            }
            ScoreMoments merged = parts[3].merge(parts[2]).merge(parts[1].merge(parts[0]));
            double diff = maxRelativeDifference(one, merged);
            // Only the summation order differs: rounding of a few hundred terms, far below 1e-12 relative.
            assertTrue(diff < 1e-12, mode + ": split-and-merge differs from one pass by " + diff);
            // Merging with an empty accumulator is the identity, from either side.
            assertEquals(0.0, maxRelativeDifference(one, plan.emptyMoments().merge(one)), 0.0);
        }
    }

    @Test
    void perRowKeysGiveEachRowTheNoiseAndSplitOfItsKey() {
        int n = 3_000;
        double[] x = draws(5, n);
        for (LearnerConfig.Mode mode : LearnerConfig.Mode.values()) {
            LearningPlan plan = plan(mode, x, n);
            double[] z = whitened(plan, x, n);
            long first = 1_000_003L;
            ScoreMoments consecutive = plan.emptyMoments();
            plan.accumulate(z, null, n, first, consecutive, 0, 5);
            long[] keys = new long[n];
            for (int j = 0; j < n; j++) {
                keys[j] = first + j;
            }
            ScoreMoments keyed = plan.emptyMoments();
            plan.accumulate(z, null, n, keys, keyed, 0, 5);
            // The same rows, keys and order: the same sums bit for bit.
            assertEquals(0.0, maxRelativeDifference(consecutive, keyed), 0.0, mode + ": per-row keys");
            // Every third row in one call, the others in another (keys not consecutive): the sums of one
            // call up to summation order.
            int[] counts = new int[2];
            double[][] zs = {new double[n * 2], new double[n * 2]};
            long[][] ks = {new long[n], new long[n]};
            for (int j = 0; j < n; j++) {
                int side = j % 3 == 0 ? 0 : 1;
                System.arraycopy(z, j * 2, zs[side], counts[side] * 2, 2);
                ks[side][counts[side]++] = first + j;
            }
            ScoreMoments a = plan.emptyMoments();
            plan.accumulate(zs[0], null, counts[0], ks[0], a, 0, 5);
            ScoreMoments b = plan.emptyMoments();
            plan.accumulate(zs[1], null, counts[1], ks[1], b, 0, 5);
            double diff = maxRelativeDifference(consecutive, a.merge(b));
            assertTrue(diff < 1e-12, mode + ": interleaved keys differ from one pass by " + diff);
        }
    }

    @Test
    void integerWeightsEqualReplicatedRows() {
        int n = 2_000;
        double[] x = draws(6, n);
        LearningPlan plan = plan(LearnerConfig.Mode.DEFAULT, x, n);
        double[] z = whitened(plan, x, n);
        // Weight 2 on a row equals the same row (same key, hence same noise) added twice.
        double[] w = new double[n];
        java.util.Arrays.fill(w, 2.0);
        ScoreMoments weighted = plan.emptyMoments();
        plan.accumulate(z, w, n, 0, weighted);
        ScoreMoments twice = plan.emptyMoments();
        plan.accumulate(z, null, n, 0, twice);
        plan.accumulate(z, null, n, 0, twice);
        for (int l = 0; l < weighted.levels(); l++) {
            for (int s = 0; s < 2; s++) {
                assertEquals(twice.weight(l, s), weighted.weight(l, s), 1e-9 * twice.weight(l, s));
                assertEquals(twice.pluginSquares(l, s), weighted.pluginSquares(l, s), 1e-9 * twice.pluginSquares(l, s));
            }
        }
    }

    @Test
    void mergingDifferentShapesIsRejected() {
        ScoreMoments a = new ScoreMoments(new int[][] {{3}, {3, 3}}, 2);
        ScoreMoments b = new ScoreMoments(new int[][] {{3}, {3}}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.merge(b));
        assertTrue(e.getMessage().contains("different shapes"), e.getMessage());
    }
}
