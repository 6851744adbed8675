package io.scoremix.spark;

import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.ScoreModel;
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
import java.util.function.LongConsumer;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sample}: draws n points from a fitted score model by the reverse diffusion on the executors and
 * writes them with the training data's column names, plus the provenance record {@code _scoremix.json}.
 *
 * <p>Usage: {@code new SampleJob(config).run(spark)}. The model is read and validated on the driver;
 * its two files are broadcast as bytes and decoded once per executor JVM ({@link ModelFolder}). The
 * output is written atomically like {@code generate}'s ({@link AtomicOutput}).
 *
 * <p>Implementation notes. Point i (global index 0 .. n-1) is point i of the sampler's stream
 * {@value #STREAM_NAME} for the seed: the {@link ReverseSampler} addresses its starting point and every
 * step's noise by the point's index, so the output is a function of (model, n, seed, sampler, steps)
 * only, not of the partitioning or of task retries. Partition p writes the contiguous rows of
 * {@link GenerateJob#rowStart}, in blocks of {@value #BLOCK_ROWS} points, mapped back to the data's
 * coordinates by {@code Whitening.invert}. The drawing tasks call {@link FaultInjection#check} (stage
 * {@code sample}) halfway through their rows. The time grid is the curvature grid of the model's crude
 * mixture ({@code TimeGrid.curvature}) from the model's horizon T (its last learned level) to its delta
 * (its first), so the output approximates the data law noised to delta; its step count is the requested one
 * or, for {@code auto}, chosen from the crude mixture ({@link SamplerSteps}). The driver builds the grid once and
 * ships its times to the tasks; the provenance's {@code sampler} records the requested and the resolved steps.
 */
public final class SampleJob {

    /** Points per sampler call; bounds the task's buffers at 2 x 4096 d doubles. */
    static final int BLOCK_ROWS = 4096;
    static final String STREAM_NAME = "sample";
    /** Automatic partitions aim at this many tasks per core (see {@link #partitionsFor}). */
    static final int TASKS_PER_CORE = 4;
    /** The stream of {@code sample}'s draws: "sample" in ASCII, mixed. */
    static final long STREAM = CounterRandom.stream(0x73616D706C65L);

    private static final Logger LOG = LoggerFactory.getLogger(SampleJob.class);

    private final SampleConfig config;
    private final Map<String, Object> options;

    /** A job for these settings. */
    public SampleJob(SampleConfig config) {
        this(config, Map.of());
    }

    /**
     * A job for these settings; {@code options} (every command-line option with its effective value and
     * source) goes into the provenance record as given.
     */
    public SampleJob(SampleConfig config, Map<String, Object> options) {
        this.config = config;
        this.options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** What a run did. {@code output} is the qualified output directory. */
    public record Result(String output, long rows, List<String> columns, int partitions, double seconds) {
    }

    /**
     * Draws and writes the points.
     *
     * @throws BadInputException if the model is missing or invalid, or the output exists and may not be
     *                           replaced (nothing is written)
     * @throws UncheckedIOException on file-system failures; other runtime exceptions on Spark failures
     */
    public Result run(SparkSession spark) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        ModelFolder model;
        AtomicOutput output;
        try {
            model = ModelFolder.read(sc.hadoopConfiguration(), config.model());
            output = AtomicOutput.prepare(sc.hadoopConfiguration(), config.output(), config.overwrite());
        } catch (IOException e) {
            throw new UncheckedIOException("sample: cannot read the model " + config.model() + " or check the output "
                    + config.output() + ": " + e.getMessage(), e);
        }
        List<String> columns = model.featureNames();
        int d = columns.size();
        long n = config.n();
        double[] dh = model.deltaAndHorizon();
        SamplerSteps.Resolved steps;
        SamplerConfig sampler;
        try {
            steps = SamplerSteps.resolve(model.model().crude(), dh[1], dh[0], config.steps());
            sampler = SamplerConfig.builder(steps.grid()).method(config.method()).build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException("sample: " + e.getMessage(), e);
        }
        int partitions = config.partitions() > 0 ? config.partitions() : partitionsFor(n, d, sc.defaultParallelism());
        LOG.info("sample: {} points of {} (d = {}) in {} partitions, seed {}, {} on the curvature grid, {} -> {}", n,
                model.source(), d, partitions, config.seed(), config.method(), steps.describe(), output.target());

        String jobGroup = "scoremix-sample-" + UUID.randomUUID();
        boolean committed = false;
        sc.setJobGroup(jobGroup, "scoremix sample " + n + " x " + d, false);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        Broadcast<ModelFolder> shipped = jsc.broadcast(model);
        try (GenerateProgress progress = new GenerateProgress(sc, jobGroup, "sample", partitions, n,
                p -> GenerateJob.rowStart(n, partitions, p + 1) - GenerateJob.rowStart(n, partitions, p), LOG::info,
                sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s"))) {
            JavaRDD<Row> rows = jsc.parallelize(GenerateJob.range(partitions), partitions).flatMap(
                    new PartitionSampler(shipped, steps.grid().times(), config.method(), config.seed(), n,
                            partitions, FaultInjection.from(spark)));
            GenerateJob.writeRows(spark, rows, schema(columns), config.format(), output);
            Map<String, Object> samplerFields = new LinkedHashMap<>();
            samplerFields.put("method", config.method().name().toLowerCase(Locale.ROOT));
            samplerFields.putAll(steps.fields());
            samplerFields.put("horizon", dh[1]);
            samplerFields.put("delta", dh[0]);
            new Provenance("sample", started)
                    .put("options", options)
                    .put("model", model.source())
                    .put("n", n)
                    .put("seed", config.seed())
                    .put("sampler", samplerFields)
                    .put("partitions", partitions)
                    .put("outputFormat", config.format().id())
                    .put("columns", columns)
                    .put("output", output.target().toString())
                    .put("rng", Map.of("generator", "Philox-4x32-10", "stream", Long.toUnsignedString(STREAM),
                            "counter", "global row index"))
                    .put("spark", Map.of("master", sc.master(), "applicationId", sc.applicationId()))
                    .write(output.fileSystem(), output.temp(), spark.version(), started);
            output.commit();
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException("sample: writing " + output.target() + " failed: " + e.getMessage(), e);
        } finally {
            sc.clearJobGroup();
            shipped.destroy();
            if (!committed) {
                output.abort();
            }
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        LOG.info(String.format(Locale.ROOT, "sample: wrote %d rows x %d columns in %d partitions to %s in %.1f s",
                n, d, partitions, output.target(), seconds));
        return new Result(output.target().toString(), n, columns, partitions, seconds);
    }

    /**
     * The automatic partition count: {@code generate}'s (at least one task per core, about 80 MB of
     * doubles each), raised to about {@value #TASKS_PER_CORE} tasks per core while every task keeps at
     * least one full block of {@value #BLOCK_ROWS} points. A point costs a whole reverse diffusion (hundreds
     * of score evaluations), so one task per core left cores idle behind the slowest task; smaller tasks
     * balance the load and make the progress finer. The output does not depend on the count.
     */
    static int partitionsFor(long n, int d, int parallelism) {
        long balanced = Math.min((long) TASKS_PER_CORE * Math.max(1, parallelism), Math.max(1, n / BLOCK_ROWS));
        return (int) Math.max(GenerateJob.partitionsFor(n, d, parallelism), balanced);
    }

    static StructType schema(List<String> columns) {
        List<StructField> fields = new ArrayList<>(columns.size());
        for (String name : columns) {
            fields.add(DataTypes.createStructField(name, DataTypes.DoubleType, false));
        }
        return DataTypes.createStructType(fields);
    }

    /** Executor side: partition id -> its rows, lazily, block by block. */
    static final class PartitionSampler implements FlatMapFunction<Integer, Row> {
        private static final long serialVersionUID = 1L;

        private final Broadcast<ModelFolder> model;
        private final double[] times;
        private final SamplerConfig.Method method;
        private final long seed;
        private final long n;
        private final int partitions;
        private final FaultInjection faults;

        /** @param times the sampler grid's times, built once on the driver */
        PartitionSampler(Broadcast<ModelFolder> model, double[] times, SamplerConfig.Method method, long seed, long n,
                         int partitions, FaultInjection faults) {
            this.model = model;
            this.times = times;
            this.method = method;
            this.seed = seed;
            this.n = n;
            this.partitions = partitions;
            this.faults = faults;
        }

        @Override
        public Iterator<Row> call(Integer p) {
            // SamplerConfig is not Serializable: rebuild it from the driver's grid times and the method.
            SamplerConfig sampler = SamplerConfig.builder(TimeGrid.of(times)).method(method).build();
            long start = GenerateJob.rowStart(n, partitions, p);
            long end = GenerateJob.rowStart(n, partitions, p + 1);
            long halfway = start + (end - start) / 2;
            return new BlockRows(model.value().model(), ReverseSampler.of(sampler), CounterRandom.of(seed), start, end,
                    row -> {
                        if (row == halfway) {
                            faults.check("sample", p);
                        }
                    });
        }
    }

    /** Rows {@code [start, end)} of the global sequence, drawn {@value #BLOCK_ROWS} at a time. */
    static final class BlockRows implements Iterator<Row> {
        private final ScoreModel model;
        private final ReverseSampler sampler;
        private final CounterRandom rng;
        private final int d;
        private final long end;
        private final LongConsumer beforeRow;
        private final double[] z;
        private final double[] x;
        private long next;
        private int pos;
        private int filled;

        /** @param beforeRow called with each row's index before it is produced (the fault-injection hook) */
        BlockRows(ScoreModel model, ReverseSampler sampler, CounterRandom rng, long start, long end,
                  LongConsumer beforeRow) {
            this.model = model;
            this.sampler = sampler;
            this.rng = rng;
            this.d = model.dimension();
            this.end = end;
            this.beforeRow = beforeRow;
            int size = (int) Math.min(BLOCK_ROWS, Math.max(1, end - start)) * d;
            this.z = new double[size];
            this.x = new double[size];
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
            beforeRow.accept(next);
            if (pos == filled) {
                filled = (int) Math.min(BLOCK_ROWS, end - next);
                sampler.sample(model, rng, STREAM, next, filled, z);
                model.whitening().invert(z, filled, x);
                pos = 0;
            }
            Object[] values = new Object[d];
            int o = pos * d;
            for (int r = 0; r < d; r++) {
                values[r] = x[o + r];
            }
            pos++;
            next++;
            return RowFactory.create(values);
        }
    }
}
