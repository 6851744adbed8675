package io.scoremix.ml;

import io.scoremix.core.score.LearnerConfig;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.FitJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReadable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * Learns a score mixture (ALGORITHM.md: crude mixture, then the score of the diffusion-noised data law by
 * score matching) from a vector column, as a Spark ML Estimator usable in a Pipeline, e.g. after a
 * VectorAssembler:
 * <pre>{@code
 *   Pipeline p = new Pipeline().setStages(new PipelineStage[] {
 *       new VectorAssembler().setInputCols(new String[] {"a", "b"}).setOutputCol("features"),
 *       new ScoreMixture().setK(3).setSeed(7)});
 *   PipelineModel m = p.fit(data);        // m.transform(data) adds prediction, probability, logDensity
 * }</pre>
 *
 * <p>Params: {@code k} (components, default 2), {@code mode} ("default", "paper" or "plugin"),
 * {@code seed} (42), {@code degree} (1), {@code levels} (32), {@code noisesPerRow} (1), {@code delta}
 * (NaN: chosen from the crude mixture), {@code horizon} (6), {@code crudeSample} (200,000),
 * {@code aggregationDepth} (2), {@code weightCol} (none), and the column params of
 * {@link ScoreMixtureModel}, which the fitted model inherits. They mean what the options of
 * {@code scoremix fit} of the same names mean (README, fit).
 *
 * <p>Implementation notes. {@link #fit} splits the vector column into one double column per entry,
 * named after the vector's ML attributes when they are plain names (VectorAssembler records its input
 * columns) and {@code x0 .. x(d-1)} otherwise, and runs {@link FitJob#fit} on it: the same passes,
 * row keys and model as {@code scoremix fit} on those columns, so the same Dataset (same partitions, same
 * order) and seed give the same model bit for bit. The model's {@code model.json} records these names.
 */
public final class ScoreMixture extends Estimator<ScoreMixtureModel> implements MLWritable {

    private static final long serialVersionUID = 1L;
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String uid;
    private final ColumnParams columns;
    private final IntParam k;
    private final Param<String> mode;
    private final LongParam seed;
    private final IntParam degree;
    private final IntParam levels;
    private final IntParam noisesPerRow;
    private final DoubleParam delta;
    private final DoubleParam horizon;
    private final IntParam crudeSample;
    private final IntParam aggregationDepth;
    private final Param<String> weightCol;

    public ScoreMixture() {
        this(Identifiable$.MODULE$.randomUID("ScoreMixture"));
    }

    /** An estimator with this uid (Spark ML's copy and persistence call this constructor). */
    public ScoreMixture(String uid) {
        this.uid = uid;
        this.columns = new ColumnParams(this);
        k = new IntParam(this, "k", "number of mixture components, from 1 to the number of rows",
                ParamValidators.gtEq(1));
        mode = new Param<>(this, "mode", "learner mode: default (residual target, soft-gated features), paper (hard"
                + " cells, monomial features, target -z/sigma_t) or plugin (the crude mixture's exact score)",
                ParamValidators.inArray(new String[] {"default", "paper", "plugin"}));
        seed = new LongParam(this, "seed", "seed of every random choice (crude sample, EM, noises, validation split)");
        degree = new IntParam(this, "degree", "polynomial degree of the per-cell features, 0 to 8",
                ParamValidators.inRange(0, 8));
        levels = new IntParam(this, "levels", "number of learned noise levels", ParamValidators.gtEq(1));
        noisesPerRow = new IntParam(this, "noisesPerRow", "noise draws per row and level", ParamValidators.gtEq(1));
        delta = new DoubleParam(this, "delta", "early-stopping time in (0, 1); NaN chooses it from the crude mixture");
        horizon = new DoubleParam(this, "horizon", "diffusion horizon T, 1 to 50", ParamValidators.inRange(1, 50));
        crudeSample = new IntParam(this, "crudeSample", "the crude mixture is fitted on the driver on about this"
                + " many rows (all rows when there are fewer)", ParamValidators.gtEq(2));
        aggregationDepth = new IntParam(this, "aggregationDepth", "depth of the tree reduction of the score moments",
                ParamValidators.gtEq(1));
        weightCol = new Param<>(this, "weightCol", "column of finite, non-negative row weights; empty for weight 1");
        setDefault(columns.featuresCol, "features");
        setDefault(columns.predictionCol, "prediction");
        setDefault(columns.probabilityCol, "probability");
        setDefault(columns.logDensityCol, "logDensity");
        setDefault(columns.densityMethod, ColumnParams.DENSITY_ODE);
        setDefault(columns.densitySteps, 200);
        setDefault(k, 2);
        setDefault(mode, "default");
        setDefault(seed, FitConfig.DEFAULT_SEED);
        setDefault(degree, 1);
        setDefault(levels, 32);
        setDefault(noisesPerRow, 1);
        setDefault(delta, Double.NaN);
        setDefault(horizon, 6.0);
        setDefault(crudeSample, FitConfig.DEFAULT_CRUDE_SAMPLE);
        setDefault(aggregationDepth, FitConfig.DEFAULT_AGGREGATION_DEPTH);
        setDefault(weightCol, "");
    }

    @Override
    public String uid() {
        return uid;
    }

    // Spark ML finds params through their public no-argument accessors.

    public Param<String> featuresCol() {
        return columns.featuresCol;
    }

    public Param<String> predictionCol() {
        return columns.predictionCol;
    }

    public Param<String> probabilityCol() {
        return columns.probabilityCol;
    }

    public Param<String> logDensityCol() {
        return columns.logDensityCol;
    }

    public Param<String> densityMethod() {
        return columns.densityMethod;
    }

    public IntParam densitySteps() {
        return columns.densitySteps;
    }

    public IntParam k() {
        return k;
    }

    public Param<String> mode() {
        return mode;
    }

    public LongParam seed() {
        return seed;
    }

    public IntParam degree() {
        return degree;
    }

    public IntParam levels() {
        return levels;
    }

    public IntParam noisesPerRow() {
        return noisesPerRow;
    }

    public DoubleParam delta() {
        return delta;
    }

    public DoubleParam horizon() {
        return horizon;
    }

    public IntParam crudeSample() {
        return crudeSample;
    }

    public IntParam aggregationDepth() {
        return aggregationDepth;
    }

    public Param<String> weightCol() {
        return weightCol;
    }

    public ScoreMixture setFeaturesCol(String value) {
        set(columns.featuresCol, value);
        return this;
    }

    public ScoreMixture setPredictionCol(String value) {
        set(columns.predictionCol, value);
        return this;
    }

    public ScoreMixture setProbabilityCol(String value) {
        set(columns.probabilityCol, value);
        return this;
    }

    public ScoreMixture setLogDensityCol(String value) {
        set(columns.logDensityCol, value);
        return this;
    }

    public ScoreMixture setDensityMethod(String value) {
        set(columns.densityMethod, value);
        return this;
    }

    public ScoreMixture setDensitySteps(int value) {
        set(columns.densitySteps, value);
        return this;
    }

    public ScoreMixture setK(int value) {
        set(k, value);
        return this;
    }

    public ScoreMixture setMode(String value) {
        set(mode, value.toLowerCase(Locale.ROOT));
        return this;
    }

    public ScoreMixture setSeed(long value) {
        set(seed, value);
        return this;
    }

    public ScoreMixture setDegree(int value) {
        set(degree, value);
        return this;
    }

    public ScoreMixture setLevels(int value) {
        set(levels, value);
        return this;
    }

    public ScoreMixture setNoisesPerRow(int value) {
        set(noisesPerRow, value);
        return this;
    }

    public ScoreMixture setDelta(double value) {
        set(delta, value);
        return this;
    }

    public ScoreMixture setHorizon(double value) {
        set(horizon, value);
        return this;
    }

    public ScoreMixture setCrudeSample(int value) {
        set(crudeSample, value);
        return this;
    }

    public ScoreMixture setAggregationDepth(int value) {
        set(aggregationDepth, value);
        return this;
    }

    public ScoreMixture setWeightCol(String value) {
        set(weightCol, value == null ? "" : value);
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String w = $(weightCol);
        if (!w.isEmpty() && !(ColumnParams.field(schema, w).dataType() instanceof NumericType)) {
            throw new IllegalArgumentException("weightCol '" + w + "' must be numeric, got "
                    + ColumnParams.field(schema, w).dataType().simpleString());
        }
        return ColumnParams.outputSchema(schema, $(columns.featuresCol), $(columns.predictionCol),
                $(columns.probabilityCol), $(columns.logDensityCol));
    }

    /**
     * Fits the model on the rows of {@code dataset} (its features vectors, and weights if
     * {@code weightCol} is set). Runs three passes over the Dataset: cache it upstream if it is expensive.
     *
     * @throws io.scoremix.spark.BadInputException on bad rows (null or non-finite entries, negative
     *         weights, vectors of different lengths, fewer rows than k) or settings
     */
    @Override
    public ScoreMixtureModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        String featuresName = $(columns.featuresCol);
        List<String> names = featureNames(dataset, featuresName);
        String weight = $(weightCol);
        List<Column> cols = new ArrayList<>();
        Column array = org.apache.spark.ml.functions.vector_to_array(functions.col(featuresName), "float64");
        for (int r = 0; r < names.size(); r++) {
            cols.add(array.getItem(r).as(names.get(r)));
        }
        if (!weight.isEmpty()) {
            cols.add(functions.col(weight).cast(DataTypes.DoubleType).as(weight));
        }
        Dataset<Row> numeric = dataset.select(cols.toArray(new Column[0]));
        FitConfig config = FitConfig.forDataset(uid + " (column " + featuresName + ")", (Integer) $(k))
                .withFeatures(names)
                .withWeightColumn(weight.isEmpty() ? null : weight)
                .withLearner(LearnerConfig.Mode.valueOf($(mode).toUpperCase(Locale.ROOT)), (Integer) $(degree), (Integer) $(levels),
                        (Integer) $(noisesPerRow), (Double) $(delta), (Double) $(horizon))
                .withSeed((Long) $(seed))
                .withAggregation((Integer) $(crudeSample), (Integer) $(aggregationDepth));
        FitJob.Fitted fitted = FitJob.fit(dataset.sparkSession(), numeric, config);
        ScoreMixtureModel model = new ScoreMixtureModel(uid,
                ModelBytes.encode(fitted.model(), fitted.metadata(), uid));
        copyValues(model, ParamMap.empty());
        return model.setParent(this);
    }

    /**
     * Names of the vector's entries: its ML attribute names when all are plain, distinct names other than
     * the weight column; {@code x0 .. x(d-1)} otherwise. d comes from the attributes, else from the first
     * row with a vector.
     */
    private List<String> featureNames(Dataset<?> dataset, String featuresName) {
        StructField field = ColumnParams.field(dataset.schema(), featuresName);
        AttributeGroup group = AttributeGroup.fromStructField(field);
        int d = group.size();
        List<String> names = new ArrayList<>();
        Option<Attribute[]> attributes = group.attributes();
        if (attributes.isDefined()) {
            Set<String> seen = new HashSet<>();
            for (Attribute a : attributes.get()) {
                String name = a.name().isDefined() ? a.name().get() : "";
                if (!PLAIN_NAME.matcher(name).matches() || !seen.add(name) || name.equals($(weightCol))) {
                    names = null;
                    break;
                }
                names.add(name);
            }
            if (names != null) {
                return names;
            }
        }
        if (d < 0) {
            List<Row> first = dataset.select(featuresName).na().drop().limit(1).collectAsList();
            if (first.isEmpty()) {
                throw new BadInputException(uid + ": no rows with a features vector in column '"
                        + featuresName + "'");
            }
            d = ((Vector) first.get(0).get(0)).size();
        }
        names = new ArrayList<>(d);
        for (int r = 0; r < d; r++) {
            names.add("x" + r);
        }
        return names;
    }

    @Override
    public ScoreMixture copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        ScoreMixture self = this;
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                try {
                    MlFiles.writeMetadata(self, path, sparkSession());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot save " + uid + " to " + path + ": " + e.getMessage(), e);
                }
            }
        };
    }

    /** The reader of saved estimators. */
    public static MLReader<ScoreMixture> read() {
        return new MLReader<>() {
            @Override
            public ScoreMixture load(String path) {
                try {
                    MlFiles.Metadata metadata = MlFiles.readMetadata(path, ScoreMixture.class, sparkSession());
                    if (metadata.uid() == null) {
                        throw new IllegalArgumentException(path + " holds no saved ScoreMixture (no metadata)");
                    }
                    ScoreMixture estimator = new ScoreMixture(metadata.uid());
                    return estimator.copy(metadata.params(estimator));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot load a ScoreMixture from " + path + ": " + e.getMessage(), e);
                }
            }
        };
    }

    /** Loads an estimator saved by {@link #write}. */
    public static ScoreMixture load(String path) {
        return read().load(path);
    }
}
