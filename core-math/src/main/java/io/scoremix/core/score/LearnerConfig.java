package io.scoremix.core.score;

import io.scoremix.core.mixture.CrudeMixtureConfig;

import java.util.Arrays;
import java.util.Objects;

/**
 * Every knob of the score learner (ALGORITHM.md sections 4-6), as one immutable validated value. Build
 * with {@link #builder(int)}; messages name the bad value. Arrays are copied in and out.
 */
public final class LearnerConfig {

    /** What system is fitted (ALGORITHM.md section 6). */
    public enum Mode {
        /** Crude estimates, hard cells, monomial features, target -z/sigma_t, gate and fallback. */
        PAPER,
        /** The practical default: the combination that measured best on the benchmark instances. */
        DEFAULT,
        /** The crude mixture's exact score, no regression (baseline). */
        PLUGIN
    }

    /** Feature family of the per-cell regression (ALGORITHM.md section 4.4). */
    public enum Features {
        /** Graded Hermite monomials in standardised cell coordinates, one hard cell at a time. */
        MONOMIAL,
        /** Monomials times the crude posteriors of every component: one smooth cell. */
        SOFT_GATED,
        /**
         * Monomials of degree {@code <= degree} in the cell's centred log-likelihood ratios, times (1, z)
         * (CKS Lemma 43/45): {@code (d + 1) C(m - 1 + degree, degree)} per cell of m components.
         */
        SOFTMAX,
        /**
         * Monomials of degree {@code <= degree} in the projections on the cell's top
         * {@link #projectionRank()} principal directions, times (1, z): {@code (d + 1) C(r + degree, degree)}.
         */
        PROJECTED
    }

    private final int k;
    private final Mode mode;
    private final Features features;
    private final ScoreModel.Target target;
    private final int degree;
    private final int projectionRank;
    private final int levels;
    private final int noisesPerRow;
    private final double[] lambdas;
    private final double validationFraction;
    private final double delta;
    private final double deltaTvTarget;
    private final double horizon;
    private final long seed;
    private final double maxOverlapDistance;
    private final double gateWidth;
    private final long memoryBudgetBytes;
    private final int crudeSample;
    private final CrudeMixtureConfig crude;

    /** Default of {@link #crudeSample()}: the crude mixture is fitted on about this many rows. */
    public static final int DEFAULT_CRUDE_SAMPLE = 200_000;

    private LearnerConfig(Builder b) {
        this.k = b.k;
        this.mode = b.mode;
        this.features = b.features != null ? b.features
                : b.mode == Mode.PAPER ? Features.MONOMIAL : Features.SOFT_GATED;
        this.target = b.mode == Mode.PAPER ? ScoreModel.Target.PAPER : ScoreModel.Target.RESIDUAL;
        this.degree = b.degree;
        this.projectionRank = b.projectionRank;
        this.levels = b.levels;
        this.noisesPerRow = b.noisesPerRow;
        this.lambdas = b.lambdas.clone();
        this.validationFraction = b.validationFraction;
        this.delta = b.delta;
        this.deltaTvTarget = b.deltaTvTarget;
        this.horizon = b.horizon;
        this.seed = b.seed;
        this.maxOverlapDistance = b.maxOverlapDistance;
        this.gateWidth = b.gateWidth;
        this.memoryBudgetBytes = b.memoryBudgetBytes;
        this.crudeSample = b.crudeSample;
        this.crude = b.crude != null ? b.crude : CrudeMixtureConfig.builder(b.k).seed(b.seed).build();
        if (crude.k() != k) {
            throw new IllegalArgumentException("the crude mixture config has k = " + crude.k() + " but the learner has k = " + k);
        }
    }

    /** A builder with the defaults for k components. */
    public static Builder builder(int k) {
        return new Builder(k);
    }

    public int k() {
        return k;
    }

    public Mode mode() {
        return mode;
    }

    public Features features() {
        return features;
    }

