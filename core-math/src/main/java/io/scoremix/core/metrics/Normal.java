package io.scoremix.core.metrics;

/**
 * The complementary error function and the standard normal CDF, to about 1e-15 relative accuracy over
 * the whole real line (tails included), for the exact CDFs of projected mixtures.
 *
 * <p>Implementation notes. Two expansions, each used where it converges fast and cancels nothing:
 * <ul>
 * <li>{@code 0 <= x < 1}: the everywhere-positive series
 *     {@code erf(x) = 2/sqrt(pi) e^{-x^2} sum_{n>=0} 2^n x^{2n+1} / (1*3*...*(2n+1))}
 *     (Abramowitz and Stegun 7.1.6), at most about 20 terms, and {@code erfc = 1 - erf}; since
 *     {@code erfc(1) = 0.157} the subtraction costs at most a factor 6 of relative precision.</li>
 * <li>{@code x >= 1}: Laplace's continued fraction
 *     {@code erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))}
 *     (Abramowitz and Stegun 7.1.14), evaluated forwards by the modified Lentz method (Numerical Recipes,
 *     section 5.2) until a factor differs from 1 by less than 1e-16: about 190 terms at 1, 30 at 3,
 *     10 at 10.</li>
 * </ul>
 * The Gaussian factor {@code e^{-x^2}} is evaluated as {@code e^{-h^2} e^{-(x-h)(x+h)}} with h = x
 * rounded down to a multiple of 1/16, so that {@code h^2} is exact and the rounding of {@code x^2} (a
 * relative error of {@code x^2} ulps) does not enter (the same device as W. J. Cody's 1969 erfc).
 * Negative arguments use {@code erfc(-x) = 2 - erfc(x)}.
 */
final class Normal {

    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double ONE_OVER_SQRT_PI = 1.0 / Math.sqrt(Math.PI);
    private static final double INV_SQRT_2 = 1.0 / Math.sqrt(2.0);
    private static final double SERIES_LIMIT = 1.0;
    /** Beyond this, {@code erfc(x) < 1e-308 * 1e-16} underflows to 0 anyway. */
    private static final double UNDERFLOW = 27.3;
    private static final int MAX_TERMS = 1000;

    private Normal() {
    }

    /** The complementary error function {@code erfc(x) = 2/sqrt(pi) int_x^inf e^{-u^2} du}; NaN for NaN. */
    static double erfc(double x) {
        if (Double.isNaN(x)) {
            return Double.NaN;
        }
        if (x < 0) {
            return 2.0 - erfcPositive(-x);
        }
        return erfcPositive(x);
    }

    /** The standard normal CDF {@code Phi(x) = erfc(-x / sqrt 2) / 2}. */
    static double cdf(double x) {
        return 0.5 * erfc(-x * INV_SQRT_2);
    }

    /** The standard normal upper tail {@code 1 - Phi(x) = erfc(x / sqrt 2) / 2}, accurate in the far tail. */
    static double upperTail(double x) {
        return 0.5 * erfc(x * INV_SQRT_2);
    }

    /** The standard normal density. */
    static double density(double x) {
        return 0.5 * TWO_OVER_SQRT_PI * INV_SQRT_2 * Math.exp(-0.5 * x * x);
    }

    private static double erfcPositive(double x) {
        if (x < SERIES_LIMIT) {
            return 1.0 - erfSeries(x);
        }
        if (x >= UNDERFLOW) {
            return 0.0;
        }
        return gaussianFactor(x) * ONE_OVER_SQRT_PI / laplaceFraction(x);
    }

    // A&S 7.1.6: all terms positive; each term is the previous times 2x^2/(2n+1).
    private static double erfSeries(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < MAX_TERMS; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) {
                break;
            }
        }
        return TWO_OVER_SQRT_PI * gaussianFactor(x) * sum;
    }

    // x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))): b_n = x, a_n = n/2, modified Lentz.
    private static double laplaceFraction(double x) {
        final double tiny = 1e-300;
        double f = x;
        double c = f;
        double dInv = 0.0;
        for (int n = 1; n < MAX_TERMS; n++) {
            double a = 0.5 * n;
            double d = x + a * dInv;
            if (d == 0) {
                d = tiny;
            }
            dInv = 1.0 / d;
            c = x + a / c;
            if (c == 0) {
                c = tiny;
            }
            double factor = c * dInv;
            f *= factor;
            if (Math.abs(factor - 1.0) < 1e-16) {
                break;
            }
        }
        return f;
    }

    // e^{-x^2} = e^{-h^2} e^{-(x-h)(x+h)} with h a multiple of 1/16, so h^2 is exact for x < 2^26.
    private static double gaussianFactor(double x) {
        double h = Math.floor(x * 16.0) / 16.0;
        return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h));
    }
}
