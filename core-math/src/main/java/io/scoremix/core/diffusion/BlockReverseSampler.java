package io.scoremix.core.diffusion;

import io.scoremix.core.random.CounterRandom;

/**
 * The part of a {@link ReverseSampler} common to both methods: argument checks, scratch, the block loop,
 * the addressed starting points and the optional Tweedie step. Subclasses integrate one block from T to
 * delta.
 *
 * <p>Implementation notes. Per-step coefficients depend on the grid only and are computed once here:
 * {@code h_j = s_j - s_{j+1}} and {@code e^{h_j} - 1} by expm1, so that the geometric steps near delta
 * (h of order delta) keep full relative precision; updates are written as {@code y += (e^h - 1) y + ...}
 * for the same reason. The Tweedie step is {@code E[x_0 | x_delta] = e^delta (y + sigma_delta^2 s(y, delta))}
 * (ALGORITHM.md section 1).
 */
abstract class BlockReverseSampler implements ReverseSampler {

    /** Sub-stream tag of the starting points; step j of the SDE uses {@code stream(stream, 1, j)}. */
    static final long INITIAL_TAG = 0;
    static final long STEP_TAG = 1;

    final SamplerConfig config;
    /** Forward times s_0 > ... > s_N. */
    final double[] times;
    /** {@code e^{h_j} - 1}, j < N. */
    final double[] expm1Step;
    final int steps;
    private final double tweedieScale;   // e^delta
    private final double tweedieSigma2;  // sigma_delta^2

    BlockReverseSampler(SamplerConfig config) {
        this.config = config;
        this.times = config.grid().times();
        this.steps = times.length - 1;
        this.expm1Step = new double[steps];
        for (int j = 0; j < steps; j++) {
            expm1Step[j] = Math.expm1(times[j] - times[j + 1]);
        }
        double delta = times[steps];
        this.tweedieScale = Math.exp(delta);
        this.tweedieSigma2 = NoiseSchedule.sigma2(delta);
    }

    @Override
    public final SamplerConfig config() {
        return config;
    }

    @Override
    public final void sample(ScoreFunction score, CounterRandom rng, long stream, long counter, int n,
                             double[] out, Progress progress) {
        if (score == null || rng == null || out == null) {
            throw new IllegalArgumentException("score, rng and out must all be given");
        }
        if (n < 0) {
            throw new IllegalArgumentException("number of points must be non-negative, got " + n);
        }
        if (counter < 0) {
            throw new IllegalArgumentException("counter must be non-negative, got " + counter);
        }
        int d = score.dimension();
        if (d < 1) {
            throw new IllegalArgumentException("score dimension must be at least 1, got " + d);
        }
        if ((long) n * d > out.length) {
            throw new IllegalArgumentException("out has length " + out.length + ", needs n * d = " + n + " * " + d
                    + " = " + (long) n * d);
        }
        try {
            Math.multiplyExact(Math.addExact(counter, n), d);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("point counters overflow: (counter + n) * d with counter = " + counter
                    + ", n = " + n + ", d = " + d);
        }
        if (n == 0) {
            return;
        }
        int block = Math.min(config.blockSize(), n);
        int len = block * d;
        Scratch scratch = newScratch(len, stream);
        long initialStream = CounterRandom.stream(stream, INITIAL_TAG);
        double[] y = scratch.y;
        double[] s = scratch.s;
        for (int start = 0; start < n; start += block) {
            int m = Math.min(block, n - start);
            int md = m * d;
            long firstPoint = counter + start;
            rng.fillGaussian(initialStream, firstPoint * d, y, 0, md);
            integrate(score, rng, firstPoint, d, m, scratch);
            int o = start * d;
            if (config.tweedie()) {
                score.score(times[steps], y, m, s);
                // y, s, out: m x d row-major.
                for (int i = 0; i < md; i++) {
                    out[o + i] = tweedieScale * (y[i] + tweedieSigma2 * s[i]);
                }
            } else {
                System.arraycopy(y, 0, out, o, md);
            }
            if (progress != null) {
                progress.blockDone(start + m, n);
            }
        }
    }

    /** Scratch for one call, sized for one block. */
    abstract Scratch newScratch(int len, long stream);

    /**
     * Moves the m points of {@code scratch.y} (m x d, row-major, at forward time T) to forward time delta
     * in place. May use the rest of the scratch.
     *
     * @param firstPoint the global index of the block's first point, for noise counters
     */
    abstract void integrate(ScoreFunction score, CounterRandom rng, long firstPoint, int d, int m, Scratch scratch);

    /** Work arrays of one call; {@code y} holds the block's points, {@code s} a score. */
    static final class Scratch {
        final double[] y;
        final double[] s;
        final double[] w;
        final double[] w2;
        final long[] stepStreams;

        Scratch(int len, boolean ode, long[] stepStreams) {
            this.y = new double[len];
            this.s = new double[len];
            this.w = new double[len];
            this.w2 = ode ? new double[len] : null;
            this.stepStreams = stepStreams;
        }
    }
}
