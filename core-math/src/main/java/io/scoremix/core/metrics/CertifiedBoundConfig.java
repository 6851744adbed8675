package io.scoremix.core.metrics;

/**
 * Settings of the certified TV upper bound ({@link Divergences#certifiedTvUpperBound}). Immutable and
 * validated; start from {@link #defaults()} and change fields with the {@code with*} methods.
 *
 * <p>Defaults: the {@link Scheme#EXPONENTIAL} sampler update, 20,000 forward paths per step, 4
 * Gauss-Legendre nodes per step, 200,000 draws for the early-stopping TV and 200,000 for the Monte Carlo KL
 * at T, blocks of 2,048 paths, z = 2 for the conservative bound, seed 0, steps spread over the common
 * fork-join pool, no score-error split.
 */
public final class CertifiedBoundConfig {

    /**
     * The sampler update the bound is for. Both are exact solutions of the reverse SDE
     * {@code dy = (y + 2 grad log q) dtau + sqrt 2 dB} over a step of length h with part of the drift frozen at
     * the step's start; Girsanov's integrand is the squared difference of the frozen and the true part.
     */
    public enum Scheme {
        /**
         * ALGORITHM.md section 2, what {@code ReverseSampler}'s SDE method runs: the score is frozen,
         * {@code y <- e^h y + 2 (e^h - 1) s_hat(y) + sqrt(e^{2h} - 1) xi}; integrand
         * {@code ||s_hat(y_{s_j}, s_j) - grad log q_t(y_t)||^2}.
         */
        EXPONENTIAL,
        /**
         * Writing the drift as {@code -y + 2 (grad log q + y)}, only the residual {@code r = s + y} is frozen
         * and the OU part is integrated exactly:
         * {@code y <- (2 - e^{-h}) y + 2 (1 - e^{-h}) s_hat(y) + sqrt(1 - e^{-2h}) xi}; integrand
         * {@code ||s_hat(y_{s_j}, s_j) + y_{s_j} - grad log q_t(y_t) - y_t||^2}. It vanishes for Gaussian
         * N(0, I) data and is far smaller where q_t is close to N(0, I) (large t). The bound only applies to
         * a sampler that runs this update.
         */
        RESIDUAL_EXPONENTIAL
    }

    private final Scheme scheme;
    private final int paths;
    private final int nodes;
    private final long tvSamples;
    private final long klSamples;
    private final int blockSize;
    private final double z;
    private final long seed;
    private final boolean parallel;
    private final boolean scoreErrorSplit;

    private CertifiedBoundConfig(Fields f) {
        if (f.scheme == null) {
            throw new IllegalArgumentException("the sampler scheme must be given");
        }
        if (f.paths < 2) {
            throw new IllegalArgumentException("paths per step must be at least 2, got " + f.paths);
        }
        if (f.nodes < 1 || f.nodes > 64) {
            throw new IllegalArgumentException("Gauss-Legendre nodes per step must lie in [1, 64], got " + f.nodes);
        }
        if (f.tvSamples < 2) {
            throw new IllegalArgumentException("TV samples must be at least 2, got " + f.tvSamples);
        }
        if (f.klSamples < 2) {
            throw new IllegalArgumentException("KL samples must be at least 2, got " + f.klSamples);
        }
        if (f.blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1, got " + f.blockSize);
        }
        if (!(f.z >= 0) || !Double.isFinite(f.z)) {
            throw new IllegalArgumentException("z (standard errors added in the conservative bound) must be finite "
                    + "and non-negative, got " + f.z);
        }
        this.scheme = f.scheme;
        this.paths = f.paths;
        this.nodes = f.nodes;
        this.tvSamples = f.tvSamples;
        this.klSamples = f.klSamples;
        this.blockSize = f.blockSize;
        this.z = f.z;
        this.seed = f.seed;
        this.parallel = f.parallel;
        this.scoreErrorSplit = f.scoreErrorSplit;
    }

    /** The defaults listed in the class comment. */
    public static CertifiedBoundConfig defaults() {
        return new CertifiedBoundConfig(new Fields());
    }

    /** The sampler update the bound is for. */
    public Scheme scheme() {
        return scheme;
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

    public CertifiedBoundConfig withScheme(Scheme value) {
        Fields f = fields();
        f.scheme = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withPaths(int value) {
        Fields f = fields();
        f.paths = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withNodes(int value) {
        Fields f = fields();
        f.nodes = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withTvSamples(long value) {
        Fields f = fields();
        f.tvSamples = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withKlSamples(long value) {
        Fields f = fields();
        f.klSamples = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withBlockSize(int value) {
        Fields f = fields();
        f.blockSize = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withZ(double value) {
        Fields f = fields();
        f.z = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withSeed(long value) {
        Fields f = fields();
        f.seed = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withParallel(boolean value) {
        Fields f = fields();
        f.parallel = value;
        return new CertifiedBoundConfig(f);
    }

    public CertifiedBoundConfig withScoreErrorSplit(boolean value) {
        Fields f = fields();
        f.scoreErrorSplit = value;
        return new CertifiedBoundConfig(f);
    }

    private Fields fields() {
        Fields f = new Fields();
        f.scheme = scheme;
        f.paths = paths;
        f.nodes = nodes;
        f.tvSamples = tvSamples;
        f.klSamples = klSamples;
        f.blockSize = blockSize;
        f.z = z;
        f.seed = seed;
        f.parallel = parallel;
        f.scoreErrorSplit = scoreErrorSplit;
        return f;
    }

    @Override
    public String toString() {
        return "CertifiedBoundConfig[scheme=" + scheme + ", paths=" + paths + ", nodes=" + nodes + ", tvSamples="
                + tvSamples + ", klSamples=" + klSamples + ", blockSize=" + blockSize + ", z=" + z + ", seed=" + seed
                + ", parallel=" + parallel + ", scoreErrorSplit=" + scoreErrorSplit + "]";
    }

    /** Mutable scratch for building a validated instance; holds the defaults. */
    private static final class Fields {
        Scheme scheme = Scheme.EXPONENTIAL;
        int paths = 20_000;
        int nodes = 4;
        long tvSamples = 200_000;
        long klSamples = 200_000;
        int blockSize = 2_048;
        double z = 2.0;
        long seed = 0L;
        boolean parallel = true;
        boolean scoreErrorSplit = false;
    }
}
