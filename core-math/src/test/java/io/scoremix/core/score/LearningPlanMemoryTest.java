package io.scoremix.core.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The data-free lower bound of one level's accumulator bytes, used to refuse knobs before any pass. */
class LearningPlanMemoryTest {

    private static LearnerConfig config(LearnerConfig.Mode mode, LearnerConfig.Features features, int degree) {
        return LearnerConfig.builder(3).mode(mode).features(features).degree(degree).build();
    }

    private static long binomial(int n, int r) {
        long c = 1;
        for (int i = 1; i <= r; i++) {
            c = c * (n - r + i) / i;
        }
        return c;
    }

    @Test
    void monomialCellHasAllMonomialsUpToTheDegree() {
        for (int d : new int[] {1, 3, 10}) {
            for (int degree = 0; degree <= 4; degree++) {
                long expected = ScoreMoments.workingBytes(new int[][] {{(int) binomial(d + degree, degree)}}, d);
                assertEquals(expected, LearningPlan.minimumLevelBytes(
                        config(LearnerConfig.Mode.PAPER, LearnerConfig.Features.MONOMIAL, degree), d), "d " + d + " degree " + degree);
            }
        }
    }

    @Test
    void boundGrowsWithDegreeAndPluginNeedsDegreeZero() {
        for (LearnerConfig.Features f : LearnerConfig.Features.values()) {
            long previous = 0;
            for (int degree = 0; degree <= 3; degree++) {
                long bytes = LearningPlan.minimumLevelBytes(config(LearnerConfig.Mode.DEFAULT, f, degree), 5);
                // Softmax features are polynomials in the components' log-likelihood ratios: one component has
                // none, so its single-cell bound does not depend on the degree.
                boolean strict = f != LearnerConfig.Features.SOFTMAX || degree == 0;
                assertTrue(strict ? bytes > previous : bytes == previous,
                        f + " degree " + degree + ": " + bytes + " after " + previous);
                previous = bytes;
            }
        }
        assertEquals(LearningPlan.minimumLevelBytes(config(LearnerConfig.Mode.PAPER, LearnerConfig.Features.MONOMIAL, 0), 5),
                LearningPlan.minimumLevelBytes(config(LearnerConfig.Mode.PLUGIN, LearnerConfig.Features.MONOMIAL, 6), 5));
        // The integration test's knobs: 12 features at degree 8 need C(20, 8) = 125,970 features per cell.
        assertTrue(LearningPlan.minimumLevelBytes(config(LearnerConfig.Mode.PAPER, LearnerConfig.Features.MONOMIAL, 8), 12)
                > (1L << 30) * 100);
    }
}
