package io.scoremix.spark;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.EmStatistics;
import io.scoremix.core.mixture.GaussianMixture;
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
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
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
import org.apache.spark.storage.StorageLevel;
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
 *   <li>Reading: every partition's rows are parsed once into blocks of {@value #BLOCK_ROWS} rows (features
 *       finite, weights finite and non-negative; with {@code --bad-rows fail} the first bad row of the
 *       input stops the job with {@link BadInputException} naming its file, row and problem, with
 *       {@code skip} bad rows are dropped and counted per kind). The blocks are kept in Spark's cache
 *       (memory, then disk; {@code cacheInput}) for all later passes, so the input is read once.</li>
 *   <li>Pass 1 (moments): each partition counts its rows and adds them to a {@link Moments}; the driver
 *       merges them in partition order and builds the {@link Whitening}.</li>
 *   <li>Crude mixture: the candidates (initialisations) run on the driver on a deterministic sample of
 *       about {@code crudeSample} rows (row r is kept when the counter-based uniform of (seed, r) is
 *       below crudeSample / rows); when that is not every row, the winner is refined by EM over all rows
 *       ({@link #distributedEm}: one pass per iteration, {@link EmStatistics} merged in partition order,
 *       at most {@code crudeIterations}).</li>
 *   <li>The {@link LearningPlan} on the driver; its inputs go to the executors as a {@link PlanShipment}.
 *       The levels are split into groups whose accumulators fit {@code memoryBudget} (usually one).</li>
 *   <li>Pass 2 (score moments), once per level group: every partition whitens its blocks and calls
 *       {@link LearningPlan#accumulate} with global row keys; the per-partition {@link ScoreMoments}
 *       are merged by {@link OrderedAggregate}, the groups' moments merged (each holds only its own
 *       levels, so the sum is exact), and the driver solves. Screening (default mode, when the score rows
 *       exceed {@code screenRows}): the pass first runs on a pilot of about {@code screenRows} of the
 *       score rows (row r is in it when the uniform of (seed, r) on the screening stream is below
 *       screenRows / score rows) and the driver solves; a level whose validated choice is the plug-in in
 *       every cell is settled and keeps the pilot's solution. A second pass adds the other score rows for
 *       the unsettled levels only (skipped when every level settled), and the driver solves the merged
 *       moments. Every row keeps its key among all score rows, so an unsettled level's moments equal the
 *       unscreened pass's up to summation order.</li>
 *   <li>The model folder (model.json, coefficients.bin, _scoremix.json) is written atomically
 *       ({@link #run} only).</li>
 * </ol>
 *
 * <p>Row keys. The key of a row is its index in the input's read order: the rows of partition p have
 * keys {@code offset(p) + position}, with {@code offset(p)} the number of rows of the partitions before p
 * (known from pass 1, so no extra job). Keys decide each row's noise and its train/validation split, so
 * the same input read with the same partitioning gives the same model bit for bit (the reduction order
 * is fixed too). A folder's files are read in the order of their paths ({@link OrderedFiles}), not the
 * file system's listing order. A different partitioning of the same rows (other split sizes) changes the
 * read order, hence the keys, and gives a model that agrees only statistically.
 */
public final class FitJob {

    /** Rows per block handed to the kernels. */
    static final int BLOCK_ROWS = 4096;

    /** The stream of the crude-sample draws (the seed keys the generator): "crudesmp" in ASCII. */
    static final long CRUDE_SAMPLE_TAG = 0x6372756465736D70L;

    /**
     * EM tolerance (change of the mean log-likelihood per row) and iteration cap of the crude candidates
     * on the driver sample when EM over all rows follows: they only have to rank the initialisations.
     */
    static final double CANDIDATE_TOLERANCE = 1e-4;
    static final int CANDIDATE_MAX_ITERATIONS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(FitJob.class);

    private final FitConfig config;
    private final Map<String, Object> options;

    /** A job for these settings. */
    public FitJob(FitConfig config) {
        this(config, Map.of());
    }

    /**
     * A job for these settings; {@code options} (every command-line option with its effective value and
     * source) goes into the provenance record as given.
     */
    public FitJob(FitConfig config, Map<String, Object> options) {
        this.config = config;
        this.options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * What a run did: the qualified model directory, the features, the number and total weight of the
     * rows used, the partitions, the chosen delta, the per-level report, the stage timings, the rows
     * skipped per problem kind ({@code --bad-rows skip}; empty otherwise) and the number of level groups
     * (passes of the score moments).
     */
    public record Result(String model, List<String> features, long rows, double weight, int partitions,
                         double delta, List<LearningPlan.LevelReport> levels, Map<String, Double> seconds,
                         Map<String, Long> skippedRows, int levelGroups) {
    }

    /**
     * A fitted model, not written: the score model, the metadata that {@code model.json} would hold
     * (feature names, effective config, provenance, levels report; pass both to
     * {@link ScoreModelFormat#encode} to write it), the crude mixture and what {@link Result} reports.
     */
    public record Fitted(ScoreModel model, Map<String, Object> metadata, CrudeMixtureResult crude,
                         List<String> features, long rows, double weight, int partitions, double delta,
                         List<LearningPlan.LevelReport> levels, Map<String, Double> seconds,
                         Map<String, Long> skippedRows, int levelGroups) {
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
                    .put("options", options)
                    .put("settings", config.describe())
                    .put("features", fitted.features())
                    .put("rows", fitted.rows())
                    .put("skipped_rows", fitted.skippedRows())
                    .put("level_groups", fitted.levelGroups())
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
                    fitted.partitions(), fitted.delta(), fitted.levels(), seconds, fitted.skippedRows(),
                    fitted.levelGroups());
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
        // The memory check that needs no data: even a level of one cell must fit the budget.
        LearnerConfig knobs = config.learnerConfig(Double.NaN);
        long smallestLevel = LearningPlan.minimumLevelBytes(knobs, d);
        if (smallestLevel > config.memoryBudget()) {
            throw new BadInputException(String.format(Locale.ROOT, "the regression accumulators of a single level need at "
                    + "least %.1f MiB with %d features, degree %d and %s features, but the memory budget is %.1f MiB: "
                    + "lower --degree, use fewer features, or raise --memory-budget-mb", smallestLevel / 1048576.0, d,
                    config.degree(), knobs.features(), config.memoryBudget() / 1048576.0));
        }
        FitInput.RowParser parser = input.parser();
        JavaRDD<Row> rows = input.frame().javaRDD();
        int partitions = rows.getNumPartitions();
        LOG.info("fit: {} features {} (weight {}), k = {}, mode {}, {} partitions, input {}", d, input.features(),
                input.weight(), config.k(), config.mode(), partitions, config.input());
        Map<String, Double> seconds = new LinkedHashMap<>();
        String jobGroup = "scoremix-fit-" + UUID.randomUUID();
        Broadcast<PlanShipment> broadcast = null;
        // The parsed rows, read once and kept (memory, then disk) for the later passes.
        JavaRDD<Block> blocks = rows.mapPartitionsWithIndex(
                new ParseBlocks(parser, config.badRows() == FitConfig.BadRows.SKIP), true);
        if (config.cacheInput()) {
            blocks = blocks.persist(StorageLevel.MEMORY_AND_DISK());
        }
        sc.setJobGroup(jobGroup, "scoremix fit " + config.input(), false);
        try {
            // Pass 1: validate, count and moments per partition.
            long t = System.nanoTime();
            List<PartitionMoments> stats = new ArrayList<>(blocks.mapPartitionsWithIndex(
                    new MomentsPass(d, faults), true).collect());
            stats.sort(Comparator.comparingInt(PartitionMoments::partition));
            for (PartitionMoments s : stats) {
                if (s.bad() != null) {
                    throw new BadInputException(parser.message(s.bad()));
                }
            }
            long[] offsets = new long[partitions + 1];
            Moments moments = new Moments(d);
            Map<String, Long> skipped = new LinkedHashMap<>();
            FitInput.BadRow firstSkipped = null;
            for (PartitionMoments s : stats) {
                offsets[s.partition() + 1] = s.rows();
                moments.merge(s.moments());
                for (FitInput.Problem kind : FitInput.Problem.values()) {
                    long c = s.skipped()[kind.ordinal()];
                    if (c > 0) {
                        skipped.merge(kind.id(), c, Long::sum);
                    }
                }
                if (firstSkipped == null) {
                    firstSkipped = s.firstSkipped();
                }
            }
            for (int p = 0; p < partitions; p++) {
                offsets[p + 1] += offsets[p];
            }
            long n = offsets[partitions];
            if (!skipped.isEmpty()) {
                LOG.warn("fit: skipped {} bad rows of {} ({}); the first: {}", skipped.values().stream()
                        .mapToLong(Long::longValue).sum(), config.input(), skipped, parser.message(firstSkipped));
            }
            if (n < 2) {
                throw new BadInputException("the input " + config.input() + " has " + n + " rows"
                        + (skipped.isEmpty() ? "" : " after skipping " + skipped) + "; fit needs at least 2");
            }
            if (config.k() > n) {
                throw new BadInputException("k = " + config.k() + " exceeds the number of rows of " + config.input()
                        + " (" + n + ")");
            }
            if (!(moments.weight() > 0)) {
                throw new BadInputException("the weights of column '" + input.weight() + "' sum to " + moments.weight()
                        + "; at least one row needs a positive weight");
            }
            Whitening whitening;
            try {
                whitening = Whitening.of(moments);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("the rows of " + config.input() + " cannot be whitened: " + e.getMessage(), e);
            }
            seconds.put("moments", lap(t));
            LOG.info("fit: pass 1 read {} rows (total weight {}) in {} partitions", n, moments.weight(), partitions);

            // Crude mixture: candidates on a driver-side sample, then EM over all rows.
            t = System.nanoTime();
            LearnerConfig learner = config.learnerConfig(Double.NaN);
            Sample sample = crudeSample(blocks, offsets, n, d, parser.weighted(), faults);
            boolean refine = config.crudeIterations() > 0 && sample.rows() < n;
            // The candidates only have to be good enough to choose among them when EM over all rows follows.
            CrudeMixtureConfig crudeConfig = refine ? learner.crude().toBuilder().tolerance(CANDIDATE_TOLERANCE)
                    .maxIterations(CANDIDATE_MAX_ITERATIONS).build() : learner.crude();
            CrudeMixtureResult crude;
            try {
                crude = CrudeMixture.fit(sample.x(), sample.rows(), d, sample.w(), crudeConfig);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("the crude mixture cannot be fitted on " + sample.rows() + " sampled rows of "
                        + config.input() + ": " + e.getMessage(), e);
            }
            seconds.put("crude_sample", lap(t));
            LOG.info("fit: crude mixture on {} of {} rows: {} EM iterations after selection, mean log-likelihood {}",
                    sample.rows(), n, crude.finalIterations(), crude.meanLogLikelihood());
            if (refine) {
                long te = System.nanoTime();
                crude = distributedEm(blocks, crude, whitening, learner, faults);
                seconds.put("crude_em", lap(te));
            }
            seconds.put("crude", lap(t));

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
            int[][] counts = plan.featureCounts();
            List<int[]> groups = levelGroups(counts, d, config.memoryBudget());
            broadcast = jsc.broadcast(shipment);
            final Broadcast<PlanShipment> shipped = broadcast;
            seconds.put("plan", lap(t));
            LOG.info(String.format(Locale.ROOT, "fit: plan with %d levels, delta %.4g; pass 2 accumulators %.3f MiB "
                    + "per task in all, budget %.1f MiB: %d level group(s) %s", plan.times().length, plan.delta(),
                    ScoreMoments.workingBytes(counts, d) / 1048576.0, config.memoryBudget() / 1048576.0, groups.size(),
                    describeGroups(groups)));

            // The rows of the score moments: all, or a deterministic sample with keys of its own.
            t = System.nanoTime();
            double scoreFraction = config.scoreRows() > 0 && config.scoreRows() < n ? (double) config.scoreRows() / n : 1.0;
            long[] scoreKeys = offsets;
            if (scoreFraction < 1) {
                long[] kept = new long[partitions + 1];
                for (long[] c : blocks.mapPartitionsWithIndex(new CountScoreRows(offsets, scoreFraction, config.seed()),
                        true).collect()) {
                    kept[(int) c[0] + 1] = c[1];
                }
                for (int p = 0; p < partitions; p++) {
                    kept[p + 1] += kept[p];
                }
                scoreKeys = kept;
                LOG.info("fit: score moments on {} sampled rows of {}", kept[partitions], n);
            }
            final long[] scoreOffsets = scoreKeys;

            // Pass 2: score moments of every level (one pass per level group), reduced in partition order.
            // Screened (default mode, more score rows than screenRows): first on a pilot of the score rows,
            // then on the rest of them for the levels the pilot did not settle (kept the plug-in everywhere).
            long tScore = t;
            int levelCount = plan.times().length;
            long scoreCount = scoreOffsets[partitions];
            boolean screen = config.screenRows() > 0 && config.mode() == LearnerConfig.Mode.DEFAULT
                    && scoreCount > config.screenRows();
            ScoreRows all = new ScoreRows(shipped, offsets, scoreOffsets, scoreFraction, config.seed(), Side.ALL, 1.0);
            long[] levelRows = new long[levelCount];
            boolean[] settled = new boolean[levelCount];
            Map<String, Object> screening = new LinkedHashMap<>();
            screening.put("screen_rows", config.screenRows());
            screening.put("applied", screen);
            LearningPlan.Solution solution;
            if (!screen) {
                PassMoments pass = scorePass(sc, jobGroup, blocks, partitions, n, offsets, all, wholeGroups(groups),
                        "fit pass 2", faults);
                seconds.put("score_moments", lap(t));
                Arrays.fill(levelRows, pass.rows());
                t = System.nanoTime();
                solution = plan.solve(pass.moments());
                seconds.put("solve", lap(t));
            } else {
                double pilotFraction = (double) config.screenRows() / scoreCount;
                PassMoments pilot = scorePass(sc, jobGroup, blocks, partitions, n, offsets,
                        all.side(Side.PILOT, pilotFraction), wholeGroups(groups), "fit pass 2 (pilot)", faults);
                LearningPlan.Solution pilotSolution = plan.solve(pilot.moments());
                seconds.put("score_pilot", lap(t));
                List<int[][]> rest = new ArrayList<>();
                int unsettled = 0;
                for (int l = 0; l < levelCount; l++) {
                    settled[l] = pilotSolution.levels().get(l).fittedCells() == 0;
                    unsettled += settled[l] ? 0 : 1;
                }
                for (int[] group : groups) {
                    int[][] ranges = unsettledRanges(settled, group[0], group[1]);
                    if (ranges.length > 0) {
                        rest.add(ranges);
                    }
                }
                LOG.info("fit: screening: the pilot of {} of {} score rows settled {} of {} levels; {}", pilot.rows(),
                        scoreCount, levelCount - unsettled, levelCount, unsettled == 0
                                ? "the pass over the remaining rows is skipped"
                                : unsettled + " level(s) see the remaining " + (scoreCount - pilot.rows()) + " rows");
                screening.put("pilot_rows", pilot.rows());
                screening.put("settled_levels", levelCount - unsettled);
                if (unsettled == 0) {
                    Arrays.fill(levelRows, pilot.rows());
                    screening.put("remaining_pass", "skipped");
                    screening.put("remaining_rows", 0L);
                    solution = pilotSolution;
                    seconds.put("score_moments", lap(tScore));
                } else {
                    long tr = System.nanoTime();
                    PassMoments remaining = scorePass(sc, jobGroup, blocks, partitions, n, offsets,
                            all.side(Side.REMAINING, pilotFraction), rest, "fit pass 2 (remaining rows)", faults);
                    seconds.put("score_remaining", lap(tr));
                    if (pilot.rows() + remaining.rows() != scoreCount) {
                        throw new IllegalStateException("the pilot (" + pilot.rows() + " rows) and the remaining rows ("
                                + remaining.rows() + ") of pass 2 do not add up to its " + scoreCount + " rows");
                    }
                    for (int l = 0; l < levelCount; l++) {
                        levelRows[l] = settled[l] ? pilot.rows() : scoreCount;
                    }
                    screening.put("remaining_pass", "ran");
                    screening.put("remaining_rows", remaining.rows());
                    // The remaining pass holds only the unsettled levels: the settled keep the pilot's moments.
                    ScoreMoments merged = pilot.moments().merge(remaining.moments());
                    seconds.put("score_moments", lap(tScore));
                    t = System.nanoTime();
                    solution = plan.solve(merged);
                    seconds.put("solve", lap(t));
                }
                for (int l = 0; l < levelCount; l++) {
                    LearningPlan.LevelReport r = solution.levels().get(l);
                    LOG.info(String.format(Locale.ROOT, "fit: level %d (t = %.4g): %s", l, r.time(), settled[l]
                            ? String.format(Locale.ROOT, "settled on the pilot's %d rows (plug-in in all %d cells)",
                                    levelRows[l], r.cells())
                            : String.format(Locale.ROOT, "fitted on all %d rows (%d of %d cells fitted; the pilot "
                                    + "fitted %d)", levelRows[l], r.fittedCells(), r.cells(),
                                    pilotSolution.levels().get(l).fittedCells())));
                }
            }
            seconds.put("total", lap(t0));
            Map<String, Object> metadata = metadata(input, plan, crude, sample.rows(), n, moments.weight(), partitions,
                    solution.levels(), spark, started, skipped, groups, screen ? settled : null, levelRows);
            @SuppressWarnings("unchecked")
            Map<String, Object> prov = (Map<String, Object>) metadata.get("provenance");
            prov.put("score_rows", scoreCount);
            prov.put("screening", screening);
            return new Fitted(solution.model(), metadata, crude, input.features(), n, moments.weight(), partitions,
                    plan.delta(), solution.levels(), seconds, Map.copyOf(skipped), groups.size());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("fit failed: " + e, e);
        } finally {
            sc.clearJobGroup();
            if (broadcast != null) {
                broadcast.destroy();
            }
            if (config.cacheInput()) {
                blocks.unpersist(false);
            }
        }
    }

    /**
     * EM over all rows from the sample's crude mixture, in the whitened coordinates of pass 1: one pass
     * per iteration adds every partition's rows to an {@link EmStatistics}, merged in partition order
     * (so the result is the same bit for bit on every run), and the driver takes the M-step. Stops when
     * the mean log-likelihood per row changes by at most the crude EM tolerance, or after
     * {@code crudeIterations} M-steps. The returned mixture is the last M-step's, or the starting one if
     * EM made the likelihood worse (rounding at convergence).
     */
    private CrudeMixtureResult distributedEm(JavaRDD<Block> blocks, CrudeMixtureResult start, Whitening whitening,
                                             LearnerConfig learner, FaultInjection faults) throws Exception {
        long t = System.nanoTime();
        int k = config.k();
        int d = whitening.dimension();
        double reg = learner.crude().reg();
        double tolerance = learner.crude().tolerance();
        GaussianMixture current = whitening.toWhitened(start.mixture());
        GaussianMixture best = current;
        double bestLl = Double.NEGATIVE_INFINITY;
        double previous = Double.NaN;
        int iterations = 0;
        for (int it = 0; it <= config.crudeIterations(); it++) {
            EmStatistics stats = OrderedAggregate.reduce(blocks.mapPartitionsWithIndex(
                    new EmPass(whitening, MixtureArrays.of(current), k, faults), true),
                    EmStatistics::merge, config.aggregationDepth());
            double ll = stats.meanLogLikelihood();
            LOG.info(String.format(Locale.ROOT, "fit: crude EM over all rows, iteration %d: mean log-likelihood %.8f",
                    it, ll + whitening.logAbsDetW()));
            if (ll > bestLl) {
                bestLl = ll;
                best = current;
                iterations = it;
            }
            if (Math.abs(ll - previous) <= tolerance || it == config.crudeIterations()) {
                break;
            }
            previous = ll;
            current = stats.mStep(reg);
        }
        return start.refined(whitening.fromWhitened(best), iterations, bestLl + whitening.logAbsDetW(), lap(t));
    }

    /**
     * Splits the levels into contiguous groups whose accumulators fit the budget (one pass per group);
     * one group when all fit. A level that alone exceeds the budget is an error naming the knobs.
     */
    static List<int[]> levelGroups(int[][] featureCounts, int d, long budget) {
        List<int[]> groups = new ArrayList<>();
        int from = 0;
        long used = 0;
        for (int l = 0; l < featureCounts.length; l++) {
            long bytes = ScoreMoments.workingBytes(new int[][] {featureCounts[l]}, d);
            if (bytes > budget) {
                throw new BadInputException(String.format(Locale.ROOT, "level %d alone needs %.1f MiB of regression "
                        + "accumulators but the memory budget is %.1f MiB: lower degree or k, use fewer features, or "
                        + "raise the budget", l, bytes / 1048576.0, budget / 1048576.0));
            }
            if (used + bytes > budget) {
                groups.add(new int[] {from, l});
                from = l;
                used = 0;
            }
            used += bytes;
        }
        groups.add(new int[] {from, featureCounts.length});
        return groups;
    }

    private static String describeGroups(List<int[]> groups) {
        StringBuilder sb = new StringBuilder();
        for (int[] g : groups) {
            sb.append(sb.length() == 0 ? "[" : ", ").append(g[0]).append("..").append(g[1] - 1);
        }
        return sb.append("]").toString();
    }

    private Map<String, Object> metadata(FitInput input, LearningPlan plan, CrudeMixtureResult crude, int sampleRows,
                                         long n, double weight, int partitions, List<LearningPlan.LevelReport> levels,
                                         SparkSession spark, Instant started, Map<String, Long> skipped,
                                         List<int[]> groups, boolean[] settled, long[] levelRows) {
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
        prov.put("crude_em_iterations_all_rows", crude.finalIterations());
        prov.put("crude_mean_log_likelihood", crude.meanLogLikelihood());
        prov.put("bad_rows", config.badRows().name().toLowerCase(Locale.ROOT));
        prov.put("skipped_rows", skipped);
        List<String> g = new ArrayList<>();
        for (int[] r : groups) {
            g.add(r[0] + ".." + (r[1] - 1));
        }
        prov.put("level_groups", g);
        prov.put("score_moment_bytes", ScoreMoments.workingBytes(plan.featureCounts(), plan.whitening().dimension()));
        prov.put("started", started.toString());
        prov.put("finished", Instant.now().toString());
        prov.put("spark_master", spark.sparkContext().master());
        m.put("provenance", prov);
        List<Map<String, Object>> report = new ArrayList<>();
        for (int l = 0; l < levels.size(); l++) {
            LearningPlan.LevelReport r = levels.get(l);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("t", r.time());
            e.put("sigma2", r.sigma2());
            e.put("cells", r.cells());
            e.put("fitted_cells", r.fittedCells());
            e.put("validation_loss_fit", finiteOrString(r.fitLoss()));
            e.put("validation_loss_plugin", finiteOrString(r.pluginLoss()));
            e.put("choices", r.choices());
            // Screening: whether the level was settled on the pilot, and the rows its moments saw.
            e.put("screened", settled != null && settled[l]);
            e.put("rows", levelRows[l]);
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

    private Sample crudeSample(JavaRDD<Block> blocks, long[] offsets, long n, int d, boolean weighted,
                               FaultInjection faults) {
        int limit = config.crudeSample();
        if ((long) limit * d > Integer.MAX_VALUE - 8) {
            throw new BadInputException("crude-sample " + limit + " x " + d + " features exceeds one array; lower it");
        }
        double fraction = n <= limit ? 1.0 : (double) limit / n;
        List<Sample> parts = new ArrayList<>(blocks.mapPartitionsWithIndex(
                new SamplePass(d, weighted, offsets, fraction, config.seed(), faults), true).collect());
        // collect() keeps partition order, and each partition's rows are in key order.
        int m = 0;
        for (Sample s : parts) {
            m += s.rows();
        }
        double[] x = new double[m * d];
        double[] w = weighted ? new double[m] : null;
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

    /**
     * Parsed rows of one partition: {@code rows} good rows (x: rows x d, row-major; w: their weights or
     * null) whose first has position {@code position} among the partition's good rows. The last block of
     * every partition has no rows and carries the partition's bad row (reading stops there unless
     * skipping; null if none), the rows skipped per {@link FitInput.Problem} and the first skipped row.
     */
    record Block(long position, int rows, double[] x, double[] w, boolean last, FitInput.BadRow bad, long[] skipped,
                 FitInput.BadRow firstSkipped) implements Serializable {
    }

    /** Reads a partition's rows into {@link Block}s, lazily. */
    static final class ParseBlocks implements Function2<Integer, Iterator<Row>, Iterator<Block>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final boolean skip;

        ParseBlocks(FitInput.RowParser parser, boolean skip) {
            this.parser = parser;
            this.skip = skip;
        }

        @Override
        public Iterator<Block> call(Integer p, Iterator<Row> it) {
            int d = parser.dimension();
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS, skip);
            return new Iterator<>() {
                private boolean done;

                @Override
                public boolean hasNext() {
                    return !done;
                }

                @Override
                public Block next() {
                    if (done) {
                        throw new NoSuchElementException();
                    }
                    long position = blocks.position();
                    int m = blocks.next();
                    if (m > 0) {
                        return new Block(position, m, Arrays.copyOf(blocks.x(), m * d),
                                blocks.w() == null ? null : Arrays.copyOf(blocks.w(), m), false, null, null, null);
                    }
                    done = true;
                    return new Block(position, 0, new double[0], null, true, blocks.bad(), blocks.skipped(),
                            blocks.firstSkipped());
                }
            };
        }
    }

    /** Pass 1 result of one partition. */
    record PartitionMoments(int partition, long rows, Moments moments, FitInput.BadRow bad, long[] skipped,
                            FitInput.BadRow firstSkipped) implements Serializable {
    }

    /** Pass 1: add every good row of a partition to its moments; report its bad or skipped rows. */
    static final class MomentsPass implements Function2<Integer, Iterator<Block>, Iterator<PartitionMoments>> {
        private static final long serialVersionUID = 1L;
        private final int d;
        private final FaultInjection faults;

        MomentsPass(int d, FaultInjection faults) {
            this.d = d;
            this.faults = faults;
        }

        @Override
        public Iterator<PartitionMoments> call(Integer p, Iterator<Block> it) {
            faults.check("moments", p);
            Moments moments = new Moments(d);
            long rows = 0;
            while (it.hasNext()) {
                Block b = it.next();
                if (b.last()) {
                    return FitInput.single(new PartitionMoments(p, rows, moments, b.bad(), b.skipped(),
                            b.firstSkipped()));
                }
                moments.addBlock(b.x(), b.w(), b.rows());
                rows += b.rows();
            }
            throw new IllegalStateException("partition " + p + " ended without its last block");
        }
    }

    /** The crude sample's rows of one partition. */
    static final class SamplePass implements Function2<Integer, Iterator<Block>, Iterator<Sample>> {
        private static final long serialVersionUID = 1L;
        private final int d;
        private final boolean weighted;
        private final long[] offsets;
        private final double fraction;
        private final long seed;
        private final FaultInjection faults;

        SamplePass(int d, boolean weighted, long[] offsets, double fraction, long seed, FaultInjection faults) {
            this.d = d;
            this.weighted = weighted;
            this.offsets = offsets;
            this.fraction = fraction;
            this.seed = seed;
            this.faults = faults;
        }

        @Override
        public Iterator<Sample> call(Integer p, Iterator<Block> it) {
            faults.check("crude", p);
            CounterRandom rng = CounterRandom.of(seed);
            long stream = CounterRandom.stream(CRUDE_SAMPLE_TAG);
            double[] u = new double[BLOCK_ROWS];
            int expected = (int) Math.min(Integer.MAX_VALUE / Math.max(1, d) - 8,
                    Math.ceil((offsets[p + 1] - offsets[p]) * fraction * 1.1) + 16);
            DoubleBuffer x = new DoubleBuffer(expected * d);
            DoubleBuffer w = new DoubleBuffer(weighted ? expected : 0);
            while (it.hasNext()) {
                Block b = it.next();
                int m = b.rows();
                if (m == 0) {
                    continue;
                }
                if (fraction < 1) {
                    rng.fillUniform(stream, offsets[p] + b.position(), u, 0, m);
                }
                for (int j = 0; j < m; j++) {
                    if (fraction >= 1 || u[j] < fraction) {
                        x.add(b.x(), j * d, d);
                        if (weighted) {
                            w.add(b.w(), j, 1);
                        }
                    }
                }
            }
            int rowsKept = x.size() / d;
            return FitInput.single(new Sample(x.toArray(), weighted ? w.toArray() : null, rowsKept));
        }
    }

    /** A Gaussian mixture's arrays, to ship in closures (GaussianMixture itself is not Serializable). */
    record MixtureArrays(double[] weights, double[][] means, double[][][] covariances) implements Serializable {
        static MixtureArrays of(GaussianMixture m) {
            int k = m.components();
            double[][] means = new double[k][];
            double[][][] covs = new double[k][][];
            for (int i = 0; i < k; i++) {
                means[i] = m.mean(i);
                covs[i] = m.covariance(i);
            }
            return new MixtureArrays(m.weights(), means, covs);
        }

        GaussianMixture mixture() {
            return GaussianMixture.of(weights, means, covariances);
        }
    }

    /** One distributed E-step: a partition's whitened rows added to EM statistics of the given mixture. */
    static final class EmPass implements Function2<Integer, Iterator<Block>, Iterator<EmStatistics>> {
        private static final long serialVersionUID = 1L;
        private final Whitening whitening;
        private final MixtureArrays mixture;
        private final int k;
        private final FaultInjection faults;

        EmPass(Whitening whitening, MixtureArrays mixture, int k, FaultInjection faults) {
            this.whitening = whitening;
            this.mixture = mixture;
            this.k = k;
            this.faults = faults;
        }

        @Override
        public Iterator<EmStatistics> call(Integer p, Iterator<Block> it) {
            faults.check("crude", p);
            GaussianMixture current = mixture.mixture();
            EmStatistics stats = EmStatistics.empty(k, whitening.dimension());
            double[] z = new double[BLOCK_ROWS * whitening.dimension()];
            while (it.hasNext()) {
                Block b = it.next();
                if (b.rows() > 0) {
                    whitening.apply(b.x(), b.rows(), z);
                    stats.add(current, z, b.w(), b.rows());
                }
            }
            return FitInput.single(stats);
        }
    }

    /** The stream of the score-sample draws (the seed keys the generator): "scoresmp" in ASCII. */
    static final long SCORE_SAMPLE_TAG = 0x73636F7265736D70L;

    /** Per partition, how many rows the score sample keeps: {@code {partition, count}}. */
    static final class CountScoreRows implements Function2<Integer, Iterator<Block>, Iterator<long[]>> {
        private static final long serialVersionUID = 1L;
        private final long[] offsets;
        private final double fraction;
        private final long seed;

        CountScoreRows(long[] offsets, double fraction, long seed) {
            this.offsets = offsets;
            this.fraction = fraction;
            this.seed = seed;
        }

        @Override
        public Iterator<long[]> call(Integer p, Iterator<Block> it) {
            CounterRandom rng = CounterRandom.of(seed);
            long stream = CounterRandom.stream(SCORE_SAMPLE_TAG);
            double[] u = new double[BLOCK_ROWS];
            long count = 0;
            while (it.hasNext()) {
                Block b = it.next();
                rng.fillUniform(stream, offsets[p] + b.position(), u, 0, b.rows());
                for (int j = 0; j < b.rows(); j++) {
                    count += u[j] < fraction ? 1 : 0;
                }
            }
            return FitInput.single(new long[] {p, count});
        }
    }

    /** The stream of the screening pilot's draws (the seed keys the generator): "screenpl" in ASCII. */
    static final long SCREEN_TAG = 0x73637265656E706CL;

    /**
     * Which rows a pass 2 sees: {@link #ALL} score rows, or with screening those of the {@link #PILOT} (row
     * r is in the pilot when the uniform of (seed, r) on the screening stream is below the pilot fraction)
     * or the {@link #REMAINING} rows (the others).
     */
    enum Side {
        ALL, PILOT, REMAINING
    }

    /**
     * The rows of a pass 2 and their keys: the score rows (every row, or with {@code fraction < 1} those
     * whose uniform on the score-sample stream is below it, keyed {@code keys[p] + i} in read order) and,
     * for a screened {@code side}, the pilot or remaining part of them. Every row keeps the key it has among
     * all score rows, so its noise and split do not depend on the side.
     */
    record ScoreRows(Broadcast<PlanShipment> plan, long[] offsets, long[] keys, double fraction, long seed, Side side,
                     double pilotFraction) implements Serializable {
        ScoreRows side(Side value, double pilot) {
            return new ScoreRows(plan, offsets, keys, fraction, seed, value, pilot);
        }
    }

    /** The score moments of a pass 2 and the number of rows they saw. */
    record PassMoments(ScoreMoments moments, long rows) implements Serializable {
        PassMoments merge(PassMoments other) {
            return new PassMoments(moments.merge(other.moments), rows + other.rows);
        }
    }

    /**
     * Runs pass 2 over {@code rows}, once per group of level ranges (each group's accumulators fit the
     * memory budget), reduced in partition order; the groups' moments are merged (each holds only its own
     * levels, so the sum is exact).
     */
    private PassMoments scorePass(SparkContext sc, String jobGroup, JavaRDD<Block> blocks, int partitions, long n,
                                  long[] offsets, ScoreRows rows, List<int[][]> groups, String label,
                                  FaultInjection faults) throws Exception {
        PassMoments total = null;
        for (int[][] group : groups) {
            String name = groups.size() == 1 ? label : label + ", levels " + describeRanges(group);
            PassMoments part;
            try (GenerateProgress progress = new GenerateProgress(sc, jobGroup, name, partitions, n,
                    p -> offsets[p + 1] - offsets[p], LOG::info,
                    sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s"))) {
                part = OrderedAggregate.reduce(blocks.mapPartitionsWithIndex(new ScorePass(rows, group, faults), true),
                        PassMoments::merge, config.aggregationDepth());
            }
            // Every group's pass sees the same rows: count them once.
            total = total == null ? part : new PassMoments(total.moments().merge(part.moments()), total.rows());
        }
        return total;
    }

    /** Each level group as one range. */
    private static List<int[][]> wholeGroups(List<int[]> groups) {
        List<int[][]> out = new ArrayList<>();
        for (int[] g : groups) {
            out.add(new int[][] {g});
        }
        return out;
    }

    /** The maximal runs {@code {from, to}} of levels in {@code from .. to - 1} that are not settled. */
    static int[][] unsettledRanges(boolean[] settled, int from, int to) {
        List<int[]> runs = new ArrayList<>();
        int l = from;
        while (l < to) {
            if (settled[l]) {
                l++;
                continue;
            }
            int start = l;
            while (l < to && !settled[l]) {
                l++;
            }
            runs.add(new int[] {start, l});
        }
        return runs.toArray(new int[0][]);
    }

    private static String describeRanges(int[][] ranges) {
        StringBuilder sb = new StringBuilder();
        for (int[] r : ranges) {
            sb.append(sb.length() == 0 ? "" : ", ").append(r[0]).append("..").append(r[1] - 1);
        }
        return sb.toString();
    }

    /**
     * Pass 2: the score moments of one partition's rows of a {@link ScoreRows} for the level ranges
     * {@code ranges} ({@code {from, to}} each). Without screening the rows of a block keep consecutive keys
     * and go to {@link LearningPlan#accumulate} as they are (or compacted, with a score sample); with
     * screening the block's rows of the pilot (or the remaining ones) are compacted with their own keys.
     */
    static final class ScorePass implements Function2<Integer, Iterator<Block>, Iterator<PassMoments>> {
        private static final long serialVersionUID = 1L;
        private final ScoreRows rows;
        private final int[][] ranges;
        private final FaultInjection faults;

        ScorePass(ScoreRows rows, int[][] ranges, FaultInjection faults) {
            this.rows = rows;
            this.ranges = ranges;
            this.faults = faults;
        }

        @Override
        public Iterator<PassMoments> call(Integer p, Iterator<Block> it) {
            faults.check("score", p);
            LearningPlan lp = rows.plan().value().plan();
            Whitening whitening = lp.whitening();
            int d = whitening.dimension();
            double fraction = rows.fraction();
            boolean screened = rows.side() != Side.ALL;
            boolean compact = fraction < 1 || screened;
            double[] z = new double[BLOCK_ROWS * d];
            double[] kx = compact ? new double[BLOCK_ROWS * d] : null;
            double[] kw = compact ? new double[BLOCK_ROWS] : null;
            long[] rowKeys = screened ? new long[BLOCK_ROWS] : null;
            double[] u = fraction < 1 ? new double[BLOCK_ROWS] : null;
            double[] s = screened ? new double[BLOCK_ROWS] : null;
            CounterRandom rng = CounterRandom.of(rows.seed());
            long stream = CounterRandom.stream(SCORE_SAMPLE_TAG);
            long screenStream = CounterRandom.stream(SCREEN_TAG);
            boolean pilot = rows.side() == Side.PILOT;
            ScoreMoments moments = lp.emptyMoments();
            long[] offsets = rows.offsets();
            long key = rows.keys()[p];
            long used = 0;
            while (it.hasNext()) {
                Block b = it.next();
                int m = b.rows();
                if (m == 0) {
                    continue;
                }
                double[] x = b.x();
                double[] w = b.w();
                long firstKey = key;
                if (compact) {
                    long row = offsets[p] + b.position();
                    if (fraction < 1) {
                        rng.fillUniform(stream, row, u, 0, m);
                    }
                    if (screened) {
                        rng.fillUniform(screenStream, row, s, 0, m);
                    }
                    int kept = 0;
                    for (int j = 0; j < m; j++) {
                        if (fraction < 1 && !(u[j] < fraction)) {
                            continue;
                        }
                        long rowKey = key++;
                        if (screened && (s[j] < rows.pilotFraction()) != pilot) {
                            continue;
                        }
                        System.arraycopy(x, j * d, kx, kept * d, d);
                        if (w != null) {
                            kw[kept] = w[j];
                        }
                        if (screened) {
                            rowKeys[kept] = rowKey;
                        }
                        kept++;
                    }
                    x = kx;
                    w = w == null ? null : kw;
                    m = kept;
                } else {
                    key += m;
                }
                if (m == 0) {
                    continue;
                }
                whitening.apply(x, m, z);
                for (int[] r : ranges) {
                    if (screened) {
                        lp.accumulate(z, w, m, rowKeys, moments, r[0], r[1]);
                    } else {
                        lp.accumulate(z, w, m, firstKey, moments, r[0], r[1]);
                    }
                }
                used += m;
            }
            if (key != rows.keys()[p + 1]) {
                throw new IllegalStateException("partition " + p + " gave " + (key - rows.keys()[p]) + " rows to pass 2 "
                        + "but " + (rows.keys()[p + 1] - rows.keys()[p]) + " were counted before: the input changed "
                        + "during the fit");
            }
            return FitInput.single(new PassMoments(moments, used));
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
                data = Arrays.copyOf(data, Math.max(size + len, data.length * 2));
            }
            System.arraycopy(src, off, data, size, len);
            size += len;
        }

        int size() {
            return size;
        }

        double[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
