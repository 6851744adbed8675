package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-memory entry {@link FitJob#fit} and the test-only {@link FaultInjection}, on local[2,4] (two
 * cores, up to 4 attempts per task so that injected first-attempt failures are retried): blobs-2d, 20,000
 * rows in 4 Parquet part files.
 */
class FitDatasetTest {

    static SparkSession spark;

    @TempDir
    static Path data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        SparkConf conf = new SparkConf()
                .setMaster("local[2,4]")
                .set("spark.ui.enabled", "false")
                .set("spark.sql.shuffle.partitions", "2");
        spark = SparkSessions.getOrCreate("FitDatasetTest", conf);
        MixtureSpec spec = MixtureSpec.read(TestSupport.example("blobs-2d"));
        new GenerateJob(GenerateConfig.builder().spec(spec, "blobs-2d").n(20_000).partitions(4).seed(7)
                .format(OutputFormat.PARQUET).output(data.resolve("blobs").toString()).build()).run(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static FitConfig paper(FitConfig c) {
        return c.withLearner(LearnerConfig.Mode.PAPER, 1, 8, 1, Double.NaN, 6.0);
    }

    @Test
    void datasetEntryEqualsThePathRunAndInjectedFaultsChangeNothing() throws IOException {
        String input = data.resolve("blobs").toString();
        FitConfig files = paper(FitConfig.of(input, 3, tmp.resolve("m").toString()));
        FitJob.Result written = new FitJob(files).run(spark);
        byte[] onDisk = Files.readAllBytes(tmp.resolve("m").resolve(ScoreModelFormat.COEFFICIENTS));

        Dataset<Row> frame = FitInput.read(spark, input, InputFormat.PARQUET); // in the path run's order
        FitConfig inMemory = paper(FitConfig.forDataset("blobs frame", 3));
        FitJob.Fitted fitted = FitJob.fit(spark, frame, inMemory);
        assertEquals(written.rows(), fitted.rows());
        assertEquals(List.of("x0", "x1"), fitted.features());
        assertArrayEquals(onDisk, ScoreModelFormat.encode(fitted.model(), fitted.metadata()).coefficients(),
                "same rows in the same order and seed: the same coefficients bit for bit");

        try {
            spark.conf().set(FaultInjection.KEY, "moments:0;crude:1,2;score:*");
            FitJob.Fitted retried = FitJob.fit(spark, frame, inMemory);
            assertArrayEquals(onDisk, ScoreModelFormat.encode(retried.model(), retried.metadata()).coefficients(),
                    "retried tasks give the same coefficients");
        } finally {
            spark.conf().unset(FaultInjection.KEY);
        }
    }

    @Test
    void badRowOfADatasetNamesItsPartitionRowAndProblem() {
        Dataset<Row> frame = spark.range(0, 100, 1, 2).select(functions.col("id").cast("double").as("a"),
                functions.when(functions.col("id").equalTo(60), functions.lit(Double.NaN))
                        .otherwise(functions.col("id").multiply(0.5)).as("b"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> FitJob.fit(spark, frame, FitConfig.forDataset("my frame", 2)));
        assertTrue(e.getMessage().contains("my frame (partition 1)"), e.getMessage());
        assertTrue(e.getMessage().contains("row 11"), e.getMessage());
        assertTrue(e.getMessage().contains("column 'b' is NaN"), e.getMessage());
    }

    @Test
    void sampleWithInjectedFaultsWritesTheSameRows() throws IOException {
        String input = data.resolve("blobs").toString();
        Path model = tmp.resolve("model");
        new FitJob(FitConfig.of(input, 3, model.toString())
                .withLearner(LearnerConfig.Mode.PLUGIN, 1, 8, 1, Double.NaN, 6.0)).run(spark);
        SampleConfig plain = new SampleConfig(model.toString(), 3000, tmp.resolve("s1").toString(),
                OutputFormat.PARQUET, 3, 5, SampleConfig.DEFAULT_METHOD, 32, false);
        new SampleJob(plain).run(spark);
        try {
            spark.conf().set(FaultInjection.KEY, "sample:0,2");
            new SampleJob(new SampleConfig(model.toString(), 3000, tmp.resolve("s2").toString(),
                    OutputFormat.PARQUET, 3, 5, SampleConfig.DEFAULT_METHOD, 32, false)).run(spark);
        } finally {
            spark.conf().unset(FaultInjection.KEY);
        }
        List<Row> a = spark.read().parquet(tmp.resolve("s1").toString()).collectAsList();
        List<Row> b = spark.read().parquet(tmp.resolve("s2").toString()).collectAsList();
        assertEquals(3000, b.size());
        assertEquals(new java.util.HashSet<>(a), new java.util.HashSet<>(b));
        assertEquals(3000, new java.util.HashSet<>(b).size(), "no duplicated rows");
    }

    @Test
    void faultSpecIsParsedAndRejectedWhenMalformed() {
        FaultInjection f = FaultInjection.parse("moments:0, 3; score:*");
        assertTrue(f.targets("moments", 3));
        assertTrue(!f.targets("moments", 1));
        assertTrue(f.targets("score", 17));
        assertTrue(!f.targets("sample", 0));
        assertThrows(IllegalArgumentException.class, () -> FaultInjection.parse("moments"));
        assertThrows(IllegalArgumentException.class, () -> FaultInjection.parse("moments:x"));
    }
}