    /** PAPER in paper mode, RESIDUAL otherwise. */
    public ScoreModel.Target target() {
        return target;
    }

    public int degree() {
        return degree;
    }

    /** The number r of principal directions of the projected family (at most d, checked by the plan). */
    public int projectionRank() {
        return projectionRank;
    }

    public int levels() {
        return levels;
    }

    public int noisesPerRow() {
        return noisesPerRow;
    }

    public double[] lambdas() {
        return lambdas.clone();
    }

    public double validationFraction() {
        return validationFraction;
    }

    /** The early-stopping time, or NaN to choose it from the crude mixture. */
    public double delta() {
        return delta;
    }

    /** Target for the crude mixture's TV to its delta-noised self when delta is chosen automatically. */
    public double deltaTvTarget() {
        return deltaTvTarget;
    }

    public double horizon() {
        return horizon;
    }

    public long seed() {
        return seed;
    }

    public double maxOverlapDistance() {
        return maxOverlapDistance;
    }

    public double gateWidth() {
        return gateWidth;
    }

    public long memoryBudgetBytes() {
        return memoryBudgetBytes;
    }

    /**
     * The crude mixture is fitted on a deterministic sample of about this many rows (all rows when there
     * are no more): row r is kept when the uniform of counter r in stream {@link Learner#CRUDE_SAMPLE_TAG}
     * of the seed is below {@code crudeSample / n}, the rule of the Spark job's driver-side sample.
     */
    public int crudeSample() {
        return crudeSample;
    }

    public CrudeMixtureConfig crude() {
        return crude;
    }

    public Builder toBuilder() {
        Builder b = new Builder(k);
        b.mode = mode;
        b.features = features;
        b.degree = degree;
        b.projectionRank = projectionRank;
        b.levels = levels;
        b.noisesPerRow = noisesPerRow;
        b.lambdas = lambdas.clone();
        b.validationFraction = validationFraction;
        b.delta = delta;
        b.deltaTvTarget = deltaTvTarget;
        b.horizon = horizon;
        b.seed = seed;
        b.maxOverlapDistance = maxOverlapDistance;
        b.gateWidth = gateWidth;
        b.memoryBudgetBytes = memoryBudgetBytes;
        b.crudeSample = crudeSample;
        b.crude = crude;
        return b;
    }

    @Override
    public String toString() {
        return "LearnerConfig{k=" + k + ", mode=" + mode + ", features=" + features + ", target=" + target
                + ", degree=" + degree + ", projectionRank=" + projectionRank + ", levels=" + levels + ", noisesPerRow=" + noisesPerRow + ", lambdas="
                + Arrays.toString(lambdas) + ", validationFraction=" + validationFraction + ", delta=" + delta
                + ", deltaTvTarget=" + deltaTvTarget + ", T=" + horizon + ", seed=" + seed + ", maxOverlapDistance="
                + maxOverlapDistance + ", gateWidth=" + gateWidth  + ", memoryBudgetBytes=" + memoryBudgetBytes
                + ", crudeSample=" + crudeSample + ", crude=" + crude + "}";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private int k;
        private Mode mode = Mode.DEFAULT;
        private Features features;
        private int degree = 1;
        private int projectionRank = 4;
        private int levels = 32;
        private int noisesPerRow = 1;
        private double[] lambdas = {1e-6, 1e-4, 1e-3, 1e-2, 1e-1};
        private double validationFraction = 0.1;
        private double delta = Double.NaN;
        private double deltaTvTarget = 0.005;
        private double horizon = 6.0;
        private long seed = 1;
        private double maxOverlapDistance = 5.0;
        private double gateWidth = 4.0;
        private long memoryBudgetBytes = 1L << 30;
        private int crudeSample = DEFAULT_CRUDE_SAMPLE;
        private CrudeMixtureConfig crude;

        private Builder(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("k must be at least 1, got " + k);
            }
            this.k = k;
        }

