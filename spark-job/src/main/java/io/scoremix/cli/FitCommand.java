package io.scoremix.cli;

import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.InputFormat;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code scoremix fit}: learn a score model from data on Spark and write it. */
@Command(name = "fit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Learn the score of the data's diffusion-noised law (a Gaussian-mixture score model) on Spark "
                + "and write it as a scoremix.model/v1 folder (model.json, coefficients.bin, _scoremix.json).",
                "The same input (with the same partitioning) and seed give the same model bit for bit."})
final class FitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "Training data, any Hadoop path (a file or a folder of part files).")
    String input;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet", converter = InputFormatConverter.class,
            description = "parquet, csv (with a header row), orc or json (lines). Default: ${DEFAULT-VALUE}.")
    InputFormat format;

    @Option(names = "--features", paramLabel = "a,b,..", split = ",",
            description = "Feature columns. Default: every numeric column (CSV: every column) except the weight column.")
    List<String> features;

    @Option(names = "--vector-col", paramLabel = "COLUMN",
            description = "A Spark ML vector column holding the features (instead of --features).")
    String vectorColumn;

    @Option(names = "--weight-col", paramLabel = "COLUMN", description = "Column of non-negative row weights.")
    String weightColumn;

    @Option(names = "--bad-rows", paramLabel = "fail|skip", defaultValue = "fail",
            description = "fail: the first bad row stops the job (exit 2, file, row and problem named); skip: bad "
                    + "rows are skipped and counted per problem kind (log, provenance). Default: ${DEFAULT-VALUE}.")
    String badRows;

    @Option(names = "--k", required = true, paramLabel = "K", description = "Number of mixture components, 1..rows.")
    int k;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory to write, any Hadoop path.")
    String model;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "default", converter = ModeConverter.class,
            description = "default, paper or plugin (ALGORITHM.md section 6). Default: ${DEFAULT-VALUE}.")
    LearnerConfig.Mode mode;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + FitConfig.DEFAULT_SEED,
            description = "Seed of every random choice. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--overwrite", defaultValue = "false",
            description = "Replace an existing model (a previous scoremix output, once the new one is complete).")
    boolean overwrite;

    @Option(names = "--degree", paramLabel = "L", defaultValue = "1",
            description = "Polynomial degree of the per-cell features, 0..8. Default: ${DEFAULT-VALUE}.")
    int degree;

    @Option(names = "--levels", paramLabel = "L", defaultValue = "32",
            description = "Number of learned noise levels. Default: ${DEFAULT-VALUE}.")
    int levels;

    @Option(names = "--noises-per-row", paramLabel = "M", defaultValue = "1",
            description = "Noise draws per row and level. Default: ${DEFAULT-VALUE}.")
    int noisesPerRow;

    @Option(names = "--delta", paramLabel = "DELTA", defaultValue = "auto",
            description = "Early-stopping time in (0, 1), or auto (from the crude mixture). Default: ${DEFAULT-VALUE}.")
    String delta;

    @Option(names = "--horizon", paramLabel = "T", defaultValue = "6.0",
            description = "Diffusion horizon T in [1, 50]. Default: ${DEFAULT-VALUE}.")
    double horizon;

    @Option(names = "--crude-sample", paramLabel = "N", defaultValue = "" + FitConfig.DEFAULT_CRUDE_SAMPLE,
            description = "Fit the crude mixture on the driver on about N sampled rows (all rows if fewer). "
                    + "Default: ${DEFAULT-VALUE}.")
    int crudeSample;

    @Option(names = "--aggregation-depth", paramLabel = "D", defaultValue = "" + FitConfig.DEFAULT_AGGREGATION_DEPTH,
            description = "Depth of the tree reduction of the score moments. Default: ${DEFAULT-VALUE}.")
    int aggregationDepth;

    @Option(names = "--crude-iterations", paramLabel = "N", defaultValue = "" + FitConfig.DEFAULT_CRUDE_ITERATIONS,
            description = "At most N EM iterations over all rows (distributed) after the crude mixture is fitted on "
                    + "the sample; 0 keeps the sample's mixture. Default: ${DEFAULT-VALUE}.")
    int crudeIterations;

    @Option(names = "--score-rows", paramLabel = "N", defaultValue = "0",
            description = "Learn the score moments on a deterministic sample of about N rows (0: all rows). Pass 2 "
                    + "costs in proportion; the score error grows as 1/N. Default: ${DEFAULT-VALUE}.")
    long scoreRows;

    @Option(names = "--screen-rows", paramLabel = "P", defaultValue = "" + FitConfig.DEFAULT_SCREEN_ROWS,
            description = "Default mode: when pass 2 would see more than P rows, run it first on a deterministic pilot "
                    + "of about P of them; levels where the pilot keeps the plug-in in every cell are settled, only "
                    + "the others see the remaining rows (0: off). Default: ${DEFAULT-VALUE}.")
    long screenRows;

    @Option(names = "--no-cache", defaultValue = "false",
            description = "Read the input again in every pass instead of keeping the parsed rows in Spark's cache.")
    boolean noCache;

    @Option(names = "--memory-budget-mb", paramLabel = "MB", defaultValue = "" + (FitConfig.DEFAULT_MEMORY_BUDGET >> 20),
            description = "Memory for one task's regression accumulators; levels are split into groups (one pass "
                    + "each) when all do not fit. Default: ${DEFAULT-VALUE}.")
    long memoryBudgetMb;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    FitCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() {
        double deltaValue;
        if ("auto".equalsIgnoreCase(delta.trim())) {
            deltaValue = Double.NaN;
        } else {
            try {
                deltaValue = Double.parseDouble(delta.trim());
            } catch (NumberFormatException e) {
                throw new BadInputException("--delta must be a number in (0, 1) or auto (got '" + delta + "')");
            }
            if (Double.isNaN(deltaValue)) {
                throw new BadInputException("--delta must be a number in (0, 1) or auto (got '" + delta + "')");
            }
        }
        if (memoryBudgetMb < 1 || memoryBudgetMb > (Long.MAX_VALUE >> 20)) {
            throw new BadInputException("--memory-budget-mb must be at least 1 (got " + memoryBudgetMb + ")");
        }
        FitConfig config = new FitConfig(input, format, features == null ? List.of() : features, weightColumn, k,
                model, mode, seed, overwrite, degree, levels, noisesPerRow, deltaValue, horizon, crudeSample,
                aggregationDepth, vectorColumn, FitConfig.BadRows.parse(badRows), crudeIterations, !noCache,
                memoryBudgetMb << 20, scoreRows, screenRows);
        SparkSession spark = sessions.apply("scoremix fit");
        FitJob.Result r = new FitJob(config, EffectiveOptions.of(spec, defaults)).run(spark);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "fit: %d rows x %d features %s, k = %d, mode %s, delta %.4g, %d levels%n", r.rows(),
                r.features().size(), r.features(), k, mode.name().toLowerCase(Locale.ROOT), r.delta(), r.levels().size());
        out.printf(Locale.ROOT, "%8s %10s %6s %7s %14s %14s%n", "level", "t", "cells", "fitted", "val.loss fit",
                "val.loss plugin");
        int step = Math.max(1, r.levels().size() / 8);
        for (int l = 0; l < r.levels().size(); l++) {
            if (l % step != 0 && l != r.levels().size() - 1) {
                continue;
            }
            LearningPlan.LevelReport lr = r.levels().get(l);
            out.printf(Locale.ROOT, "%8d %10.4g %6d %7d %14.6g %14.6g%n", l, lr.time(), lr.cells(), lr.fittedCells(),
                    lr.fitLoss(), lr.pluginLoss());
        }
        if (!r.skippedRows().isEmpty()) {
            out.printf(Locale.ROOT, "fit: skipped bad rows %s%n", r.skippedRows());
        }
        out.printf(Locale.ROOT, "fit: wrote the model to %s in %.1f s (stages: %s)%n", r.model(),
                r.seconds().get("total"), stages(r));
        out.printf("fit: report %s%n", io.scoremix.spark.FitReport.tryWrite(spark, config, r.model(),
                io.scoremix.spark.FitReport.DEFAULT_POINTS));
        return Main.OK;
    }

    private static String stages(FitJob.Result r) {
        StringBuilder sb = new StringBuilder();
        r.seconds().forEach((name, s) -> {
            if (!name.equals("total")) {
                sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.1f s", name, s));
            }
        });
        return sb.toString();
    }

    /** picocli converter giving "unknown input format 'x' (expected ...)". */
    static final class InputFormatConverter implements ITypeConverter<InputFormat> {
        @Override
        public InputFormat convert(String value) {
            try {
                return InputFormat.parse(value);
            } catch (BadInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter of --mode. */
    static final class ModeConverter implements ITypeConverter<LearnerConfig.Mode> {
        @Override
        public LearnerConfig.Mode convert(String value) {
            String key = value.trim().toUpperCase(Locale.ROOT);
            for (LearnerConfig.Mode m : LearnerConfig.Mode.values()) {
                if (m.name().equals(key)) {
                    return m;
                }
            }
            throw new TypeConversionException("unknown mode '" + value + "' (expected "
                    + Arrays.stream(LearnerConfig.Mode.values()).map(m -> m.name().toLowerCase(Locale.ROOT))
                    .reduce((a, b) -> a + ", " + b).orElse("") + ")");
        }
    }
}
