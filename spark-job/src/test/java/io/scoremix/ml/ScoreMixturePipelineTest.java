package io.scoremix.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SampleJob;
import io.scoremix.spark.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark ML API on local[2]: a Pipeline of VectorAssembler and ScoreMixture fitted on three
 * well-separated 2-D blobs (centres 6 to 8 standard deviations apart, so the Bayes classifier errs on
 * fewer than 1e-4 of the rows), with the true component of every row known. Training: 20,000 rows;
 * held-out test: 4,000 rows.
 */
class ScoreMixturePipelineTest {

    static final int TRAIN = 20_000;
    static final int TEST = 4_000;
    static final GaussianMixture TRUTH = GaussianMixture.of(new double[] {0.5, 0.3, 0.2},
            new double[][] {{0, 0}, {6, 0}, {0, 6}},
            new double[][][] {{{1.0, 0.3}, {0.3, 0.5}}, {{0.5, -0.2}, {-0.2, 0.8}}, {{0.3, 0}, {0, 0.3}}});

    static SparkSession spark;
    static Dataset<Row> train;
    static Dataset<Row> test;
    static PipelineModel fitted;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fit() {
        spark = TestSupport.localSession("ScoreMixturePipelineTest");
        train = blobs(TRAIN, 11, 4);
        test = blobs(TEST, 12, 2);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            new VectorAssembler().setInputCols(new String[] {"a", "b"}).setOutputCol("features"),
            new ScoreMixture().setK(3).setSeed(5).setLevels(16)});
        fitted = pipeline.fit(train);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** n rows (id, a, b, label) of TRUTH, label the true component, in the given number of partitions. */
    static Dataset<Row> blobs(int n, long seed, int partitions) {
        Random rng = new Random(seed);
        List<Row> rows = new ArrayList<>(n);
        double[] w = TRUTH.weights();
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble();
            int c = u < w[0] ? 0 : u < w[0] + w[1] ? 1 : 2;
            double[] m = TRUTH.mean(c);
            double[][] s = TRUTH.covariance(c);
            // Cholesky of the 2 x 2 covariance: L = [[l00, 0], [l10, l11]].
            double l00 = Math.sqrt(s[0][0]);
            double l10 = s[1][0] / l00;
            double l11 = Math.sqrt(s[1][1] - l10 * l10);
            double g0 = rng.nextGaussian();
            double g1 = rng.nextGaussian();
            rows.add(RowFactory.create((long) i, m[0] + l00 * g0, m[1] + l10 * g0 + l11 * g1, c));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("a", DataTypes.DoubleType)
                .add("b", DataTypes.DoubleType).add("label", DataTypes.IntegerType);
        return spark.createDataFrame(rows, schema).repartition(partitions).sortWithinPartitions("id");
    }

    static ScoreMixtureModel model(PipelineModel p) {
        return (ScoreMixtureModel) p.stages()[1];
    }

    @Test
    void transformAddsPredictionProbabilityAndLogDensity() {
        ScoreMixtureModel m = model(fitted);
        assertEquals(List.of("a", "b"), m.featureNames(), "names recorded by VectorAssembler");
        List<Row> rows = fitted.transform(test).select("a", "b", "label", "prediction", "probability", "logDensity")
                .collectAsList();
        assertEquals(TEST, rows.size());

        // Crude components are in their own order: map each to the true component nearest its mean.
        GaussianMixture crude = m.crudeMixture();
        int[] truthOf = new int[crude.components()];
        for (int j = 0; j < crude.components(); j++) {
            double best = Double.POSITIVE_INFINITY;
            for (int c = 0; c < 3; c++) {
                double dx = crude.mean(j)[0] - TRUTH.mean(c)[0];
                double dy = crude.mean(j)[1] - TRUTH.mean(c)[1];
                if (dx * dx + dy * dy < best) {
                    best = dx * dx + dy * dy;
                    truthOf[j] = c;
                }
            }
        }
        int agree = 0;
        double sumDiff = 0;
        double sumDiff2 = 0;
        double[] x = new double[2];
        double[] truthLog = new double[1];
        for (Row r : rows) {
            int prediction = r.getInt(3);
            if (truthOf[prediction] == r.getInt(2)) {
                agree++;
            }
            Vector p = r.getAs(4);
            assertEquals(3, p.size());
            double sum = 0;
            for (int j = 0; j < 3; j++) {
                assertTrue(p.apply(j) >= 0 && p.apply(j) <= 1, p.toString());
                sum += p.apply(j);
            }
            assertEquals(1.0, sum, 1e-12, "posteriors sum to 1");
            assertEquals(p.argmax(), prediction, "prediction is the argmax of the posteriors");
            x[0] = r.getDouble(0);
            x[1] = r.getDouble(1);
            TRUTH.logDensity(x, 1, truthLog);
            double diff = r.getDouble(5) - truthLog[0];
            sumDiff += diff;
            sumDiff2 += diff * diff;
        }
        assertTrue(agree > 0.95 * TEST, "prediction agrees with the true component on " + agree + " of " + TEST);
        // mean(log p_model - log p_true) over test rows estimates -KL(p_true || p_model) <= 0; the model's KL
        // is its estimation error (about parameters / (2 n) = 17 / 40000 for a fitted mixture) plus the early
        // stopping at delta and the ODE discretisation, both of order 1e-3; allow 0.02 plus 4 standard errors.
        double mean = sumDiff / TEST;
        double se = Math.sqrt((sumDiff2 / TEST - mean * mean) / TEST);
        System.out.printf("ScoreMixturePipelineTest: agreement %d / %d, mean log-density difference %.5f (se %.5f)%n",
                agree, TEST, mean, se);
        assertTrue(Math.abs(mean) < 0.02 + 4 * se, "mean log-density difference " + mean + " (se " + se + ")");
    }

    @Test
    void crudeDensityMethodAndEmptyColumnNames() {
        ScoreMixtureModel m = model(fitted).copy(new org.apache.spark.ml.param.ParamMap());
        m.setDensityMethod("crude").setPredictionCol("").setProbabilityCol("p");
        Dataset<Row> out = new VectorAssembler().setInputCols(new String[] {"a", "b"}).setOutputCol("features")
                .transform(test);
        List<String> columns = List.of(m.transform(out).columns());
        assertEquals(List.of("id", "a", "b", "label", "features", "p", "logDensity"), columns);
        Row first = m.transform(out).orderBy("id").first();
        double[] x = {first.getDouble(1), first.getDouble(2)};
        double[] want = new double[1];
        m.crudeMixture().logDensity(x, 1, want);
        assertEquals(want[0], first.getDouble(6), 1e-9, "crude log-density in the data's coordinates");
        assertThrows(IllegalArgumentException.class, () -> m.transform(test), "no features column");
    }

    @Test
    void saveAndLoadGiveIdenticalTransformsAndAScoremixModelFolder() throws Exception {
        String path = tmp.resolve("pipeline").toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        Dataset<Row> some = test.filter("id < 1000");
        List<Row> before = fitted.transform(some).orderBy("id").collectAsList();
        List<Row> after = loaded.transform(some).orderBy("id").collectAsList();
        assertEquals(before, after, "the same rows, bit for bit");
        assertEquals(model(fitted).uid(), model(loaded).uid());

        // The stage folder is a scoremix.model/v1 folder, and the model alone round-trips too.
        Path single = tmp.resolve("model");
        model(fitted).write().save(single.toString());
        assertEquals(3, ScoreModelFormat.load(single).crude().components());
        ScoreMixtureModel again = ScoreMixtureModel.load(single.toString());
        model(fitted).write().overwrite().save(tmp.resolve("model2").toString());
        assertArrayEquals(Files.readAllBytes(single.resolve(ScoreModelFormat.COEFFICIENTS)),
                Files.readAllBytes(tmp.resolve("model2").resolve(ScoreModelFormat.COEFFICIENTS)));
        assertArrayEquals(Files.readAllBytes(single.resolve(ScoreModelFormat.MODEL_JSON)),
                Files.readAllBytes(tmp.resolve("model2").resolve(ScoreModelFormat.MODEL_JSON)));
        assertEquals(model(fitted).featureNames(), again.featureNames());

        // The unfitted estimator round-trips with its params.
        ScoreMixture est = new ScoreMixture().setK(4).setMode("paper").setDelta(0.01).setWeightCol("w");
        est.write().save(tmp.resolve("est").toString());
        ScoreMixture est2 = ScoreMixture.load(tmp.resolve("est").toString());
        assertEquals(est.uid(), est2.uid());
        assertEquals(4, est2.getOrDefault(est2.k()));
        assertEquals("paper", est2.getOrDefault(est2.mode()));
        assertEquals(0.01, (Double) est2.getOrDefault(est2.delta()));
        assertEquals("w", est2.getOrDefault(est2.weightCol()));
    }

    @Test
    void weightColumnDropsRowsOfWeightZero() {
        // Weight 0 for every row of component 2: the fit sees the mixture of components 0 and 1 only.
        Dataset<Row> weighted = train.withColumn("w", org.apache.spark.sql.functions.expr("IF(label = 2, 0.0, 1.0)"));
        Dataset<Row> features = new VectorAssembler().setInputCols(new String[] {"a", "b"}).setOutputCol("features")
                .transform(weighted);
        ScoreMixtureModel m = new ScoreMixture().setK(2).setSeed(3).setLevels(8).setMode("plugin").setWeightCol("w")
                .setLogDensityCol("").fit(features);
        GaussianMixture crude = m.crudeMixture();
        for (int j = 0; j < 2; j++) {
            double y = crude.mean(j)[1];
            assertTrue(Math.abs(y) < 0.5, "no component near the dropped blob at (0, 6): " + crude);
        }
        int n = 10_000;
        List<Row> rows = m.sample(n, 4).collectAsList();
        // The two kept components have weights 0.5 / 0.8 and 0.3 / 0.8; their mixture's mean and variance.
        double w0 = 0.5 / 0.8;
        double w1 = 0.3 / 0.8;
        double wantX = w1 * 6;
        double varX = w0 * 1.0 + w1 * 0.5 + w0 * w1 * 36;
        double varY = w0 * 0.5 + w1 * 0.8;
        double sumX = 0;
        double sumY = 0;
        for (Row r : rows) {
            sumX += r.getDouble(0);
            sumY += r.getDouble(1);
        }
        // The weighted fit saw about 0.8 TRAIN rows: 5 standard errors of sample plus training set.
        double kept = 0.8 * TRAIN;
        assertEquals(wantX, sumX / n, 5 * Math.sqrt(varX * (1.0 / n + 1.0 / kept)), "mean of a");
        assertEquals(0.0, sumY / n, 5 * Math.sqrt(varY * (1.0 / n + 1.0 / kept)), "mean of b");
    }

    @Test
    void sampleHasTheTruthsMomentsAndEqualsTheSampleCommand() throws Exception {
        ScoreMixtureModel m = model(fitted);
        int n = 20_000;
        List<Row> rows = m.sample(n, 9).collectAsList();
        assertEquals(n, rows.size());
        assertEquals(List.of("a", "b"), List.of(m.sample(1, 9).columns()));
        double[] mean = new double[2];
        for (Row r : rows) {
            mean[0] += r.getDouble(0) / n;
            mean[1] += r.getDouble(1) / n;
        }
        double[] cov = new double[4];
        double[] fourth = new double[4];
        for (Row r : rows) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    double v = (r.getDouble(i) - mean[i]) * (r.getDouble(j) - mean[j]);
                    cov[i * 2 + j] += v / n;
                    fourth[i * 2 + j] += v * v / n;
                }
            }
        }
        double[] trueMean = TRUTH.overallMean();
        double[] trueCov = TRUTH.overallCovariance();
        // Standard errors of the sample's moments and of the training set's (the model learned from
        // TRAIN rows): se^2 = var / n + var / TRAIN; 5 of them per entry.
        for (int i = 0; i < 2; i++) {
            double se = Math.sqrt(trueCov[i * 2 + i] * (1.0 / n + 1.0 / TRAIN));
            assertEquals(trueMean[i], mean[i], 5 * se, "mean " + i);
            for (int j = 0; j < 2; j++) {
                double var = fourth[i * 2 + j] - cov[i * 2 + j] * cov[i * 2 + j];
                double seCov = Math.sqrt(var * (1.0 / n + 1.0 / TRAIN));
                assertEquals(trueCov[i * 2 + j], cov[i * 2 + j], 5 * seCov, "covariance " + i + "," + j);
            }
        }

        // The same points as `scoremix sample` with the same n and seed, in any partitioning.
        Path folder = tmp.resolve("m");
        m.write().save(folder.toString());
        new SampleJob(new SampleConfig(folder.toString(), 3000, tmp.resolve("s").toString(), OutputFormat.PARQUET, 3,
                9, SampleConfig.DEFAULT_METHOD, SampleConfig.DEFAULT_STEPS, false)).run(spark);
        assertEquals(new HashSet<>(spark.read().parquet(tmp.resolve("s").toString()).collectAsList()),
                new HashSet<>(m.sample(3000, 9).collectAsList()));
        assertEquals(m.sample(500, 9).collectAsList(), m.sample(500, 9).collectAsList(), "deterministic");
    }
}
