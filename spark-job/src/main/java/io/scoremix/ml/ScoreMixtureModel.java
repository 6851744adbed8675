package io.scoremix.ml;

import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.ModelDensity;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SamplerSteps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReadable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A fitted score mixture as a Spark ML Model (the result of {@link ScoreMixture#fit}, or loaded with
 * {@link #load} from a folder saved by {@link #write} or written by {@code scoremix fit}).
 *
 * <p>{@link #transform} keeps every input column and adds, per row of the vector column
 * {@code featuresCol} (an output column whose name is set to "" is left out):
 * <ul>
 *   <li>{@code predictionCol} (int): the crude mixture component of largest posterior;</li>
 *   <li>{@code probabilityCol} (vector of k): the crude mixture's posteriors, summing to 1 (log-sum-exp);</li>
 *   <li>{@code logDensityCol} (double): with {@code densityMethod} "ode" (default), the learned model's
 *       own log-density, that of its probability-flow ODE ({@link ModelDensity}: the law the {@code ode}
 *       sampler draws from, which approximates the data law noised to the model's delta), integrated on
 *       {@code densitySteps} steps (default 200; 2 score and 1 divergence evaluations per step and row);
 *       with "crude", the crude mixture's closed-form log-density (cheap).</li>
 * </ul>
 * A null features vector gives nulls; a vector of another length fails the task with a message. Rows are
 * processed in blocks of {@value #BLOCK_ROWS}; each executor decodes the broadcast model once.
 *
 * <p>{@link #sample(long, long)} draws points by the reverse SDE as {@code scoremix sample} does (its
 * stream, its default sampler and its default steps, {@code auto}, on the crude mixture's curvature grid from T
 * to delta): the same n and seed give the same points as that command with its defaults, whatever the
 * partitioning. The grid is built once on the driver and its times shipped to the tasks.
 *
 * <p>Persistence ({@link MLWritable}, {@link MLReadable}): see {@link MlFiles}; the saved folder is also a
 * {@code scoremix.model/v1} folder.
 */
public final class ScoreMixtureModel extends Model<ScoreMixtureModel> implements MLWritable {

    private static final long serialVersionUID = 1L;
    static final int BLOCK_ROWS = 256;
    /** The stream of {@code scoremix sample}'s draws ("sample" in ASCII, mixed); the same points. */
    static final long SAMPLE_STREAM = CounterRandom.stream(0x73616D706C65L);

    private final String uid;
    private final ModelBytes bytes;
    private final ColumnParams columns;

    ScoreMixtureModel(String uid, ModelBytes bytes) {
        this.uid = uid;
        this.bytes = bytes;
        this.columns = new ColumnParams(this);
        setDefault(columns.featuresCol, "features");
        setDefault(columns.predictionCol, "prediction");
        setDefault(columns.probabilityCol, "probability");
        setDefault(columns.logDensityCol, "logDensity");
        setDefault(columns.densityMethod, ColumnParams.DENSITY_ODE);
        setDefault(columns.densitySteps, 200);
    }

    @Override
    public String uid() {
        return uid;
    }

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

    public ScoreMixtureModel setFeaturesCol(String value) {
        set(columns.featuresCol, value);
        return this;
    }

    public ScoreMixtureModel setPredictionCol(String value) {
        set(columns.predictionCol, value);
        return this;
    }

    public ScoreMixtureModel setProbabilityCol(String value) {
        set(columns.probabilityCol, value);
        return this;
    }

    public ScoreMixtureModel setLogDensityCol(String value) {
        set(columns.logDensityCol, value);
        return this;
    }

    public ScoreMixtureModel setDensityMethod(String value) {
        set(columns.densityMethod, value);
        return this;
    }

    public ScoreMixtureModel setDensitySteps(int value) {
        set(columns.densitySteps, value);
        return this;
    }

    /** The learned score model (core-math). */
    public ScoreModel scoreModel() {
        return bytes.model();
    }

    /** The crude mixture, in the data's coordinates. */
    public GaussianMixture crudeMixture() {
        ScoreModel m = bytes.model();
        return m.whitening().fromWhitened(m.crude());
    }

    /** The training data's feature names, in order (the assembler's input columns when it recorded them). */
    public List<String> featureNames() {
        return bytes.featureNames();
    }

    /** Number of crude mixture components, the length of the probability vectors. */
    public int k() {
        return bytes.model().crude().components();
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return ColumnParams.outputSchema(schema, $(columns.featuresCol), $(columns.predictionCol),
                $(columns.probabilityCol), $(columns.logDensityCol));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        SparkSession spark = dataset.sparkSession();
        Broadcast<ModelBytes> shipped = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(bytes);
        int featureIndex = dataset.schema().fieldIndex($(columns.featuresCol));
        RowScorer scorer = new RowScorer(shipped, featureIndex, dataset.schema().size(),
                !$(columns.predictionCol).isEmpty(), !$(columns.probabilityCol).isEmpty(),
                $(columns.logDensityCol).isEmpty() ? null : $(columns.densityMethod), (Integer) $(columns.densitySteps));
        return dataset.toDF().mapPartitions(scorer, Encoders.row(out));
    }

    /**
     * Draws n points from the model as a Dataset with one double column per feature, named as the
     * training features, in {@code spark.default.parallelism} partitions (at most n). Lazy: nothing is
     * drawn until an action runs.
     *
     * @throws IllegalArgumentException if n < 1
     */
    public Dataset<Row> sample(long n, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("sample: n must be at least 1 (got " + n + ")");
        }
        SparkSession spark = SparkSession.active();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = (int) Math.max(1, Math.min(n, jsc.defaultParallelism()));
        List<Integer> ids = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        double[] dh = bytes.deltaAndHorizon();
        double[] times = SamplerSteps.resolve(bytes.model().crude(), dh[1], dh[0], SampleConfig.DEFAULT_STEPS).grid()
                .times();
        Broadcast<ModelBytes> shipped = jsc.broadcast(bytes);
        JavaRDD<Row> rows = jsc.parallelize(ids, partitions)
                .flatMap(new PartitionSampler(shipped, times, seed, n, partitions));
        List<StructField> fields = new ArrayList<>();
        for (String name : bytes.featureNames()) {
            fields.add(DataTypes.createStructField(name, DataTypes.DoubleType, false));
        }
        return spark.createDataFrame(rows, DataTypes.createStructType(fields));
    }

    @Override
    public ScoreMixtureModel copy(ParamMap extra) {
        ScoreMixtureModel copy = copyValues(new ScoreMixtureModel(uid, bytes), extra);
        return copy.setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** The reader of saved models (and of folders written by {@code scoremix fit}). */
    public static MLReader<ScoreMixtureModel> read() {
        return new Reader();
    }

    /** Loads a model saved by {@link #write} or written by {@code scoremix fit}, from any Hadoop path. */
    public static ScoreMixtureModel load(String path) {
        return read().load(path);
    }

    @Override
    public String toString() {
        return "ScoreMixtureModel: uid=" + uid + ", k=" + k() + ", d=" + bytes.model().dimension() + ", "
                + bytes.model().levelCount() + " levels, features " + bytes.featureNames();
    }

    private static final class Writer extends MLWriter {
        private final ScoreMixtureModel model;

        Writer(ScoreMixtureModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            try {
                MlFiles.writeMetadata(model, path, sparkSession());
                MlFiles.writeModel(model.bytes, path, sparkSession());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save " + model.uid + " to " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<ScoreMixtureModel> {
        @Override
        public ScoreMixtureModel load(String path) {
            try {
                ModelBytes bytes = MlFiles.readModel(path, sparkSession());
                MlFiles.Metadata metadata = MlFiles.readMetadata(path, ScoreMixtureModel.class, sparkSession());
                String uid = metadata.uid() != null ? metadata.uid()
                        : Identifiable$.MODULE$.randomUID("ScoreMixtureModel");
                ScoreMixtureModel model = new ScoreMixtureModel(uid, bytes);
                return model.copy(metadata.params(model));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load a ScoreMixtureModel from " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /** Executor side of {@link #transform}: rows in, rows with the output columns appended out. */
    static final class RowScorer implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;

        private final Broadcast<ModelBytes> model;
        private final int featureIndex;
        private final int width;
        private final boolean prediction;
        private final boolean probability;
        /** "ode", "crude", or null for no log-density column. */
        private final String density;
        private final int densitySteps;

        RowScorer(Broadcast<ModelBytes> model, int featureIndex, int width, boolean prediction, boolean probability,
                  String density, int densitySteps) {
            this.model = model;
            this.featureIndex = featureIndex;
            this.width = width;
            this.prediction = prediction;
            this.probability = probability;
            this.density = density;
            this.densitySteps = densitySteps;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> input) {
            ModelBytes m = model.value();
            ScoreModel score = m.model();
            ModelDensity ode = null;
            if (ColumnParams.DENSITY_ODE.equals(density)) {
                double[] dh = m.deltaAndHorizon();
                ode = ModelDensity.of(score, TimeGrid.benton(dh[1], dh[0], densitySteps));
            }
            return new Blocks(input, score, ode);
        }

        /** Reads up to {@value #BLOCK_ROWS} rows, scores them together, hands them out one by one. */
        private final class Blocks implements Iterator<Row> {
            private final Iterator<Row> input;
            private final ScoreModel score;
            private final ModelDensity ode;
            private final int d;
            private final int k;
            private final Row[] rows = new Row[BLOCK_ROWS];
            /** Block position of each row with a features vector, in order; -1 for null vectors. */
            private final int[] slot = new int[BLOCK_ROWS];
            private final double[] x;
            private final double[] z;
            private final double[] post;
            private final double[] logDensity = new double[BLOCK_ROWS];
            private int filled;
            private int pos;

            Blocks(Iterator<Row> input, ScoreModel score, ModelDensity ode) {
                this.input = input;
                this.score = score;
                this.ode = ode;
                this.d = score.dimension();
                this.k = score.crude().components();
                this.x = new double[BLOCK_ROWS * d];
                this.z = new double[BLOCK_ROWS * d];
                this.post = new double[BLOCK_ROWS * k];
            }

            @Override
            public boolean hasNext() {
                return pos < filled || input.hasNext();
            }

            @Override
            public Row next() {
                if (pos == filled) {
                    if (!input.hasNext()) {
                        throw new NoSuchElementException();
                    }
                    fill();
                }
                Row row = rows[pos];
                int s = slot[pos];
                pos++;
                Object[] values = new Object[width + (prediction ? 1 : 0) + (probability ? 1 : 0)
                        + (density != null ? 1 : 0)];
                for (int c = 0; c < width; c++) {
                    values[c] = row.get(c);
                }
                int c = width;
                if (prediction) {
                    values[c++] = s < 0 ? null : argmax(post, s * k, k);
                }
                if (probability) {
                    values[c++] = s < 0 ? null : Vectors.dense(Arrays.copyOfRange(post, s * k, s * k + k));
                }
                if (density != null) {
                    values[c] = s < 0 ? null : logDensity[s];
                }
                return RowFactory.create(values);
            }

            private void fill() {
                filled = 0;
                pos = 0;
                int n = 0;
                while (filled < BLOCK_ROWS && input.hasNext()) {
                    Row row = input.next();
                    rows[filled] = row;
                    if (row.isNullAt(featureIndex)) {
                        slot[filled++] = -1;
                        continue;
                    }
                    Vector v = row.getAs(featureIndex);
                    if (v.size() != d) {
                        throw new IllegalArgumentException("a features vector has " + v.size()
                                + " entries; the model has dimension " + d);
                    }
                    for (int r = 0; r < d; r++) {
                        x[n * d + r] = v.apply(r);
                    }
                    slot[filled++] = n++;
                }
                if (n == 0) {
                    return;
                }
                Whitening w = score.whitening();
                w.apply(x, n, z);
                score.crude().posteriors(z, n, post);
                if (ode != null) {
                    ode.logDensity(x, n, logDensity);
                } else if (density != null) {
                    score.crude().logDensity(z, n, logDensity);
                    double logDet = w.logAbsDetW();
                    for (int j = 0; j < n; j++) {
                        logDensity[j] += logDet;
                    }
                }
            }
        }

        private static int argmax(double[] a, int off, int len) {
            int best = 0;
            for (int i = 1; i < len; i++) {
                if (a[off + i] > a[off + best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    /** Executor side of {@link #sample}: partition id -> its contiguous range of the global point sequence. */
    static final class PartitionSampler implements FlatMapFunction<Integer, Row> {
        private static final long serialVersionUID = 1L;

        private final Broadcast<ModelBytes> model;
        private final double[] times;
        private final long seed;
        private final long n;
        private final int partitions;

        /** @param times the sampler grid's times, built once on the driver */
        PartitionSampler(Broadcast<ModelBytes> model, double[] times, long seed, long n, int partitions) {
            this.model = model;
            this.times = times;
            this.seed = seed;
            this.n = n;
            this.partitions = partitions;
        }

        /** First global index of partition p: p q + min(p, r) with q = n / P, r = n mod P. */
        static long rowStart(long n, int partitions, int p) {
            long q = n / partitions;
            long r = n % partitions;
            return p * q + Math.min(p, r);
        }

        @Override
        public Iterator<Row> call(Integer p) {
            ScoreModel score = model.value().model();
            ReverseSampler sampler = ReverseSampler.of(SamplerConfig.builder(TimeGrid.of(times))
                    .method(SampleConfig.DEFAULT_METHOD).build());
            CounterRandom rng = CounterRandom.of(seed);
            long start = rowStart(n, partitions, p);
            long end = rowStart(n, partitions, p + 1);
            int d = score.dimension();
            return new Iterator<>() {
                private final double[] z = new double[(int) Math.min(4096, Math.max(1, end - start)) * d];
                private final double[] x = new double[z.length];
                private long next = start;
                private int pos;
                private int filled;

                @Override
                public boolean hasNext() {
                    return next < end;
                }

                @Override
                public Row next() {
                    if (next >= end) {
                        throw new NoSuchElementException();
                    }
                    if (pos == filled) {
                        filled = (int) Math.min(z.length / d, end - next);
                        sampler.sample(score, rng, SAMPLE_STREAM, next, filled, z);
                        score.whitening().invert(z, filled, x);
                        pos = 0;
                    }
                    Object[] values = new Object[d];
                    for (int r = 0; r < d; r++) {
                        values[r] = x[pos * d + r];
                    }
                    pos++;
                    next++;
                    return RowFactory.create(values);
                }
            };
        }
    }
}