        public Builder mode(Mode value) {
            this.mode = Objects.requireNonNull(value, "mode");
            return this;
        }

        /** The feature family; by default MONOMIAL in paper mode and SOFT_GATED otherwise. */
        public Builder features(Features value) {
            this.features = value;
            return this;
        }

        public Builder degree(int value) {
            if (value < 0 || value > 8) {
                throw new IllegalArgumentException("degree must be in 0..8, got " + value);
            }
            this.degree = value;
            return this;
        }

        /** Principal directions r of the projected family, in 1..1024 (and at most d: checked by the plan). */
        public Builder projectionRank(int value) {
            if (value < 1 || value > 1024) {
                throw new IllegalArgumentException("projectionRank must be in 1..1024, got " + value);
            }
            this.projectionRank = value;
            return this;
        }

        public Builder levels(int value) {
            if (value < 1 || value > 4096) {
                throw new IllegalArgumentException("levels must be in 1..4096, got " + value);
            }
            this.levels = value;
            return this;
        }

        public Builder noisesPerRow(int value) {
            if (value < 1 || value > 1024) {
                throw new IllegalArgumentException("noisesPerRow must be in 1..1024, got " + value);
            }
            this.noisesPerRow = value;
            return this;
        }

        public Builder lambdas(double... values) {
            if (values == null || values.length == 0) {
                throw new IllegalArgumentException("the lambda grid must not be empty");
            }
            for (double v : values) {
                if (!(v >= 0) || !Double.isFinite(v)) {
                    throw new IllegalArgumentException("lambda values must be finite and non-negative, got " + v);
                }
            }
            this.lambdas = values.clone();
            return this;
        }

        public Builder validationFraction(double value) {
            if (!(value > 0 && value < 0.5)) {
                throw new IllegalArgumentException("validationFraction must lie in (0, 0.5), got " + value);
            }
            this.validationFraction = value;
            return this;
        }

        /** A fixed early-stopping time in (0, 1), or NaN to choose it from the crude mixture. */
        public Builder delta(double value) {
            if (!Double.isNaN(value) && !(value > 0 && value < 1)) {
                throw new IllegalArgumentException("delta must lie in (0, 1) or be NaN for automatic, got " + value);
            }
            this.delta = value;
            return this;
        }

        public Builder deltaTvTarget(double value) {
            if (!(value > 0 && value < 0.5)) {
                throw new IllegalArgumentException("deltaTvTarget must lie in (0, 0.5), got " + value);
            }
            this.deltaTvTarget = value;
            return this;
        }

        public Builder horizon(double value) {
            if (!(value >= 1 && value <= 50)) {
                throw new IllegalArgumentException("horizon T must lie in [1, 50], got " + value);
            }
            this.horizon = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder maxOverlapDistance(double value) {
            if (!(value >= 0)) {
                throw new IllegalArgumentException("maxOverlapDistance must be non-negative, got " + value);
            }
            this.maxOverlapDistance = value;
            return this;
        }

        public Builder gateWidth(double value) {
            if (!(value > 0)) {
                throw new IllegalArgumentException("gateWidth must be positive (infinite disables the gate), got " + value);
            }
            this.gateWidth = value;
            return this;
        }

        public Builder memoryBudgetBytes(long value) {
            if (value < (1L << 20)) {
                throw new IllegalArgumentException("memoryBudgetBytes must be at least 1 MiB, got " + value);
            }
            this.memoryBudgetBytes = value;
            return this;
        }

        /** Rows of the crude mixture's sample, at least 2 (see {@link LearnerConfig#crudeSample()}). */
        public Builder crudeSample(int value) {
            if (value < 2) {
                throw new IllegalArgumentException("crudeSample must be at least 2, got " + value);
            }
            this.crudeSample = value;
            return this;
        }

        public Builder crude(CrudeMixtureConfig value) {
            this.crude = value;
            return this;
        }

        public LearnerConfig build() {
            return new LearnerConfig(this);
        }
    }
}
