package io.scoremix.spark;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code generate}: draws n points of a known Gaussian mixture on the executors and writes them with
 * columns {@code x0 .. x(d-1)} (DoubleType), plus the provenance record {@code _scoremix.json}.
 *
 * <p>Usage: {@code new GenerateJob(config).run(spark)}. The spec inside the config has been read and
 * validated on the driver before any Spark work; the output is written atomically (see
 * {@link AtomicOutput}): on any failure nothing is left under the output name and the temporary
 * directory is deleted.
 *
 * <p>Implementation notes. Row i of the output (global index 0 .. n-1) is
 * {@code mixture.sample(CounterRandom.of(seed), STREAM, i, ...)}: the generator is keyed by the seed and
 * the counter is the global row index, so the rows are a function of (spec, n, seed) only, never of the
 * partitioning or of task retries. Partition p of P draws the contiguous rows
 * {@code [p*q + min(p, r), (p+1)*q + min(p+1, r))} with {@code q = n / P}, {@code r = n % P}, in blocks
 * of {@value #BLOCK_ROWS} points. Each task parses the spec's JSON (shipped in the closure; the mixture
 * classes are not Java-serializable by design) once, and streams rows out of a reused block buffer.
 */
public final class GenerateJob {

    /** Points drawn per call of {@link GaussianMixture#sample}; bounds the task's buffer at 4096 d doubles. */
    static final int BLOCK_ROWS = 4096;

    /** Automatic partitioning aims at about this many doubles (80 MB) per partition. */
    static final long VALUES_PER_PARTITION = 10_000_000L;

    /** The stream of {@code generate}'s draws (the seed keys the generator): "generate" in ASCII, mixed. */
    static final long STREAM = CounterRandom.stream(0x67656E6572617465L);

    private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

    private final GenerateConfig config;
    private final Map<String, Object> options;

    /** A job for these settings. */
    public GenerateJob(GenerateConfig config) {
        this(config, Map.of());
    }

    /**
     * A job for these settings; {@code options} (every command-line option with its effective value and
     * source) goes into the provenance record as given.
     */
    public GenerateJob(GenerateConfig config, Map<String, Object> options) {
        this.config = config;
        this.options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** What a run did. {@code output} is the qualified output directory. */
    public record Result(String output, long rows, int dimension, int partitions, double seconds) {
    }

    /**
     * Draws and writes the points.
     *
     * @throws BadInputException if the output exists and may not be replaced (nothing is written)
     * @throws UncheckedIOException on file-system failures; other runtime exceptions on Spark failures
     */
    public Result run(SparkSession spark) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        MixtureSpec spec = config.spec();
        GaussianMixture mixture = spec.mixture();
        int d = mixture.dimension();
        long n = config.n();

        AtomicOutput output;
        try {
            output = AtomicOutput.prepare(sc.hadoopConfiguration(), config.output(), config.overwrite());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the output " + config.output() + ": " + e.getMessage(), e);
        }
        int partitions = config.partitions() > 0 ? config.partitions() : partitionsFor(n, d, sc.defaultParallelism());
        LOG.info("generate: {} points of '{}' (k = {}, d = {}) in {} partitions, seed {}, {} -> {}", n, spec.name(),
                mixture.components(), d, partitions, config.seed(), config.format(), output.target());

        String jobGroup = "scoremix-generate-" + UUID.randomUUID();
        long interval = sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s");
        boolean committed = false;
        sc.setJobGroup(jobGroup, "scoremix generate " + n + " x " + d + " (" + spec.name() + ")", false);
        try (GenerateProgress progress = new GenerateProgress(sc, jobGroup, "generate", partitions, n,
                p -> rowStart(n, partitions, p + 1) - rowStart(n, partitions, p), LOG::info, interval)) {
            JavaRDD<Integer> ids = JavaSparkContext.fromSparkContext(sc).parallelize(range(partitions), partitions);
            JavaRDD<Row> rows = ids.flatMap(new PartitionSampler(spec.toJson(), config.seed(), n, partitions,
                    config.failPartition()));
            writeRows(spark, rows, schema(d), config.format(), output);

            new Provenance("generate", started)
                    .put("options", options)
                    .put("spec", specFields(spec))
                    .putJson("mixture", spec.toJson())
                    .put("n", n)
                    .put("seed", config.seed())
                    .put("partitions", partitions)
                    .put("outputFormat", config.format().id())
                    .put("columns", columnNames(d))
                    .put("output", output.target().toString())
                    .put("rng", Map.of("generator", "Philox-4x32-10", "stream", Long.toUnsignedString(STREAM),
                            "counter", "global row index"))
                    .put("spark", Map.of("master", sc.master(), "applicationId", sc.applicationId()))
                    .write(output.fileSystem(), output.temp(), spark.version(), started);
            output.commit();
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException("generate: writing " + output.target() + " failed: " + e.getMessage(), e);
        } finally {
            sc.clearJobGroup();
            if (!committed) {
                output.abort();
            }
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        LOG.info(String.format(Locale.ROOT, "generate: wrote %d rows x %d columns in %d partitions to %s in %.1f s",
                n, d, partitions, output.target(), seconds));
        return new Result(output.target().toString(), n, d, partitions, seconds);
    }

    /**
     * The automatic number of partitions: enough for every core ({@code parallelism}) and for about
     * {@value #VALUES_PER_PARTITION} doubles per partition, but never more than n.
     */
    static int partitionsFor(long n, int d, int parallelism) {
        long bySize = (n * (long) d + VALUES_PER_PARTITION - 1) / VALUES_PER_PARTITION;
        long p = Math.max(Math.max(1, parallelism), bySize);
        return (int) Math.min(Math.min(p, n), Integer.MAX_VALUE);
    }

    /** The first global row of partition p of P (p = P gives n): {@code p*q + min(p, r)}, no overflow. */
    static long rowStart(long n, int partitions, int p) {
        long q = n / partitions;
        long r = n % partitions;
        return p * q + Math.min(p, r);
    }

    /** The output schema: {@code x0 .. x(d-1)}, non-null doubles. */
    static StructType schema(int d) {
        List<StructField> fields = new ArrayList<>(d);
        for (String name : columnNames(d)) {
            fields.add(DataTypes.createStructField(name, DataTypes.DoubleType, false));
        }
        return DataTypes.createStructType(fields);
    }

    static List<String> columnNames(int d) {
        List<String> names = new ArrayList<>(d);
        for (int r = 0; r < d; r++) {
            names.add("x" + r);
        }
        return names;
    }

    private Map<String, Object> specFields(MixtureSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", spec.name());
        m.put("description", spec.description());
        m.put("source", config.specSource());
        m.put("dimension", spec.mixture().dimension());
        m.put("components", spec.mixture().components());
        return m;
    }

    /**
     * Writes generated rows into the output's temporary folder (CSV with a header row); shared by
     * generate and sample, which then add provenance and commit.
     */
    static void writeRows(SparkSession spark, JavaRDD<Row> rows, StructType schema, OutputFormat format,
                          AtomicOutput output) {
        DataFrameWriter<Row> writer = spark.createDataFrame(rows, schema).write().format(format.id())
                .mode(SaveMode.ErrorIfExists);
        if (format == OutputFormat.CSV) {
            writer = writer.option("header", "true");
        }
        writer.save(output.temp().toString());
    }

    /** The partition indices 0 .. count-1, one element per partition of the driving RDD. */
    static List<Integer> range(int count) {
        List<Integer> ids = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            ids.add(p);
        }
        return ids;
    }

