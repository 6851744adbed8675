package io.scoremix.spark;

import io.scoremix.core.score.LearnerConfig;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable, validated settings of {@link FitJob}: where the data are, which columns are features, the
 * number of components, the learner's knobs and where the model goes. The constructor names the first
 * bad value ({@link BadInputException}). Serializable: executors rebuild the {@link LearnerConfig} from
 * it (see {@link PlanShipment}).
 *
 * @param input            the input path (any Hadoop path: a file or a folder of part files); with
 *                         {@link FitJob#fit} only a name of the Dataset for messages and provenance
 * @param format           the input format
 * @param features         the feature columns, in order; empty = every numeric column (CSV: every
 *                         column) except the weight column
 * @param weightColumn     the row-weight column, or null for weight 1
 * @param k                number of mixture components, at least 1 (and at most the number of rows)
 * @param model            the model directory to write (any Hadoop path); null when the model is not
 *                         written (the in-memory entry {@link FitJob#fit})
 * @param mode             paper, default or plugin (ALGORITHM.md section 6)
 * @param seed             seed of every random choice (noise, splits, crude EM, the crude sample)
 * @param overwrite        whether an existing model directory may be replaced
 * @param degree           polynomial degree of the per-cell features, 0..8
 * @param levels           number of learned noise levels, 1..4096
 * @param noisesPerRow     noise draws per row and level, 1..1024
 * @param delta            early-stopping time in (0, 1), or NaN to choose it from the crude mixture
 * @param horizon          the diffusion horizon T, in [1, 50]
 * @param crudeSample      the crude mixture is fitted on a driver-side sample of about this many rows
 * @param aggregationDepth depth of the tree aggregation of the score moments, at least 1
 * @param vectorColumn     a Spark ML vector column holding the features (instead of numeric columns), or
 *                         null; excludes {@code features}
 * @param badRows          what a bad row does: stop the job ({@link BadRows#FAIL}) or get skipped and
 *                         counted ({@link BadRows#SKIP})
 * @param crudeIterations  the most EM iterations over all rows (distributed) after the crude mixture was
 *                         fitted on the driver sample, 0..1000; 0 keeps the sample's mixture
 * @param cacheInput       whether the parsed rows are kept in Spark's block cache (memory, then disk)
 *                         between the passes, instead of reading the input again in every pass
 * @param memoryBudget     bytes the score-moment accumulators of one task may take; when all levels need
 *                         more, the levels are split into groups with one pass each
 * @param scoreRows        the score moments use a deterministic sample of about this many rows (0: all
 *                         rows, the default); fewer rows make pass 2 proportionally cheaper, and the score
 *                         error grows as 1/rows
 * @param screenRows       screening of pass 2 (default mode only): when the score moments would see more
 *                         than this many rows, they are first taken on a deterministic pilot of about this
 *                         many of them; the levels where the pilot keeps the plug-in in every cell are
 *                         settled, and only the others see the remaining rows (0: off)
 */
public record FitConfig(String input, InputFormat format, List<String> features, String weightColumn, int k,
                        String model, LearnerConfig.Mode mode, long seed, boolean overwrite, int degree, int levels,
                        int noisesPerRow, double delta, double horizon, int crudeSample, int aggregationDepth,
                        String vectorColumn, BadRows badRows, int crudeIterations, boolean cacheInput,
                        long memoryBudget, long scoreRows, long screenRows)
        implements Serializable {

    /** What {@code fit} does with a bad row (a missing or non-numeric value, NaN, a bad weight, ...). */
    public enum BadRows {
        /** The first bad row stops the job with a message naming its file, row and problem (the default). */
        FAIL,
        /** Bad rows are skipped and counted per problem kind; the counts go to the log, provenance and result. */
        SKIP;

        /** fail or skip, case-insensitively. */
        public static BadRows parse(String name) {
            String key = name == null ? "" : name.trim().toUpperCase(java.util.Locale.ROOT);
            for (BadRows b : values()) {
                if (b.name().equals(key)) {
                    return b;
                }
            }
            throw new BadInputException("unknown --bad-rows value '" + name + "' (expected fail or skip)");
        }
    }

    public static final long DEFAULT_SEED = 42L;
    public static final int DEFAULT_CRUDE_SAMPLE = 20_000;
    public static final int DEFAULT_AGGREGATION_DEPTH = 2;
    public static final int DEFAULT_CRUDE_ITERATIONS = 20;
    /** The default memory budget of the score-moment accumulators: LearnerConfig's (1 GiB). */
    public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;
    /** The default pilot size of pass 2's screening (issue 4: 200,000 rows of 1e6 meet the time target). */
    public static final long DEFAULT_SCREEN_ROWS = 200_000;

    private static final long serialVersionUID = 1L;

    public FitConfig {
        if (input == null || input.isBlank()) {
            throw new BadInputException("no input given");
        }
        if (model != null && model.isBlank()) {
            throw new BadInputException("no model directory given");
        }
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(mode, "mode");
        features = List.copyOf(features == null ? List.of() : features);
        for (String f : features) {
            if (f.isBlank()) {
                throw new BadInputException("an empty feature column name was given in --features");
            }
        }
        if (features.size() != features.stream().distinct().count()) {
            throw new BadInputException("a feature column is listed twice: " + features);
        }
        if (weightColumn != null && weightColumn.isBlank()) {
            weightColumn = null;
        }
        if (weightColumn != null && features.contains(weightColumn)) {
            throw new BadInputException("the weight column '" + weightColumn + "' is also listed as a feature");
        }
        if (k < 1) {
            throw new BadInputException("k must be at least 1 (got " + k + ")");
        }
        if (crudeSample < 2) {
            throw new BadInputException("crude-sample must be at least 2 (got " + crudeSample + ")");
        }
        if (vectorColumn != null && vectorColumn.isBlank()) {
            vectorColumn = null;
        }
        if (vectorColumn != null && !features.isEmpty()) {
            throw new BadInputException("give either --features or --vector-col, not both");
        }
        if (vectorColumn != null && vectorColumn.equals(weightColumn)) {
            throw new BadInputException("the weight column '" + weightColumn + "' is also the vector column");
        }
        Objects.requireNonNull(badRows, "badRows");
        if (crudeIterations < 0 || crudeIterations > 1000) {
            throw new BadInputException("crude-iterations must be in 0..1000 (got " + crudeIterations + ")");
        }
        if (scoreRows < 0) {
            throw new BadInputException("score-rows must be 0 (all rows) or positive (got " + scoreRows + ")");
        }
        if (screenRows < 0) {
            throw new BadInputException("screen-rows must be 0 (no screening) or positive (got " + screenRows + ")");
        }
        if (memoryBudget < 1) {
            throw new BadInputException("the memory budget must be positive (got " + memoryBudget + " bytes)");
        }
        if (aggregationDepth < 1) {
            throw new BadInputException("aggregation depth must be at least 1 (got " + aggregationDepth + ")");
        }
        // The learner validates its own knobs; do it now so that a bad knob costs no Spark work.
        try {
            learner(k, mode, degree, levels, noisesPerRow, delta, horizon, seed);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /** These settings with the default screening of pass 2 ({@link #DEFAULT_SCREEN_ROWS}). */
    public FitConfig(String input, InputFormat format, List<String> features, String weightColumn, int k,
                     String model, LearnerConfig.Mode mode, long seed, boolean overwrite, int degree, int levels,
                     int noisesPerRow, double delta, double horizon, int crudeSample, int aggregationDepth,
                     String vectorColumn, BadRows badRows, int crudeIterations, boolean cacheInput,
                     long memoryBudget, long scoreRows) {
        this(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels, noisesPerRow,
                delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows, crudeIterations, cacheInput,
                memoryBudget, scoreRows, DEFAULT_SCREEN_ROWS);
    }

    /** The settings of the first version (no vector column, bad rows fail, the default iterations, cache and budget). */
    public FitConfig(String input, InputFormat format, List<String> features, String weightColumn, int k,
                     String model, LearnerConfig.Mode mode, long seed, boolean overwrite, int degree, int levels,
                     int noisesPerRow, double delta, double horizon, int crudeSample, int aggregationDepth) {
        this(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels, noisesPerRow,
                delta, horizon, crudeSample, aggregationDepth, null, BadRows.FAIL, DEFAULT_CRUDE_ITERATIONS, true,
                DEFAULT_MEMORY_BUDGET, 0);
    }

    /** Defaults for everything but the input, k and the model directory. */
    public static FitConfig of(String input, int k, String model) {
        return new FitConfig(input, InputFormat.PARQUET, List.of(), null, k, model, LearnerConfig.Mode.DEFAULT,
                DEFAULT_SEED, false, 1, 32, 1, Double.NaN, 6.0, DEFAULT_CRUDE_SAMPLE, DEFAULT_AGGREGATION_DEPTH);
    }

    /**
     * Defaults for fitting an in-memory Dataset with {@link FitJob#fit}: k components, no model directory,
     * and {@code name} naming the data in messages and in the provenance.
     */
    public static FitConfig forDataset(String name, int k) {
        return new FitConfig(name, InputFormat.PARQUET, List.of(), null, k, null, LearnerConfig.Mode.DEFAULT,
                DEFAULT_SEED, false, 1, 32, 1, Double.NaN, 6.0, DEFAULT_CRUDE_SAMPLE, DEFAULT_AGGREGATION_DEPTH);
    }

    /** This config with other feature columns. */
    public FitConfig withFeatures(List<String> value) {
        return new FitConfig(input, format, value, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config reading another format. */
    public FitConfig withFormat(InputFormat value) {
        return new FitConfig(input, value, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with a weight column (null for none). */
    public FitConfig withWeightColumn(String value) {
        return new FitConfig(input, format, features, value, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with another model directory and overwrite flag. */
    public FitConfig withModel(String value, boolean replace) {
        return new FitConfig(input, format, features, weightColumn, k, value, mode, seed, replace, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with other learner knobs. */
    public FitConfig withLearner(LearnerConfig.Mode m, int deg, int lev, int noises, double del, double hor) {
        return new FitConfig(input, format, features, weightColumn, k, model, m, seed, overwrite, deg, lev, noises,
                del, hor, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with another seed. */
    public FitConfig withSeed(long value) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, value, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows,
                crudeIterations, cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with another crude sample size and aggregation depth. */
    public FitConfig withAggregation(int sample, int depth) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, sample, depth, vectorColumn, badRows, crudeIterations,
                cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config reading the features from a Spark ML vector column (null: numeric columns). */
    public FitConfig withVectorColumn(String value) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, value, badRows, crudeIterations, cacheInput,
                memoryBudget, scoreRows, screenRows);
    }

    /** This config with another bad-row policy. */
    public FitConfig withBadRows(BadRows value) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, value, crudeIterations,
                cacheInput, memoryBudget, scoreRows, screenRows);
    }

    /** This config with another cap on the distributed crude EM iterations (0: none). */
    public FitConfig withCrudeIterations(int value) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows, value, cacheInput,
                memoryBudget, scoreRows, screenRows);
    }

    /** This config with input caching on or off, and another memory budget of the score-moment accumulators. */
    public FitConfig withResources(boolean cache, long budgetBytes) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows, crudeIterations,
                cache, budgetBytes, scoreRows, screenRows);
    }

    /** This config with the score moments on about {@code rows} sampled rows (0: all rows). */
    public FitConfig withScoreRows(long rows) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows, crudeIterations,
                cacheInput, memoryBudget, rows, screenRows);
    }

    /** This config with pass 2 screened on a pilot of about {@code rows} score rows (0: no screening). */
    public FitConfig withScreenRows(long rows) {
        return new FitConfig(input, format, features, weightColumn, k, model, mode, seed, overwrite, degree, levels,
                noisesPerRow, delta, horizon, crudeSample, aggregationDepth, vectorColumn, badRows, crudeIterations,
                cacheInput, memoryBudget, scoreRows, rows);
    }

    /**
     * The learner's configuration, with {@code resolvedDelta} as its early-stopping time (NaN: {@link #delta}).
     *
     * @throws IllegalArgumentException naming a bad knob
     */
    public LearnerConfig learnerConfig(double resolvedDelta) {
        return learner(k, mode, degree, levels, noisesPerRow, Double.isNaN(resolvedDelta) ? delta : resolvedDelta,
                horizon, seed);
    }

    // Static: the compact constructor calls it before the fields are assigned.
    private static LearnerConfig learner(int k, LearnerConfig.Mode mode, int degree, int levels, int noisesPerRow,
                                         double delta, double horizon, long seed) {
        return LearnerConfig.builder(k).mode(mode).degree(degree).levels(levels).noisesPerRow(noisesPerRow)
                .delta(delta).horizon(horizon).seed(seed)
                // FitJob checks its own budget (memoryBudget) and splits the levels into groups instead.
                .memoryBudgetBytes(Long.MAX_VALUE).build();
    }

    /** Every setting, for model.json and the provenance record. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input", input);
        m.put("format", format.id());
        m.put("features", features.isEmpty() ? "auto" : features);
        m.put("weight_column", weightColumn);
        m.put("k", k);
        m.put("mode", mode.name().toLowerCase(Locale.ROOT));
        m.put("seed", seed);
        m.put("degree", degree);
        m.put("levels", levels);
        m.put("noises_per_row", noisesPerRow);
        m.put("delta", Double.isNaN(delta) ? "auto" : delta);
        m.put("horizon", horizon);
        m.put("crude_sample", crudeSample);
        m.put("aggregation_depth", aggregationDepth);
        m.put("vector_column", vectorColumn);
        m.put("bad_rows", badRows.name().toLowerCase(Locale.ROOT));
        m.put("crude_iterations", crudeIterations);
        m.put("cache_input", cacheInput);
        m.put("memory_budget_bytes", memoryBudget);
        m.put("score_rows", scoreRows == 0 ? (Object) "all" : (Object) scoreRows);
        m.put("screen_rows", screenRows == 0 ? (Object) "off" : (Object) screenRows);
        return m;
    }
}
