package io.scoremix.core.mixture;

import io.scoremix.core.random.CounterRandom;

/**
 * A distribution on R^d with a log-density that can be evaluated and a sampler, both on blocks of
 * points stored flat and row-major ({@code x[j*d + r]} is coordinate r of point j).
 */
public interface DensityModel {

    /** The dimension d. */
    int dimension();

    /**
     * Log-densities of n points.
     *
     * @param x   n x d points, row-major; not modified
     * @param out receives n log-densities; modified
     */
    void logDensity(double[] x, int n, double[] out);

    /**
     * Draws n points with the counter-based generator: point j uses only counters derived from
     * {@code (stream, counter + j)}, so any sub-range can be recomputed alone.
     *
     * @param out receives n x d points, row-major; modified
     */
    void sample(CounterRandom rng, long stream, long counter, int n, double[] out);
}
