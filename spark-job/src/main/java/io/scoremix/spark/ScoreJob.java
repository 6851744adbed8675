package io.scoremix.spark;

import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.score.ModelDensity;
import io.scoremix.core.score.ScoreModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
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
 * {@code score}: per input row, the crude mixture's log-density and posterior component probabilities
 * and the learned model's log-density (its probability-flow ODE density, {@link ModelDensity}), for
 * anomaly scoring. Output columns: the features (as doubles, in the model's order), {@code log_density_crude},
 * {@code posterior_0 .. posterior_(k-1)} and {@code log_density}; one output row per input row, in the
 * input's read order within each partition. Written atomically with its provenance, like generate.
 *
 * <p>Implementation notes. Pass 1 validates and counts every partition's rows with fit's reader (the
 * first bad row stops the job, nothing written, the message naming file, row and problem) and gives the
 * row counts that the progress lines use. Pass 2 reads again and scores blocks of {@value #BLOCK_ROWS} rows;
 * the model's two files are broadcast as bytes and decoded once per executor JVM. Log-densities are in the
 * data's coordinates (the whitening's Jacobian included), so they compare with any other density of the
 * same columns.
 */
public final class ScoreJob {

    static final int BLOCK_ROWS = 1024;
    public static final String CRUDE_COLUMN = "log_density_crude";
    public static final String POSTERIOR_PREFIX = "posterior_";
    public static final String DENSITY_COLUMN = "log_density";

    private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

    private final ScoreConfig config;
    private final Map<String, Object> options;

    /** A job for these settings. */
    public ScoreJob(ScoreConfig config) {
        this(config, Map.of());
    }

    /**
     * A job for these settings; {@code options} (every command-line option with its effective value and
     * source) goes into the provenance record as given.
     */
    public ScoreJob(ScoreConfig config, Map<String, Object> options) {
        this.config = config;
        this.options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
    }

    /** What a run did. */
    public record Result(String output, long rows, List<String> columns, int partitions, double seconds) {
    }

    /**
     * Scores and writes.
     *
     * @throws BadInputException on a missing or invalid model or input, a bad row, or an existing output
     *                           without overwrite (nothing is written)
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
            throw new UncheckedIOException("score: cannot read the model " + config.model() + " or check the output "
                    + config.output() + ": " + e.getMessage(), e);
        }
        ScoreModel sm = model.model();
        int d = sm.dimension();
        int k = sm.crude().components();
        List<String> features = config.features().isEmpty() ? model.featureNames() : config.features();
        if (features.size() != d) {
            throw new BadInputException("the model " + model.source() + " has " + d + " features " + model.featureNames()
                    + " but " + features.size() + " columns were named: " + features);
        }
        FitInput in = FitInput.open(spark, FitConfig.of(config.input(), 1, "-").withFormat(config.format())
                .withFeatures(features));
        FitInput.RowParser parser = in.parser();
        JavaRDD<Row> rows = in.frame().javaRDD();
        int partitions = rows.getNumPartitions();
        String jobGroup = "scoremix-score-" + UUID.randomUUID();
        sc.setJobGroup(jobGroup, "scoremix score " + config.input(), false);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        Broadcast<ModelFolder> shipped = null;
        boolean committed = false;
        long total;
        try {
            List<DataSample.Count> counts = new ArrayList<>(rows.mapPartitionsWithIndex(
                    new DataSample.CountPass(parser), true).collect());
            counts.sort(Comparator.comparingInt(DataSample.Count::partition));
            long[] perPartition = new long[partitions];
            total = 0;
            for (DataSample.Count c : counts) {
                if (c.bad() != null) {
                    throw new BadInputException(parser.message(c.bad()));
                }
                perPartition[c.partition()] = c.rows();
                total += c.rows();
            }
            if (total == 0) {
                throw new BadInputException("the input " + config.input() + " has no rows");
            }
            LOG.info("score: {} rows x {} features of {} with the model {}, {} partitions", total, d, config.input(),
                    model.source(), partitions);
            shipped = jsc.broadcast(model);
            List<String> columns = columns(features, k, config.steps() > 0);
            try (GenerateProgress progress = new GenerateProgress(sc, jobGroup, "score", partitions, total,
                    p -> perPartition[p], LOG::info, sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s"))) {
                JavaRDD<Row> scored = rows.mapPartitionsWithIndex(new ScorePass(parser, shipped, config.steps()), true);
                GenerateJob.writeRows(spark, scored, schema(columns), config.outputFormat(), output);
            }
            new Provenance("score", started).put("options", options)
                    .put("settings", config.describe())
                    .put("model", model.source())
                    .put("rows", total)
                    .put("columns", columns)
                    .put("partitions", partitions)
                    .put("output", output.target().toString())
                    .put("spark", Map.of("master", sc.master(), "applicationId", sc.applicationId()))
                    .write(output.fileSystem(), output.temp(), spark.version(), started);
            output.commit();
            committed = true;
            double seconds = (System.nanoTime() - t0) * 1e-9;
            LOG.info(String.format(Locale.ROOT, "score: wrote %d rows to %s in %.1f s", total, output.target(), seconds));
            return new Result(output.target().toString(), total, columns, partitions, seconds);
        } catch (IOException e) {
            throw new UncheckedIOException("score: writing " + output.target() + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw unwrapBadRow(e);
        } finally {
            sc.clearJobGroup();
            if (shipped != null) {
                shipped.destroy();
            }
            if (!committed) {
                output.abort();
            }
        }
    }

    /** A row that turned bad between the passes fails its task; report it as bad input. */
    private static RuntimeException unwrapBadRow(RuntimeException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof BadInputException b) {
                return b;
            }
        }
        return e;
    }

    /** The output columns: features, crude log-density, k posteriors, and the ODE log-density if computed. */
    static List<String> columns(List<String> features, int k, boolean ode) {
        List<String> out = new ArrayList<>(features);
        out.add(CRUDE_COLUMN);
        for (int i = 0; i < k; i++) {
            out.add(POSTERIOR_PREFIX + i);
        }
        if (ode) {
            out.add(DENSITY_COLUMN);
        }
        for (String f : features) {
            if (f.equals(CRUDE_COLUMN) || f.equals(DENSITY_COLUMN) || f.startsWith(POSTERIOR_PREFIX)) {
                throw new BadInputException("the feature column '" + f + "' clashes with an output column of score");
            }
        }
        return out;
    }

    static StructType schema(List<String> columns) {
        List<StructField> fields = new ArrayList<>(columns.size());
        for (String name : columns) {
            fields.add(DataTypes.createStructField(name, DataTypes.DoubleType, false));
        }
        return DataTypes.createStructType(fields);
    }

    /** Pass 2: a partition's rows, scored block by block. */
    static final class ScorePass implements Function2<Integer, Iterator<Row>, Iterator<Row>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final Broadcast<ModelFolder> model;
        private final int steps;

        ScorePass(FitInput.RowParser parser, Broadcast<ModelFolder> model, int steps) {
            this.parser = parser;
            this.model = model;
            this.steps = steps;
        }

        @Override
        public Iterator<Row> call(Integer p, Iterator<Row> it) {
            ScoreModel sm = model.value().model();
            GaussianMixture crude = sm.whitening().fromWhitened(sm.crude());
            double[] dh = model.value().deltaAndHorizon();
            ModelDensity density = steps > 0 ? ModelDensity.of(sm, TimeGrid.benton(dh[1], dh[0], steps)) : null;
            return new ScoredRows(new FitInput.Blocks(it, parser, p, BLOCK_ROWS), parser, crude, density);
        }
    }

    /** Rows of scored blocks. */
    static final class ScoredRows implements Iterator<Row> {
        private final FitInput.Blocks blocks;
        private final FitInput.RowParser parser;
        private final GaussianMixture crude;
        private final ModelDensity density;
        private final int d;
        private final int k;
        private final double[] logCrude = new double[BLOCK_ROWS];
        private final double[] posteriors;
        private final double[] logModel = new double[BLOCK_ROWS];
        private int pos;
        private int filled;

        ScoredRows(FitInput.Blocks blocks, FitInput.RowParser parser, GaussianMixture crude, ModelDensity density) {
            this.blocks = blocks;
            this.parser = parser;
            this.crude = crude;
            this.density = density;
            this.d = crude.dimension();
            this.k = crude.components();
            this.posteriors = new double[BLOCK_ROWS * k];
        }

        @Override
        public boolean hasNext() {
            if (pos < filled) {
                return true;
            }
            filled = blocks.next();
            pos = 0;
            if (filled == 0 && blocks.bad() != null) {
                // Pass 1 saw this partition whole: the input changed in between.
                throw new BadInputException("the input changed during score: " + parser.message(blocks.bad()));
            }
            if (filled > 0) {
                double[] x = blocks.x();
                crude.logDensity(x, filled, logCrude);
                crude.posteriors(x, filled, posteriors);
                if (density != null) {
                    density.logDensity(x, filled, logModel);
                }
            }
            return filled > 0;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            double[] x = blocks.x();
            Object[] values = new Object[d + 1 + k + (density != null ? 1 : 0)];
            int o = pos * d;
            for (int r = 0; r < d; r++) {
                values[r] = x[o + r];
            }
            values[d] = logCrude[pos];
            for (int i = 0; i < k; i++) {
                values[d + 1 + i] = posteriors[pos * k + i];
            }
            if (density != null) {
                values[d + 1 + k] = logModel[pos];
            }
            pos++;
            return RowFactory.create(values);
        }
    }
}
