package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fit then sample on local[2], at least 2 partitions: blobs-2d (3 overlapping components in 2-D), 20,000
 * training rows drawn by {@code generate} in 4 part files, as CSV, as Parquet, and as Parquet with a
 * weight column; 10,000 sampled points.
 */
class FitSampleJobTest {

    static final long TRAIN_ROWS = 20_000;
    static final long SAMPLE_ROWS = 10_000;
    /** Per-entry bound on |sample statistic - truth| in combined standard errors. */
    static final double MAX_STANDARD_ERRORS = 5.0;
    /**
     * Model-error allowance per entry, relative to sqrt(C_rr C_ss): early stopping at delta ~ 1e-3 moves the
     * whitened covariance by O(delta^2), the 256-step grid and the learned correction by about 1e-3 in the
     * core-math bench; 0.02 leaves room and is still far below the errors of a wrong model (the spread of
     * the three components' means is about 1 in these units).
     */
    static final double MODEL_ALLOWANCE = 0.02;
    /**
     * Relative agreement of the distributed and the in-memory fit at the same row keys: they differ only by
     * the floating-point order of the moment sums (per partition and merged, against one pass).
     */
    static final double SAME_KEYS_TOLERANCE = 1e-10;

    static SparkSession spark;
    static GaussianMixture truth;

    @TempDir
    static Path data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        spark = TestSupport.localSession("FitSampleJobTest");
        MixtureSpec spec = MixtureSpec.read(TestSupport.example("blobs-2d"));
        truth = spec.mixture();
        for (OutputFormat f : OutputFormat.values()) {
            new GenerateJob(GenerateConfig.builder().spec(spec, "blobs-2d").n(TRAIN_ROWS).partitions(4).seed(7)
                    .format(f).output(data.resolve("blobs-" + f.id()).toString()).build()).run(spark);
        }
        // Weighted: the same rows with weight 1, plus 2,000 rows far away with weight 0 that must not matter.
        Dataset<Row> good = spark.read().parquet(data.resolve("blobs-parquet").toString())
                .withColumn("w", functions.lit(1.0));
        Dataset<Row> junk = spark.range(2000).select(functions.lit(40.0).plus(functions.col("id").mod(7)).as("x0"),
                functions.lit(-30.0).minus(functions.col("id").mod(5)).as("x1"), functions.lit(0.0).as("w"))
                .repartition(2);
        good.union(junk).write().mode(SaveMode.ErrorIfExists).parquet(data.resolve("weighted").toString());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static FitConfig fit(String input, InputFormat format, Path model) {
        return FitConfig.of(input, 3, model.toString()).withFormat(format);
    }

    @Test
    void csvFitThenSampleMatchesTheTruth() throws IOException {
        Path model = tmp.resolve("model");
        FitJob.Result r = new FitJob(fit(data.resolve("blobs-csv").toString(), InputFormat.CSV, model)).run(spark);
        assertEquals(TRAIN_ROWS, r.rows());
        assertEquals(List.of("x0", "x1"), r.features());
        assertTrue(r.partitions() >= 2, "partitions " + r.partitions());
        assertTrue(Files.exists(model.resolve("_scoremix.json")));
        sampleMatchesTruth(model, OutputFormat.CSV, TRAIN_ROWS);
    }

    @Test
    void weightedParquetFitIgnoresZeroWeightRows() throws IOException {
        Path model = tmp.resolve("model");
        FitJob.Result r = new FitJob(fit(data.resolve("weighted").toString(), InputFormat.PARQUET, model)
                .withWeightColumn("w")).run(spark);
        assertEquals(TRAIN_ROWS + 2000, r.rows());
        assertEquals(TRAIN_ROWS, r.weight(), 1e-9);
        assertEquals(List.of("x0", "x1"), r.features());
        sampleMatchesTruth(model, OutputFormat.PARQUET, TRAIN_ROWS);
    }

