package io.scoremix.core.metrics;

/**
 * A Monte Carlo estimate: its value, its standard error (the estimated standard deviation of the value
 * over repetitions with fresh randomness) and the number of independent draws behind it. Immutable.
 *
 * @param value         the estimate
 * @param standardError its standard error, finite and non-negative (0 for an exact value)
 * @param samples       the number of independent Monte Carlo draws (0 for an exact value)
 */
public record Estimate(double value, double standardError, long samples) {

    /** Validates the fields. */
    public Estimate {
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException("estimate value is NaN");
        }
        if (!(standardError >= 0) || !Double.isFinite(standardError)) {
            throw new IllegalArgumentException("standard error must be finite and non-negative, got " + standardError);
        }
        if (samples < 0) {
            throw new IllegalArgumentException("sample count must be non-negative, got " + samples);
        }
    }

    /** An exact value: standard error 0, no samples. */
    public static Estimate exact(double value) {
        return new Estimate(value, 0.0, 0);
    }

    /** {@code value + z * standardError}: a one-sided upper confidence limit for a normal approximation. */
    public double upper(double z) {
        return value + z * standardError;
    }

    /** {@code value - z * standardError}: a one-sided lower confidence limit for a normal approximation. */
    public double lower(double z) {
        return value - z * standardError;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%.6g +- %.2g (n=%d)", value, standardError, samples);
    }
}
