package io.scoremix.core.metrics;

/**
 * Settings of the 1-D projection TV lower bound ({@link Divergences#projectionTvLowerBound}). Immutable
 * and validated; start from {@link #defaults()}.
 *
 * <p>Defaults: 64 bins, at most 64 mean-difference directions, all principal axes, 16 random directions,
 * z = 2 for the conservative lower bound, seed 0.
 */
public final class ProjectionConfig {

    private final int bins;
    private final int maxPairs;
    private final boolean principalAxes;
    private final int randomDirections;
    private final double z;
    private final long seed;

    private ProjectionConfig(int bins, int maxPairs, boolean principalAxes, int randomDirections, double z,
            long seed) {
        if (bins < 2) {
            throw new IllegalArgumentException("bins must be at least 2, got " + bins);
        }
        if (maxPairs < 0) {
            throw new IllegalArgumentException("maximum number of mean-difference directions must be non-negative, got "
                    + maxPairs);
        }
        if (randomDirections < 0) {
            throw new IllegalArgumentException("number of random directions must be non-negative, got "
                    + randomDirections);
        }
        if (!(z >= 0) || !Double.isFinite(z)) {
            throw new IllegalArgumentException("z must be finite and non-negative, got " + z);
        }
        this.bins = bins;
        this.maxPairs = maxPairs;
        this.principalAxes = principalAxes;
        this.randomDirections = randomDirections;
        this.z = z;
        this.seed = seed;
    }

    /** The defaults listed in the class comment. */
    public static ProjectionConfig defaults() {
        return new ProjectionConfig(64, 64, true, 16, 2.0, 0L);
    }

    /** Bins per direction: equal mass under the reference (p, or the pooled first halves). */
    public int bins() {
        return bins;
    }

    /** At most this many normalised differences of component (or sample) means. */
    public int maxPairs() {
        return maxPairs;
    }

    /** Whether the eigenvectors of the reference covariance are directions. */
    public boolean principalAxes() {
        return principalAxes;
    }

    /** Seeded uniformly random unit directions. */
    public int randomDirections() {
        return randomDirections;
    }

    /** Standard errors subtracted in the conservative lower bound. */
    public double z() {
        return z;
    }

    /** The seed of the random directions. */
    public long seed() {
        return seed;
    }

    public ProjectionConfig withBins(int value) {
        return new ProjectionConfig(value, maxPairs, principalAxes, randomDirections, z, seed);
    }

    public ProjectionConfig withMaxPairs(int value) {
        return new ProjectionConfig(bins, value, principalAxes, randomDirections, z, seed);
    }

    public ProjectionConfig withPrincipalAxes(boolean value) {
        return new ProjectionConfig(bins, maxPairs, value, randomDirections, z, seed);
    }

    public ProjectionConfig withRandomDirections(int value) {
        return new ProjectionConfig(bins, maxPairs, principalAxes, value, z, seed);
    }

    public ProjectionConfig withZ(double value) {
        return new ProjectionConfig(bins, maxPairs, principalAxes, randomDirections, value, seed);
    }

    public ProjectionConfig withSeed(long value) {
        return new ProjectionConfig(bins, maxPairs, principalAxes, randomDirections, z, value);
    }

    @Override
    public String toString() {
        return "ProjectionConfig[bins=" + bins + ", maxPairs=" + maxPairs + ", principalAxes=" + principalAxes
                + ", randomDirections=" + randomDirections + ", z=" + z + ", seed=" + seed + "]";
    }
}