    /**
     * Samples 10,000 points and compares their mean and covariance with the truth's. Standard errors: the
     * sample's (n = 10,000, from its empirical second and fourth moments) and the training data's
     * (the fitted crude mixture reproduces the training rows' mean and covariance, an EM fixed point), so
     * per entry {@code se = sqrt(v / 10000 + v / trainRows)}; bound {@code 5 se + 0.02 sqrt(C_rr C_ss)}.
     */
    void sampleMatchesTruth(Path model, OutputFormat format, long trainRows) {
        Path out = tmp.resolve("sample");
        SampleConfig sc = new SampleConfig(model.toString(), SAMPLE_ROWS, out.toString(), format, 3, 11,
                SampleConfig.DEFAULT_METHOD, SampleConfig.DEFAULT_STEPS, false);
        SampleJob.Result r = new SampleJob(sc).run(spark);
        assertEquals(List.of("x0", "x1"), r.columns());
        Dataset<Row> rows = format == OutputFormat.CSV
                ? spark.read().option("header", "true").option("inferSchema", "true").csv(out.toString())
                : spark.read().parquet(out.toString());
        assertEquals(List.of("x0", "x1"), List.of(rows.columns()));
        double[] x = collect(rows, 2);
        int n = x.length / 2;
        assertEquals(SAMPLE_ROWS, n);
        double[] mu = truth.overallMean();
        double[] cov = truth.overallCovariance();
        double[] mean = new double[2];
        for (int j = 0; j < n; j++) {
            mean[0] += x[2 * j] / n;
            mean[1] += x[2 * j + 1] / n;
        }
        StringBuilder report = new StringBuilder();
        for (int r0 = 0; r0 < 2; r0++) {
            double se = Math.sqrt(cov[r0 * 2 + r0] * (1.0 / n + 1.0 / trainRows));
            double bound = MAX_STANDARD_ERRORS * se + MODEL_ALLOWANCE * Math.sqrt(cov[r0 * 2 + r0]);
            report.append(String.format(Locale.ROOT, "mean[%d] %.4f truth %.4f bound %.4f; ", r0, mean[r0], mu[r0], bound));
            assertTrue(Math.abs(mean[r0] - mu[r0]) <= bound, report.toString());
            for (int s = 0; s <= r0; s++) {
                double c = 0;
                double c2 = 0;
                for (int j = 0; j < n; j++) {
                    double p = (x[2 * j + r0] - mean[r0]) * (x[2 * j + s] - mean[s]);
                    c += p / n;
                    c2 += p * p / n;
                }
                double v = c2 - c * c;
                double covSe = Math.sqrt(v * (1.0 / n + 1.0 / trainRows));
                double covBound = MAX_STANDARD_ERRORS * covSe
                        + MODEL_ALLOWANCE * Math.sqrt(cov[r0 * 2 + r0] * cov[s * 2 + s]);
                report.append(String.format(Locale.ROOT, "cov[%d][%d] %.4f truth %.4f bound %.4f; ", r0, s, c,
                        cov[r0 * 2 + s], covBound));
                assertTrue(Math.abs(c - cov[r0 * 2 + s]) <= covBound, report.toString());
            }
        }
        System.out.println("FitSampleJobTest " + format + ": " + report);
    }

    static double[] collect(Dataset<Row> rows, int d) {
        List<Row> list = rows.collectAsList();
        double[] x = new double[list.size() * d];
        for (int j = 0; j < list.size(); j++) {
            for (int r = 0; r < d; r++) {
                x[j * d + r] = ((Number) list.get(j).get(r)).doubleValue();
            }
        }
        return x;
    }

