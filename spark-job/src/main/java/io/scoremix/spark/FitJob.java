package io.scoremix.spark;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.core.score.ScoreMoments;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code fit}: learns a score model from data on Spark (ARCHITECTURE.md, data flow of fit) and writes it
 * as a {@code scoremix.model/v1} folder. The distributed twin of core-math's in-memory
 * {@code io.scoremix.core.score.Learner}: same stages, same plan, same kernels.
 *
 * <p>Usage: {@code new FitJob(config).run(spark)} reads {@code config.input()} and writes the model
 * folder {@code config.model()}; {@code FitJob.fit(spark, dataset, config)} fits the rows of an in-memory
 * {@code Dataset<Row>} and returns the model and its metadata ({@link Fitted}) without writing anything.
 * Every executor pass calls {@link FaultInjection#check} (stages {@code moments}, {@code crude},
 * {@code score}), which does nothing unless a test sets {@value FaultInjection#KEY}. Stages:
 * <ol>
 *   <li>Pass 1 (validation and moments): every partition parses its rows (features finite, weights finite
 *       and non-negative; the first bad row of the input stops the job with {@link BadInputException}
 *       naming its file, row and problem), counts them and adds them to a {@link Moments}; the driver
 *       merges the per-partition moments in partition order and builds the {@link Whitening}.</li>
 *   <li>Crude mixture on the driver, from a deterministic sample of about {@code crudeSample} rows (all
 *       rows when there are fewer): row r is kept when the counter-based uniform of (seed, r) is below
 *       crudeSample / rows. Distributed EM is a later step.</li>
 *   <li>The {@link LearningPlan} on the driver; its inputs go to the executors as a {@link PlanShipment}.</li>
 *   <li>Pass 2 (score moments): every partition whitens its rows in blocks and calls
 *       {@link LearningPlan#accumulate} with global row keys, the per-partition
 *       {@link ScoreMoments} are merged by {@link OrderedAggregate}, and the driver solves.</li>
 *   <li>The model folder (model.json, coefficients.bin, _scoremix.json) is written atomically.</li>
 * </ol>
 *
 * <p>Row keys. The key of a row is its index in the input's read order: the rows of partition p have
 * keys {@code offset(p) + position}, with {@code offset(p)} the number of rows of the partitions before p
 * (known from pass 1, so no extra job). Keys decide each row's noise and its train/validation split, so
 * the same input read with the same partitioning gives the same model bit for bit (the reduction order
 * is fixed too). A different partitioning of the same rows (other split sizes, or files listed in
 * another order) changes the read order, hence the keys, and gives a model that agrees only
 * statistically.
 */
public final class FitJob {

    /** Rows per block handed to the kernels. */
    static final int BLOCK_ROWS = 4096;

    /** The stream of the crude-sample draws (the seed keys the generator): "crudesmp" in ASCII. */
    static final long CRUDE_SAMPLE_TAG = 0x6372756465736D70L;

    private static final Logger LOG = LoggerFactory.getLogger(FitJob.class);

    private final FitConfig config;

    /** A job for these settings. */
    public FitJob(FitConfig config) {
        this.config = config;
    }

    /**
     * What a run did: the qualified model directory, the features, the number and total weight of the
     * rows, the partitions, the chosen delta, the per-level report and the stage timings.
     */
    public record Result(String model, List<String> features, long rows, double weight, int partitions,
                         double delta, List<LearningPlan.LevelReport> levels, Map<String, Double> seconds) {
    }

    /**
     * A fitted model, not written: the score model, the metadata that {@code model.json} would hold
     * (feature names, effective config, provenance, levels report; pass both to
     * {@link ScoreModelFormat#encode} to write it), the crude mixture and what {@link Result} reports.
     */
    public record Fitted(ScoreModel model, Map<String, Object> metadata, CrudeMixtureResult crude,
                         List<String> features, long rows, double weight, int partitions, double delta,
                         List<LearningPlan.LevelReport> levels, Map<String, Double> seconds) {
    }

    /**
     * Fits a model to the rows of an in-memory Dataset and returns it without writing anything. The
     * columns are chosen as for files ({@code config.features()}, or every numeric column except the
     * weight column; string columns holding numbers are parsed); {@code config.input()} only names the
     * data in messages and the provenance, {@code config.format()} and {@code config.model()} are ignored.
     * Row keys are the rows' indices in the Dataset's partition order, so a deterministic Dataset
     * (the same partitions in the same order) gives the same model bit for bit. The Dataset is computed
     * once per pass: cache it upstream when it is expensive.
     *
     * @throws BadInputException on bad rows or settings (the message names the partition, row and problem)
     */
    public static Fitted fit(SparkSession spark, Dataset<Row> data, FitConfig config) {
        return new FitJob(config).fit(spark, FitInput.of(data, config), Instant.now());
    }

    /**
     * Fits and writes the model to {@code config.model()}.
     *
     * @throws BadInputException on bad input (nothing is written)
     * @throws UncheckedIOException on file-system failures; other runtime exceptions on Spark failures
     */
    public Result run(SparkSession spark) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        if (config.model() == null) {
            throw new BadInputException("no model directory given");
        }
        SparkContext sc = spark.sparkContext();
        AtomicOutput output;
        try {
            output = AtomicOutput.prepare(sc.hadoopConfiguration(), config.model(), config.overwrite());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the model directory " + config.model() + ": " + e.getMessage(), e);
        }
        boolean committed = false;
        try {
            Fitted fitted = fit(spark, FitInput.open(spark, config), started);
            long t = System.nanoTime();
            ScoreModelFormat.Encoded encoded = ScoreModelFormat.encode(fitted.model(), fitted.metadata());
            output.fileSystem().mkdirs(output.temp());
            write(output, ScoreModelFormat.MODEL_JSON, encoded.modelJson());
            write(output, ScoreModelFormat.COEFFICIENTS, encoded.coefficients());
            new Provenance("fit", started)
                    .put("settings", config.describe())
                    .put("features", fitted.features())
                    .put("rows", fitted.rows())
                    .put("partitions", fitted.partitions())
                    .put("output", output.target().toString())
                    .put("spark", Map.of("master", sc.master(), "applicationId", sc.applicationId()))
                    .write(output.fileSystem(), output.temp(), spark.version(), started);
            output.commit();
            committed = true;
            Map<String, Double> seconds = new LinkedHashMap<>(fitted.seconds());
            seconds.remove("total");
            seconds.put("write", lap(t));
            seconds.put("total", lap(t0));
            LOG.info(String.format(Locale.ROOT, "fit: wrote the model of %d rows x %d features to %s in %.1f s",
                    fitted.rows(), fitted.features().size(), output.target(), seconds.get("total")));
            return new Result(output.target().toString(), fitted.features(), fitted.rows(), fitted.weight(),
                    fitted.partitions(), fitted.delta(), fitted.levels(), seconds);
        } catch (IOException e) {
            throw new UncheckedIOException("fit: writing " + output.target() + " failed: " + e.getMessage(), e);
        } finally {
            if (!committed) {
                output.abort();
            }
        }
    }

    /** The stages up to the solved model (everything but writing). */
    private Fitted fit(SparkSession spark, FitInput input, Instant started) {
        long t0 = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        FaultInjection faults = FaultInjection.from(spark);
        int d = input.features().size();
        FitInput.RowParser parser = input.parser();
        JavaRDD<Row> rows = input.frame().javaRDD();
        int partitions = rows.getNumPartitions();
        LOG.info("fit: {} features {} (weight {}), k = {}, mode {}, {} partitions, input {}", d, input.features(),
                input.weight(), config.k(), config.mode(), partitions, config.input());
        Map<String, Double> seconds = new LinkedHashMap<>();
        String jobGroup = "scoremix-fit-" + UUID.randomUUID();
        Broadcast<PlanShipment> broadcast = null;
        sc.setJobGroup(jobGroup, "scoremix fit " + config.input(), false);
        try {
            // Pass 1: validate, count and moments per partition.
            long t = System.nanoTime();
            List<PartitionMoments> stats = new ArrayList<>(rows.mapPartitionsWithIndex(
                    new MomentsPass(parser, faults), true).collect());
            stats.sort(Comparator.comparingInt(PartitionMoments::partition));
            for (PartitionMoments s : stats) {
                if (s.bad() != null) {
                    throw new BadInputException(parser.message(s.bad()));
                }
            }
            long[] offsets = new long[partitions + 1];
            Moments moments = new Moments(d);
            for (PartitionMoments s : stats) {
                offsets[s.partition() + 1] = s.rows();
                moments.merge(s.moments());
            }
            for (int p = 0; p < partitions; p++) {
                offsets[p + 1] += offsets[p];
            }
            long n = offsets[partitions];
            if (n < 2) {
                throw new BadInputException("the input " + config.input() + " has " + n + " rows; fit needs at least 2");
            }
            if (config.k() > n) {
                throw new BadInputException("k = " + config.k() + " exceeds the number of rows of " + config.input()
                        + " (" + n + ")");
            }
            if (!(moments.weight() > 0)) {
                throw new BadInputException("the weights of column '" + input.weight() + "' sum to " + moments.weight()
                        + "; at least one row needs a positive weight");
            }
            Whitening whitening = Whitening.of(moments);
            seconds.put("moments", lap(t));
            LOG.info("fit: pass 1 read {} rows (total weight {}) in {} partitions", n, moments.weight(), partitions);

            // Crude mixture on a driver-side sample.
            t = System.nanoTime();
            LearnerConfig learner = config.learnerConfig(Double.NaN);
            Sample sample = crudeSample(rows, parser, offsets, n, faults);
            CrudeMixtureResult crude;
            try {
                crude = CrudeMixture.fit(sample.x(), sample.rows(), d, sample.w(), learner.crude());
            } catch (IllegalArgumentException e) {
                throw new BadInputException("the crude mixture cannot be fitted on " + sample.rows() + " sampled rows of "
                        + config.input() + ": " + e.getMessage(), e);
            }
            seconds.put("crude", lap(t));
            LOG.info("fit: crude mixture on {} of {} rows: {} EM iterations after selection, mean log-likelihood {}",
                    sample.rows(), n, crude.finalIterations(), crude.meanLogLikelihood());

            // The plan, on the driver; the executors rebuild it from its inputs.
            t = System.nanoTime();
            LearningPlan chosen;
            try {
                chosen = LearningPlan.of(learner, whitening, crude);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage(), e);
            }
            PlanShipment shipment = new PlanShipment(config, chosen.delta(), whitening, crude.mixture());
            LearningPlan plan = shipment.plan();
            broadcast = jsc.broadcast(shipment);
            final Broadcast<PlanShipment> shipped = broadcast;
            seconds.put("plan", lap(t));
            long bytes = ScoreMoments.workingBytes(plan.featureCounts(), d);
            LOG.info(String.format(Locale.ROOT, "fit: plan with %d levels, delta %.4g; pass 2 accumulators up to %.3f MiB per task",
                    plan.times().length, plan.delta(), bytes / 1048576.0));

            // Pass 2: score moments of every level, reduced in partition order.
            t = System.nanoTime();
            ScoreMoments total;
            try (GenerateProgress progress = new GenerateProgress(sc, jobGroup, "fit pass 2", partitions, n,
                    p -> offsets[p + 1] - offsets[p], LOG::info,
                    sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s"))) {
                JavaRDD<ScoreMoments> perPartition = rows.mapPartitionsWithIndex(
                        new ScorePass(parser, shipped, offsets, faults), true);
                total = OrderedAggregate.reduce(perPartition, ScoreMoments::merge, config.aggregationDepth());
            }
            seconds.put("score_moments", lap(t));
            t = System.nanoTime();
            LearningPlan.Solution solution = plan.solve(total);
            seconds.put("solve", lap(t));
            seconds.put("total", lap(t0));
            Map<String, Object> metadata = metadata(input, plan, crude, sample.rows(), n, moments.weight(), partitions,
                    solution.levels(), spark, started);
            return new Fitted(solution.model(), metadata, crude, input.features(), n, moments.weight(), partitions,
                    plan.delta(), solution.levels(), seconds);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("fit failed: " + e, e);
        } finally {
            sc.clearJobGroup();
            if (broadcast != null) {
                broadcast.destroy();
            }
        }
    }

    private Map<String, Object> metadata(FitInput input, LearningPlan plan, CrudeMixtureResult crude, int sampleRows,
                                         long n, double weight, int partitions, List<LearningPlan.LevelReport> levels,
                                         SparkSession spark, Instant started) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("feature_names", input.features());
        Map<String, Object> cfg = new LinkedHashMap<>(config.describe());
        cfg.put("delta_used", plan.delta());
        cfg.put("level_times", plan.times());
        cfg.put("learner", plan.config().toString());
        m.put("config", cfg);
        Map<String, Object> prov = new LinkedHashMap<>();
        prov.put("command", "fit");
        prov.put("versions", Versions.all(spark.version()));
        prov.put("seed", config.seed());
        prov.put("input", config.input());
        prov.put("input_format", config.format().id());
        prov.put("weight_column", input.weight());
        prov.put("rows", n);
        prov.put("total_weight", weight);
        prov.put("partitions", partitions);
        prov.put("row_keys", "index in read order: offset of the partition + position in it");
        prov.put("crude_sample_rows", sampleRows);
        prov.put("crude_mean_log_likelihood", crude.meanLogLikelihood());
        prov.put("started", started.toString());
        prov.put("finished", Instant.now().toString());
        prov.put("spark_master", spark.sparkContext().master());
        m.put("provenance", prov);
        List<Map<String, Object>> report = new ArrayList<>();
        for (LearningPlan.LevelReport r : levels) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("t", r.time());
            e.put("sigma2", r.sigma2());
            e.put("cells", r.cells());
            e.put("fitted_cells", r.fittedCells());
            e.put("validation_loss_fit", finiteOrString(r.fitLoss()));
            e.put("validation_loss_plugin", finiteOrString(r.pluginLoss()));
            e.put("choices", r.choices());
            report.add(e);
        }
        m.put("levels_report", report);
        return m;
    }

    private static Object finiteOrString(double v) {
        return Double.isFinite(v) ? v : Double.toString(v);
    }

    private static void write(AtomicOutput output, String name, byte[] bytes) throws IOException {
        try (OutputStream out = output.fileSystem().create(new Path(output.temp(), name), false)) {
            out.write(bytes);
        }
    }

    private static double lap(long since) {
        return (System.nanoTime() - since) * 1e-9;
    }

    /** The rows of the crude sample, in key order. */
    record Sample(double[] x, double[] w, int rows) implements Serializable {
    }

    private Sample crudeSample(JavaRDD<Row> rows, FitInput.RowParser parser, long[] offsets, long n,
                               FaultInjection faults) {
        int d = parser.dimension();
        int limit = config.crudeSample();
        if ((long) limit * d > Integer.MAX_VALUE - 8) {
            throw new BadInputException("crude-sample " + limit + " x " + d + " features exceeds one array; lower it");
        }
        double fraction = n <= limit ? 1.0 : (double) limit / n;
        List<Sample> parts = new ArrayList<>(rows.mapPartitionsWithIndex(
                new SamplePass(parser, offsets, fraction, config.seed(), faults), true).collect());
        // collect() keeps partition order, and each partition's rows are in key order.
        int m = 0;
        for (Sample s : parts) {
            m += s.rows();
        }
        double[] x = new double[m * d];
        double[] w = parser.weighted() ? new double[m] : null;
        int at = 0;
        for (Sample s : parts) {
            System.arraycopy(s.x(), 0, x, at * d, s.rows() * d);
            if (w != null) {
                System.arraycopy(s.w(), 0, w, at, s.rows());
            }
            at += s.rows();
        }
        return new Sample(x, w, m);
    }

    /** Pass 1 result of one partition. */
    record PartitionMoments(int partition, long rows, Moments moments, FitInput.BadRow bad) implements Serializable {
    }

    /** Pass 1: validate and add every row of a partition to its moments; stop at the first bad row. */
    static final class MomentsPass implements Function2<Integer, Iterator<Row>, Iterator<PartitionMoments>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final FaultInjection faults;

        MomentsPass(FitInput.RowParser parser, FaultInjection faults) {
            this.parser = parser;
            this.faults = faults;
        }

        @Override
        public Iterator<PartitionMoments> call(Integer p, Iterator<Row> it) {
            faults.check("moments", p);
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS);
            Moments moments = new Moments(parser.dimension());
            for (int m = blocks.next(); m > 0; m = blocks.next()) {
                moments.addBlock(blocks.x(), blocks.w(), m);
            }
            return FitInput.single(new PartitionMoments(p, blocks.position(), moments, blocks.bad()));
        }
    }

    /** The crude sample's rows of one partition. */
    static final class SamplePass implements Function2<Integer, Iterator<Row>, Iterator<Sample>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final long[] offsets;
        private final double fraction;
        private final long seed;
        private final FaultInjection faults;

        SamplePass(FitInput.RowParser parser, long[] offsets, double fraction, long seed, FaultInjection faults) {
            this.parser = parser;
            this.offsets = offsets;
            this.fraction = fraction;
            this.seed = seed;
            this.faults = faults;
        }

        @Override
        public Iterator<Sample> call(Integer p, Iterator<Row> it) {
            faults.check("crude", p);
            int d = parser.dimension();
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS);
            CounterRandom rng = CounterRandom.of(seed);
            long stream = CounterRandom.stream(CRUDE_SAMPLE_TAG);
            double[] u = new double[BLOCK_ROWS];
            int expected = (int) Math.min(Integer.MAX_VALUE / Math.max(1, d) - 8,
                    Math.ceil((offsets[p + 1] - offsets[p]) * fraction * 1.1) + 16);
            DoubleBuffer x = new DoubleBuffer(expected * d);
            DoubleBuffer w = new DoubleBuffer(parser.weighted() ? expected : 0);
            long key = offsets[p];
            for (int m = blocks.next(); m > 0; m = blocks.next()) {
                if (fraction < 1) {
                    rng.fillUniform(stream, key, u, 0, m);
                }
                for (int j = 0; j < m; j++) {
                    if (fraction >= 1 || u[j] < fraction) {
                        x.add(blocks.x(), j * d, d);
                        if (parser.weighted()) {
                            w.add(blocks.w(), j, 1);
                        }
                    }
                }
                key += m;
            }
            blocks.requireGood();
            int rowsKept = x.size() / d;
            return FitInput.single(new Sample(x.toArray(), parser.weighted() ? w.toArray() : null, rowsKept));
        }
    }

    /** Pass 2: the score moments of one partition, with global row keys. */
    static final class ScorePass implements Function2<Integer, Iterator<Row>, Iterator<ScoreMoments>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final Broadcast<PlanShipment> plan;
        private final long[] offsets;
        private final FaultInjection faults;

        ScorePass(FitInput.RowParser parser, Broadcast<PlanShipment> plan, long[] offsets, FaultInjection faults) {
            this.parser = parser;
            this.plan = plan;
            this.offsets = offsets;
            this.faults = faults;
        }

        @Override
        public Iterator<ScoreMoments> call(Integer p, Iterator<Row> it) {
            faults.check("score", p);
            LearningPlan lp = plan.value().plan();
            Whitening whitening = lp.whitening();
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS);
            double[] z = new double[BLOCK_ROWS * parser.dimension()];
            ScoreMoments moments = lp.emptyMoments();
            long key = offsets[p];
            for (int m = blocks.next(); m > 0; m = blocks.next()) {
                whitening.apply(blocks.x(), m, z);
                lp.accumulate(z, blocks.w(), m, key, moments);
                key += m;
            }
            blocks.requireGood();
            if (key != offsets[p + 1]) {
                throw new IllegalStateException("partition " + p + " read " + (key - offsets[p]) + " rows in pass 2 but "
                        + (offsets[p + 1] - offsets[p]) + " in pass 1: the input changed during the fit");
            }
            return FitInput.single(moments);
        }
    }

    /** A growable array of doubles. */
    static final class DoubleBuffer {
        private double[] data;
        private int size;

        DoubleBuffer(int capacity) {
            data = new double[Math.max(16, capacity)];
        }

        void add(double[] src, int off, int len) {
            if (size + len > data.length) {
                data = java.util.Arrays.copyOf(data, Math.max(size + len, data.length * 2));
            }
            System.arraycopy(src, off, data, size, len);
            size += len;
        }

        int size() {
            return size;
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
