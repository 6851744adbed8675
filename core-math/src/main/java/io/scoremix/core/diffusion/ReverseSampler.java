package io.scoremix.core.diffusion;

import io.scoremix.core.random.CounterRandom;

/**
 * Draws points from a diffusion model by running the reverse OU process (ALGORITHM.md section 2) from
 * {@code N(0, I)} at forward time T down to the early-stopping time delta on the grid of a
 * {@link SamplerConfig}, with a given {@link ScoreFunction}. With the exact score and a fine grid the
 * output law approaches {@code q_delta}, the data law noised to time delta (or, with the Tweedie step,
 * the law of {@code E[x_0 | x_delta]}).
 *
 * <p>Randomness is addressed, never sequential: point p (= {@code counter + j} for the j-th point of a
 * call) starts from the standard Gaussians with counters {@code p*d .. p*d + d - 1} of sub-stream
 * {@code CounterRandom.stream(stream, 0)}, and step j of the SDE draws its noise from the same counters of
 * sub-stream {@code CounterRandom.stream(stream, 1, j)}. So each output point is a function of
 * {@code (seed, stream, p)} alone: sampling {@code [0, n)} in one call equals sampling {@code [0, a)} and
 * {@code [a, n)} in two calls, bit for bit, and the block size does not change the numbers, provided the
 * score function computes each point independently of the others in its block (true of
 * {@link ExactScore}). The SDE and the ODE of the same stream start from the same points.
 *
 * <p>Implementations are immutable and thread-safe; each call sizes its scratch once, and the per-step
 * loops allocate nothing themselves.
 */
public interface ReverseSampler {

    /**
     * The sampler for a configuration: the exponential integrator of the reverse SDE, or the exponential
     * trapezoidal integrator of the probability-flow ODE.
     *
     * @throws IllegalArgumentException if {@code config} is null
     */
    static ReverseSampler of(SamplerConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("a sampler configuration must be given");
        }
        switch (config.method()) {
            case SDE:
                return new ExponentialIntegratorSampler(config, false);
            case SDE_RESIDUAL:
                return new ExponentialIntegratorSampler(config, true);
            case ODE:
                return new ProbabilityFlowSampler(config);
            default:
                throw new AssertionError(config.method());
        }
    }

    /** The configuration this sampler runs. */
    SamplerConfig config();

    /**
     * Draws n points without a progress listener; see
     * {@link #sample(ScoreFunction, CounterRandom, long, long, int, double[], Progress)}.
     */
    default void sample(ScoreFunction score, CounterRandom rng, long stream, long counter, int n, double[] out) {
        sample(score, rng, stream, counter, n, out, null);
    }

    /**
     * Draws points {@code counter .. counter + n - 1} of {@code stream}, in blocks of
     * {@link SamplerConfig#blockSize()} points with one score call per block and step (two for the ODE, one
     * more for the Tweedie step).
     *
     * @param score    the score estimate; its dimension d sets the dimension of the points. Called with
     *                 the grid's times, on blocks of at most blockSize points. A non-finite score makes
     *                 the affected points non-finite; it is not checked
     * @param rng      the counter-based generator (its seed is part of each point's address)
     * @param stream   the caller's stream key (for example a partition index)
     * @param counter  the index of the first point, non-negative
     * @param n        number of points, non-negative
     * @param out      receives n x d points, row-major, in {@code out[0 .. n*d)}; modified
     * @param progress called after each block with the number of points done so far and n; may be null
     * @throws IllegalArgumentException if an argument is null, n or counter is negative, out is too
     *                                  short, or {@code (counter + n) * d} overflows a long
     */
    void sample(ScoreFunction score, CounterRandom rng, long stream, long counter, int n, double[] out,
                Progress progress);

    /** A listener told of progress after each block; called on the sampling thread. */
    @FunctionalInterface
    interface Progress {

        /**
         * @param done  points finished so far in this call
         * @param total points asked for in this call
         */
        void blockDone(int done, int total);
    }
}
