package io.scoremix.spark;

import io.scoremix.core.io.MixtureSpec;
import java.util.Objects;

/**
 * Immutable, validated settings of {@link GenerateJob}: which mixture, how many points, where and how to
 * write them. Built with {@link #builder()}; {@link Builder#build()} names the bad value when a setting
 * is invalid.
 */
public final class GenerateConfig {

    /** The default seed (also the built-in default of the CLI's {@code --seed}). */
    public static final long DEFAULT_SEED = 42L;

    private final MixtureSpec spec;
    private final String specSource;
    private final long n;
    private final String output;
    private final OutputFormat format;
    private final int partitions;
    private final long seed;
    private final boolean overwrite;
    private final int failPartition;

    private GenerateConfig(Builder b) {
        this.spec = b.spec;
        this.specSource = b.specSource;
        this.n = b.n;
        this.output = b.output;
        this.format = b.format;
        this.partitions = b.partitions;
        this.seed = b.seed;
        this.overwrite = b.overwrite;
        this.failPartition = b.failPartition;
    }

    /** A builder with the defaults: Parquet, automatic partitions, seed {@value #DEFAULT_SEED}, no overwrite. */
    public static Builder builder() {
        return new Builder();
    }

    /** The validated mixture spec to draw from. */
    public MixtureSpec spec() {
        return spec;
    }

    /** Where the spec came from (a path), for messages and provenance. */
    public String specSource() {
        return specSource;
    }

    /** Number of points, at least 1. */
    public long n() {
        return n;
    }

    /** The output directory, any Hadoop path (file:, hdfs:, s3a:, or a plain local path). */
    public String output() {
        return output;
    }

    /** The output format. */
    public OutputFormat format() {
        return format;
    }

    /** Requested number of partitions, or 0 for the automatic choice of {@link GenerateJob#partitionsFor}. */
    public int partitions() {
        return partitions;
    }

    /** The seed: the output is a function of (spec, n, seed) only. */
    public long seed() {
        return seed;
    }

    /** Whether an existing output directory may be replaced (only once the new output is complete). */
    public boolean overwrite() {
        return overwrite;
    }

    /** Test hook: the partition whose task throws after its first block, or -1 (never). */
    int failPartition() {
        return failPartition;
    }

    @Override
    public String toString() {
        return "GenerateConfig[spec=" + specSource + ", n=" + n + ", output=" + output + ", format=" + format
                + ", partitions=" + (partitions == 0 ? "auto" : partitions) + ", seed=" + seed
                + ", overwrite=" + overwrite + "]";
    }

    /** Mutable builder of {@link GenerateConfig}; not thread-safe. */
    public static final class Builder {
        private MixtureSpec spec;
        private String specSource;
        private long n = -1;
        private String output;
        private OutputFormat format = OutputFormat.PARQUET;
        private int partitions;
        private long seed = DEFAULT_SEED;
        private boolean overwrite;
        private int failPartition = -1;

        private Builder() {
        }

        /** The mixture and where it was read from (for messages and provenance). */
        public Builder spec(MixtureSpec spec, String source) {
            this.spec = Objects.requireNonNull(spec, "spec");
            this.specSource = Objects.requireNonNull(source, "source");
            return this;
        }

        /** Number of points to draw, at least 1. */
        public Builder n(long n) {
            this.n = n;
            return this;
        }

        /** Output directory (Hadoop path). */
        public Builder output(String output) {
            this.output = output;
            return this;
        }

        /** Output format (default Parquet). */
        public Builder format(OutputFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /** Number of partitions, or 0 (default) for the automatic choice. */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** The seed (default {@value GenerateConfig#DEFAULT_SEED}). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Whether an existing output may be replaced (default false). */
        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        /** Test hook: make the task of this partition throw after its first block. */
        Builder failPartition(int partition) {
            this.failPartition = partition;
            return this;
        }

        /**
         * The config.
         *
         * @throws BadInputException naming the first invalid setting
         */
        public GenerateConfig build() {
            if (spec == null) {
                throw new BadInputException("no mixture spec given");
            }
            if (n < 1) {
                throw new BadInputException("n must be at least 1 (got " + n + ")");
            }
            if (output == null || output.isBlank()) {
                throw new BadInputException("no output directory given");
            }
            if (partitions < 0) {
                throw new BadInputException("partitions must be at least 1, or 0 for automatic (got " + partitions + ")");
            }
            return new GenerateConfig(this);
        }
    }
}