    /** Executor side: partition id -> its rows, lazily, block by block. */
    static final class PartitionSampler implements FlatMapFunction<Integer, Row> {
        private static final long serialVersionUID = 1L;

        private final String specJson;
        private final long seed;
        private final long n;
        private final int partitions;
        private final int failPartition;

        PartitionSampler(String specJson, long seed, long n, int partitions, int failPartition) {
            this.specJson = specJson;
            this.seed = seed;
            this.n = n;
            this.partitions = partitions;
            this.failPartition = failPartition;
        }

        @Override
        public Iterator<Row> call(Integer p) {
            GaussianMixture mixture = MixtureSpec.parse(specJson, "generate task").mixture();
            long start = rowStart(n, partitions, p);
            long end = rowStart(n, partitions, p + 1);
            long failAt = p == failPartition ? start + (end - start) / 2 : -1;
            return new BlockRows(mixture, CounterRandom.of(seed), start, end, failAt);
        }
    }

    /** Rows {@code [start, end)} of the global sequence, drawn {@value #BLOCK_ROWS} at a time. */
    static final class BlockRows implements Iterator<Row> {
        private final GaussianMixture mixture;
        private final CounterRandom rng;
        private final int d;
        private final long end;
        private final long failAt;
        private final double[] block;
        private long next;
        private int pos;
        private int filled;

        BlockRows(GaussianMixture mixture, CounterRandom rng, long start, long end, long failAt) {
            this.mixture = mixture;
            this.rng = rng;
            this.d = mixture.dimension();
            this.end = end;
            this.failAt = failAt;
            this.block = new double[(int) Math.min(BLOCK_ROWS, Math.max(1, end - start)) * d];
            this.next = start;
        }

        @Override
        public boolean hasNext() {
            return next < end;
        }

        @Override
        public Row next() {
            if (next >= end) {
                throw new NoSuchElementException();
            }
            if (next == failAt) {
                throw new IllegalStateException("injected failure at row " + next + " (test hook)");
            }
            if (pos == filled) {
                filled = (int) Math.min(BLOCK_ROWS, end - next);
                mixture.sample(rng, STREAM, next, filled, block);
                pos = 0;
            }
            Object[] values = new Object[d];
            int o = pos * d;
            for (int r = 0; r < d; r++) {
                values[r] = block[o + r];
            }
            pos++;
            next++;
            return RowFactory.create(values);
        }
    }
}
