package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NoiseScheduleTest {

    /** Rounding of a few elementary operations on values of order 1. */
    private static final double ROUNDING = 1e-15;

    @Test
    void varianceIsPreserved() {
        for (double t : new double[] {1e-9, 1e-3, 0.1, 1, 3, 10}) {
            double a = NoiseSchedule.alpha(t);
            assertEquals(1.0, a * a + NoiseSchedule.sigma2(t), 4 * ROUNDING, "alpha^2 + sigma^2 at t = " + t);
            assertEquals(Math.sqrt(NoiseSchedule.sigma2(t)), NoiseSchedule.sigma(t), 0.0);
        }
    }

    @Test
    void smallTimesKeepRelativePrecision() {
        // sigma_t^2 = 2t - 2t^2 + O(t^3): 1 - e^{-2t} without expm1 would lose every digit at t = 1e-12.
        for (double t : new double[] {1e-12, 1e-8, 1e-5}) {
            double expected = 2 * t - 2 * t * t + 4 * t * t * t / 3;
            assertEquals(expected, NoiseSchedule.sigma2(t), 1e-14 * expected, "sigma^2 at t = " + t);
        }
    }

    @Test
    void timeOfSigma2InvertsSigma2() {
        for (double t : new double[] {1e-10, 1e-3, 0.5, 2, 8}) {
            double s2 = NoiseSchedule.sigma2(t);
            double back = NoiseSchedule.timeOfSigma2(s2);
            // t = -1/2 log(1 - s2) has condition dt = ds2 / (2 (1 - s2)): an ulp of s2 near 1 moves t by
            // about eps / (2 e^{-2t}), 5e-10 at t = 8.
            double tol = 1e-14 * t + 4 * Math.ulp(s2) / (2 * (1 - s2));
            assertEquals(t, back, tol, "t -> sigma^2 -> t at t = " + t);
        }
    }

    @Test
    void timeOfSigma2RejectsValuesOutsideTheUnitInterval() {
        for (double bad : new double[] {0, 1, -0.5, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NoiseSchedule.timeOfSigma2(bad));
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
    }
}
