package io.scoremix.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * erfc and Phi against 17-digit reference values. Reference values from mpmath 1.3.0 at 30 digits:
 * <pre>
 * import mpmath as mp; mp.mp.dps = 30
 * mp.nstr(mp.erfc(mp.mpf(x)), 17); mp.nstr(mp.ncdf(mp.mpf(x)), 17)
 * </pre>
 */
class NormalTest {

    /** Relative tolerance: the class promises about 1e-15; a few ulps of slack. */
    private static final double REL = 3e-15;

    private static void assertRelative(double expected, double actual, double rel) {
        assertEquals(expected, actual, rel * Math.abs(expected), () -> "expected " + expected + ", got " + actual);
    }

    @Test
    void erfcMatchesReferenceValuesAcrossBothBranches() {
        double[][] ref = {
            {0.0, 1.0},
            {0.1, 0.88753708398171511},
            {0.5, 0.47950012218695346},
            {1.0, 0.15729920705028513},
            {1.5, 0.033894853524689273},
            {2.0, 0.0046777349810472658},
            {3.0, 2.2090496998585441e-5},
            {5.0, 1.5374597944280349e-12},
            {10.0, 2.0884875837625448e-45},
            {20.0, 5.3958656116079009e-176},
            {-1.0, 1.8427007929497149},
            {-2.5, 1.999593047982555},
        };
        for (double[] r : ref) {
            assertRelative(r[1], Normal.erfc(r[0]), REL);
        }
    }

    @Test
    void cdfMatchesReferenceValues() {
        assertRelative(0.8413447460685429, Normal.cdf(1), REL);
        assertRelative(0.0013498980316300946, Normal.cdf(-3), REL);
        assertRelative(0.9999997133484281, Normal.cdf(5), REL);
        assertRelative(0.6914624612740131, Normal.cdf(0.5), REL);
        // Far tail: the argument x / sqrt(2) carries one rounding, worth x^2 ulps relative (64 here).
        assertRelative(6.2209605742717841e-16, Normal.cdf(-8), 64 * 1.2e-16 + REL);
        assertRelative(5.7255712225245768e-300, Normal.cdf(-37), 1400 * 1.2e-16 + REL);
        assertEquals(0.5, Normal.cdf(0), 0.0);
        assertRelative(Normal.cdf(-4), Normal.upperTail(4), REL);
    }

    @Test
    void propertiesHoldOnAGrid() {
        for (double x = -6; x <= 6; x += 0.0625) {
            // Reflection and monotonicity.
            assertEquals(2.0, Normal.erfc(x) + Normal.erfc(-x), 4e-16);
            assertTrue(Normal.cdf(x + 0.0625) > Normal.cdf(x));
            // Derivative: Phi'(x) = phi(x) by central differences, step 1e-5 (truncation ~1e-11 phi''').
            double h = 1e-5;
            double fd = (Normal.cdf(x + h) - Normal.cdf(x - h)) / (2 * h);
            assertEquals(Normal.density(x), fd, 1e-9);
        }
        // Continuity across the branch switch at 1 (erfc(1) = 0.157; both branches within REL).
        assertRelative(Normal.erfc(1.0), Normal.erfc(Math.nextDown(1.0)), 2 * REL);
        assertEquals(0.0, Normal.erfc(40), 0.0);
        assertEquals(2.0, Normal.erfc(-40), 0.0);
        assertTrue(Double.isNaN(Normal.erfc(Double.NaN)));
    }
}
