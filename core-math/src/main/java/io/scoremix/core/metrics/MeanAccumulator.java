package io.scoremix.core.metrics;

/**
 * Running count, mean and centred sum of squares of a stream of values, mergeable. Mutable; not
 * thread-safe (one per block or per task, merged afterwards in a fixed order).
 *
 * <p>Implementation notes. Welford's update for single values and Chan, Golub and LeVeque's pairwise
 * update ({@code M2 = M2a + M2b + delta^2 na nb / n}) for merges, so that blocks of very different means
 * lose no precision to cancellation.
 */
final class MeanAccumulator {

    private long count;
    private double mean;
    private double m2;

    /** Adds one value. */
    void add(double x) {
        count++;
        double delta = x - mean;
        mean += delta / count;
        m2 += delta * (x - mean);
    }

    /** Adds all of {@code other} into this; {@code other} is not modified. Merging an empty side is a no-op. */
    void merge(MeanAccumulator other) {
        if (other.count == 0) {
            return;
        }
        if (count == 0) {
            count = other.count;
            mean = other.mean;
            m2 = other.m2;
            return;
        }
        long n = count + other.count;
        double delta = other.mean - mean;
        mean += delta * other.count / n;
        m2 += other.m2 + delta * delta * ((double) count * other.count / n);
        count = n;
    }

    long count() {
        return count;
    }

    double mean() {
        return mean;
    }

    /** The unbiased sample variance (0 for fewer than two values). */
    double variance() {
        return count < 2 ? 0.0 : Math.max(0.0, m2 / (count - 1));
    }

    /** The mean with standard error {@code sqrt(variance / count)}. */
    Estimate estimate() {
        return new Estimate(mean, count == 0 ? 0.0 : Math.sqrt(variance() / count), count);
    }
}