    /**
     * Same input and seed twice: bit-identical coefficient files (paper mode, so that every cell has
     * coefficients) and identical levels in model.json; and the saved model equals the in-memory
     * {@link Learner} fitted on the same rows in the same order (hence the same row keys, noises and splits)
     * within {@value #SAME_KEYS_TOLERANCE} relative, and so does a fit of the same files read in many more
     * partitions (same read order, hence same keys). With other keys (rows in another order) models would
     * agree only statistically.
     */
    @Test
    void sameInputAndSeedGiveTheSameModelAndItEqualsTheInMemoryLearner() throws IOException {
        String input = data.resolve("blobs-parquet").toString();
        FitConfig base = fit(input, InputFormat.PARQUET, tmp.resolve("a"))
                .withLearner(LearnerConfig.Mode.PAPER, 1, 16, 1, Double.NaN, 6.0);
        new FitJob(base).run(spark);
        new FitJob(base.withModel(tmp.resolve("b").toString(), false)).run(spark);
        byte[] a = Files.readAllBytes(tmp.resolve("a").resolve(ScoreModelFormat.COEFFICIENTS));
        byte[] b = Files.readAllBytes(tmp.resolve("b").resolve(ScoreModelFormat.COEFFICIENTS));
        assertTrue(a.length > 0, "paper mode writes coefficients");
        assertArrayEquals(a, b);
        ObjectMapper json = new ObjectMapper();
        JsonNode ja = json.readTree(tmp.resolve("a").resolve(ScoreModelFormat.MODEL_JSON).toFile());
        JsonNode jb = json.readTree(tmp.resolve("b").resolve(ScoreModelFormat.MODEL_JSON).toFile());
        assertEquals(ja.get("levels"), jb.get("levels"));
        assertEquals(ja.get("whitening"), jb.get("whitening"));
        assertEquals(ja.get("crude"), jb.get("crude"));

        // The in-memory learner on the rows in fit's read order: row j has key j in both.
        double[] x = collect(FitInput.read(spark, input, InputFormat.PARQUET).select("x0", "x1"), 2);
        int n = x.length / 2;
        Learner.Result mem = Learner.fit(x, n, 2, null, base.learnerConfig(Double.NaN));
        ScoreModel saved = ScoreModelFormat.load(tmp.resolve("a"));
        assertArrayEquals(mem.model().levelTimes(), saved.levelTimes(), 1e-9);
        int m = 500;
        double[] z = new double[m * 2];
        CounterRandom.of(3).fillGaussian(CounterRandom.stream(1), 0, z, 0, m * 2);
        double worst = maxRelativeDifference(mem.model(), saved, z, m);
        System.out.println("FitSampleJobTest: distributed vs in-memory fit, same keys: worst relative score difference "
                + worst);
        assertTrue(worst <= SAME_KEYS_TOLERANCE, "worst relative difference " + worst);

        // More partitions (small file splits, some of them empty): Spark reads the same rows in the same
        // order, so the keys and the model are the same up to the rounding of the moment sums.
        FitJob.Result many;
        try {
            spark.conf().set("spark.sql.files.maxPartitionBytes", "32768");
            spark.conf().set("spark.sql.files.openCostInBytes", "0");
            many = new FitJob(base.withModel(tmp.resolve("c").toString(), false)).run(spark);
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
            spark.conf().unset("spark.sql.files.openCostInBytes");
        }
        ScoreModel other = ScoreModelFormat.load(tmp.resolve("c"));
        double worstPartitions = maxRelativeDifference(saved, other, z, m);
        System.out.println("FitSampleJobTest: " + many.partitions() + " partitions against the default partitioning: "
                + "worst relative score difference " + worstPartitions);
        assertTrue(many.partitions() > 4, "partitions " + many.partitions());
        assertTrue(worstPartitions <= SAME_KEYS_TOLERANCE, "worst relative difference " + worstPartitions);
    }

    static double maxRelativeDifference(ScoreModel a, ScoreModel b, double[] z, int m) {
        double worst = 0;
        for (double t : new double[] {2e-3, 0.01, 0.1, 0.5, 2.0}) {
            double[] s1 = new double[m * 2];
            double[] s2 = new double[m * 2];
            a.score(t, z, m, s1);
            b.score(t, z, m, s2);
            for (int j = 0; j < m * 2; j++) {
                worst = Math.max(worst, Math.abs(s1[j] - s2[j]) / Math.max(1.0, Math.abs(s1[j])));
            }
        }
        return worst;
    }
}
