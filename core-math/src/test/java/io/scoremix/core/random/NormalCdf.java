package io.scoremix.core.random;

/**
 * The standard normal CDF for statistical tests, independent of any library.
 *
 * <p>erfc(x) for x >= 0 by Abramowitz and Stegun, Handbook of Mathematical Functions (1964), formula
 * 7.1.26: {@code erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^{-x^2}}, {@code t = 1/(1 + p x)},
 * with absolute error at most 1.5e-7; erfc(-x) = 2 - erfc(x). So |Phi error| <= 0.75e-7, far below any
 * Kolmogorov-Smirnov critical value these tests use (about 2e-3 at n = 2^20).
 */
public final class NormalCdf {

    /** Absolute error bound of {@link #phi}. */
    public static final double MAX_ERROR = 0.75e-7;

    private static final double P = 0.3275911;
    private static final double A1 = 0.254829592;
    private static final double A2 = -0.284496736;
    private static final double A3 = 1.421413741;
    private static final double A4 = -1.453152027;
    private static final double A5 = 1.061405429;

    private NormalCdf() {
    }

    /** erfc(x), absolute error at most 1.5e-7. */
    public static double erfc(double x) {
        double ax = Math.abs(x);
        double t = 1.0 / (1.0 + P * ax);
        double poly = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5))));
        double e = poly * Math.exp(-ax * ax);
        return x >= 0 ? e : 2.0 - e;
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2. */
    public static double phi(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2.0));
    }

    /**
     * The asymptotic critical value of the one-sample Kolmogorov-Smirnov statistic D_n at level alpha:
     * {@code sqrt(ln(2 / alpha) / 2) / sqrt(n)} (from the Kolmogorov distribution's tail
     * {@code P(sqrt(n) D_n > c) ~ 2 e^{-2 c^2}}).
     */
    public static double ksCritical(int n, double alpha) {
        return Math.sqrt(Math.log(2.0 / alpha) / 2.0) / Math.sqrt(n);
    }
}
