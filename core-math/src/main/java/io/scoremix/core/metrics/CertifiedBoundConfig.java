package io.scoremix.core.metrics;

/**
 * Settings of the certified TV upper bound ({@link Divergences#certifiedTvUpperBound}). Immutable and
 * validated; start from {@link #defaults()} and change fields with the {@code with*} methods.
 *
 * <p>Defaults: 20,000 forward paths per step, 4 Gauss-Legendre nodes per step, 200,000 draws for the
 * early-stopping TV and 200,000 for the Monte Carlo KL at T, blocks of 2,048 paths, z = 2 for the
 * conservative bound, seed 0, steps spread over the common fork-join pool, no score-error split.
 */
public final class CertifiedBoundConfig {

    private final int paths;
    private final int nodes;
    private final long tvSamples;
    private final long klSamples;
    private final int blockSize;
    private final double z;
    private final long seed;
    private final boolean parallel;
    private final boolean scoreErrorSplit;

    private CertifiedBoundConfig(int paths, int nodes, long tvSamples, long klSamples, int blockSize, double z,
            long seed, boolean parallel, boolean scoreErrorSplit) {
        if (paths < 2) {
            throw new IllegalArgumentException("paths per step must be at least 2, got " + paths);
        }
        if (nodes < 1 || nodes > 64) {
            throw new IllegalArgumentException("Gauss-Legendre nodes per step must lie in [1, 64], got " + nodes);
        }
        if (tvSamples < 2) {
            throw new IllegalArgumentException("TV samples must be at least 2, got " + tvSamples);
        }
        if (klSamples < 2) {
            throw new IllegalArgumentException("KL samples must be at least 2, got " + klSamples);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1, got " + blockSize);
        }
        if (!(z >= 0) || !Double.isFinite(z)) {
            throw new IllegalArgumentException("z (standard errors added in the conservative bound) must be finite "
                    + "and non-negative, got " + z);
        }
        this.paths = paths;
        this.nodes = nodes;
        this.tvSamples = tvSamples;
        this.klSamples = klSamples;
        this.blockSize = blockSize;
        this.z = z;
        this.seed = seed;
        this.parallel = parallel;
        this.scoreErrorSplit = scoreErrorSplit;
    }

    /** The defaults listed in the class comment. */
    public static CertifiedBoundConfig defaults() {
        return new CertifiedBoundConfig(20_000, 4, 200_000, 200_000, 2_048, 2.0, 0L, true, false);
    }

    /** Forward paths per step (independent across steps). */
    public int paths() {
        return paths;
    }

    /** Gauss-Legendre nodes per step. */
    public int nodes() {
        return nodes;
    }

    /** Draws of the early-stopping TV {@code TV(p, q_delta)}. */
    public long tvSamples() {
        return tvSamples;
    }

    /** Draws of the Monte Carlo {@code KL(q_T || N(0, I))} (reported for information). */
    public long klSamples() {
        return klSamples;
    }

    /** Paths per block handed to the score function at once. */
    public int blockSize() {
        return blockSize;
    }

    /** Standard errors added to each Monte Carlo term in the conservative bound. */
    public double z() {
        return z;
    }

    /** The seed of the counter-based generator. */
    public long seed() {
        return seed;
    }

    /** Whether steps run on the common fork-join pool; results are identical either way. */
    public boolean parallel() {
        return parallel;
    }

    /**
     * Whether to also estimate the score error at matched times,
     * {@code sum_j int E||s_hat(x_t, t) - grad log q_t(x_t)||^2 dt} on the same paths and nodes: not a term
     * of the bound, but it splits the score integral into the part due to the score itself and the part
     * due to freezing it over each step (discretisation). Costs K more {@code s_hat} calls per path.
     */
    public boolean scoreErrorSplit() {
        return scoreErrorSplit;
    }

    public CertifiedBoundConfig withScoreErrorSplit(boolean value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, klSamples, blockSize, z, seed, parallel, value);
    }

    public CertifiedBoundConfig withPaths(int value) {
        return new CertifiedBoundConfig(value, nodes, tvSamples, klSamples, blockSize, z, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withNodes(int value) {
        return new CertifiedBoundConfig(paths, value, tvSamples, klSamples, blockSize, z, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withTvSamples(long value) {
        return new CertifiedBoundConfig(paths, nodes, value, klSamples, blockSize, z, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withKlSamples(long value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, value, blockSize, z, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withBlockSize(int value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, klSamples, value, z, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withZ(double value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, klSamples, blockSize, value, seed,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withSeed(long value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, klSamples, blockSize, z, value,
                parallel, scoreErrorSplit);
    }

    public CertifiedBoundConfig withParallel(boolean value) {
        return new CertifiedBoundConfig(paths, nodes, tvSamples, klSamples, blockSize, z, seed,
                value, scoreErrorSplit);
    }

    @Override
    public String toString() {
        return "CertifiedBoundConfig[paths=" + paths + ", nodes=" + nodes + ", tvSamples=" + tvSamples
                + ", klSamples=" + klSamples + ", blockSize=" + blockSize + ", z=" + z + ", seed=" + seed
                + ", parallel=" + parallel + ", scoreErrorSplit=" + scoreErrorSplit + "]";
    }
}
