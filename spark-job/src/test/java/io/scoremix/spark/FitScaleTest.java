package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fit job's scale features on local[2], blobs-2d (20,000 rows in 4 Parquet part files): the
 * distributed crude EM, level groups under a small memory budget, a Spark ML vector column, and
 * {@code --bad-rows skip}.
 */
class FitScaleTest {

    static SparkSession spark;

    @TempDir
    static Path data;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        spark = TestSupport.localSession("FitScaleTest");
        MixtureSpec spec = MixtureSpec.read(TestSupport.example("blobs-2d"));
        new GenerateJob(GenerateConfig.builder().spec(spec, "blobs-2d").n(20_000).partitions(4).seed(11)
                .format(OutputFormat.PARQUET).output(data.resolve("blobs").toString()).build()).run(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static String blobs() {
        return data.resolve("blobs").toString();
    }

    static FitConfig quick(String input, Path model) {
        return FitConfig.of(input, 3, model.toString()).withLearner(LearnerConfig.Mode.PAPER, 1, 8, 1, Double.NaN, 6.0);
    }

    static byte[] coefficients(Path model) throws IOException {
        return Files.readAllBytes(model.resolve(ScoreModelFormat.COEFFICIENTS));
    }

    @Test
    void distributedCrudeEmRaisesTheLikelihoodOfAllRowsAndIsDeterministic() throws IOException {
        // A driver sample of about 1,500 rows: the EM over all 20,000 rows must then improve the fit.
        FitConfig base = quick(blobs(), tmp.resolve("none")).withAggregation(1500, 2).withCrudeIterations(0);
        FitJob.Fitted sampleOnly = FitJob.fit(spark, FitInput.read(spark, blobs(), InputFormat.PARQUET), base);
        FitConfig em = base.withCrudeIterations(FitConfig.DEFAULT_CRUDE_ITERATIONS);
        FitJob.Fitted refined = FitJob.fit(spark, FitInput.read(spark, blobs(), InputFormat.PARQUET), em);
        double before = allRowsMeanLogLik(sampleOnly);
        double after = allRowsMeanLogLik(refined);
        System.out.printf("FitScaleTest: crude mean log-likelihood of all rows: sample only %.6f, after %d "
                + "distributed EM iterations %.6f%n", before, refined.crude().finalIterations()
                - sampleOnly.crude().finalIterations(), after);
        assertTrue(refined.crude().finalIterations() > sampleOnly.crude().finalIterations(), "EM ran");
        assertTrue(after >= before, "EM over all rows cannot lower their likelihood: " + before + " -> " + after);
        assertEquals(after, refined.crude().meanLogLikelihood(), 1e-9, "the reported likelihood is of all rows");

        FitJob.Result a = new FitJob(em.withModel(tmp.resolve("a").toString(), false)).run(spark);
        FitJob.Result b = new FitJob(em.withModel(tmp.resolve("b").toString(), false)).run(spark);
        assertArrayEquals(coefficients(tmp.resolve("a")), coefficients(tmp.resolve("b")));
        assertEquals(a.rows(), b.rows());
        assertArrayEquals(coefficients(tmp.resolve("a")),
                ScoreModelFormat.encode(refined.model(), refined.metadata()).coefficients(),
                "the Dataset entry and the path run give the same model");
        // The same without the cache: every pass reads the files again.
        new FitJob(em.withResources(false, FitConfig.DEFAULT_MEMORY_BUDGET).withModel(tmp.resolve("c").toString(),
                false)).run(spark);
        assertArrayEquals(coefficients(tmp.resolve("a")), coefficients(tmp.resolve("c")));
    }

    @Test
    void scoreSampleIsDeterministicAndHasAboutTheAskedRows() throws IOException {
        FitConfig c = quick(blobs(), tmp.resolve("s1")).withScoreRows(8000);
        new FitJob(c).run(spark);
        new FitJob(c.withModel(tmp.resolve("s2").toString(), false)).run(spark);
        assertArrayEquals(coefficients(tmp.resolve("s1")), coefficients(tmp.resolve("s2")));
        new FitJob(quick(blobs(), tmp.resolve("all"))).run(spark);
        assertTrue(!java.util.Arrays.equals(coefficients(tmp.resolve("s1")), coefficients(tmp.resolve("all"))),
                "a sample of the rows gives another model");
        com.fasterxml.jackson.databind.JsonNode prov = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(tmp.resolve("s1").resolve(ScoreModelFormat.MODEL_JSON).toFile()).path("provenance");
        long used = prov.path("score_rows").asLong();
        // Binomial(20000, 0.4): standard deviation 69.
        assertTrue(Math.abs(used - 8000) <= 5 * 69, "score rows " + used);
    }

    /** The crude mixture's mean log-likelihood over every row of the input. */
    static double allRowsMeanLogLik(FitJob.Fitted fitted) {
        List<Row> rows = spark.read().parquet(blobs()).collectAsList();
        double[] x = new double[rows.size() * 2];
        for (int j = 0; j < rows.size(); j++) {
            x[2 * j] = rows.get(j).getDouble(0);
            x[2 * j + 1] = rows.get(j).getDouble(1);
        }
        double[] out = new double[rows.size()];
        fitted.crude().mixture().logDensity(x, rows.size(), out);
        double s = 0;
        for (double v : out) {
            s += v;
        }
        return s / rows.size();
    }

    @Test
    void levelGroupsUnderASmallBudgetGiveTheOnePassModel() throws IOException {
        FitConfig onePass = quick(blobs(), tmp.resolve("one")).withLearner(LearnerConfig.Mode.DEFAULT, 2, 12, 1,
                Double.NaN, 6.0);
        FitJob.Result one = new FitJob(onePass).run(spark);
        assertEquals(1, one.levelGroups());
        // A budget of about a quarter of all levels' accumulators.
        FitJob.Fitted probe = FitJob.fit(spark, spark.read().parquet(blobs()), onePass);
        @SuppressWarnings("unchecked")
        Map<String, Object> provenance = (Map<String, Object>) probe.metadata().get("provenance");
        long total = ((Number) provenance.get("score_moment_bytes")).longValue();
        long budget = total / 4;
        FitJob.Result grouped = new FitJob(onePass.withResources(true, budget).withModel(tmp.resolve("grouped")
                .toString(), false)).run(spark);
        System.out.printf("FitScaleTest: budget %d of %d bytes: %d level groups%n", budget, total,
                grouped.levelGroups());
        assertTrue(grouped.levelGroups() >= 4, "groups " + grouped.levelGroups());
        assertArrayEquals(coefficients(tmp.resolve("one")), coefficients(tmp.resolve("grouped")),
                "one pass per level group gives the one-pass moments exactly");
        String prov = Files.readString(tmp.resolve("grouped").resolve(ScoreModelFormat.MODEL_JSON));
        assertTrue(prov.contains("\"level_groups\""), "provenance lists the groups");

        BadInputException e = assertThrows(BadInputException.class, () -> new FitJob(onePass.withResources(true,
                total / 200).withModel(tmp.resolve("tiny").toString(), false)).run(spark));
        assertTrue(e.getMessage().contains("memory budget"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("tiny")));
    }

    @Test
    void vectorColumnGivesTheModelOfTheNumericColumns() throws IOException {
        // One file each, written from the same rows: the same read order, hence the same row keys.
        Dataset<Row> numeric = spark.read().parquet(blobs()).coalesce(1);
        Path columns = tmp.resolve("columns");
        Path vectors = tmp.resolve("vectors");
        numeric.write().parquet(columns.toString());
        new VectorAssembler().setInputCols(new String[] {"x0", "x1"}).setOutputCol("features").transform(numeric)
                .select("features").write().parquet(vectors.toString());
        new FitJob(quick(columns.toString(), tmp.resolve("m-numeric"))).run(spark);
        FitJob.Result r = new FitJob(quick(vectors.toString(), tmp.resolve("m-vector")).withVectorColumn("features"))
                .run(spark);
        assertEquals(List.of("features_0", "features_1"), r.features());
        assertEquals(20_000, r.rows());
        assertArrayEquals(coefficients(tmp.resolve("m-numeric")), coefficients(tmp.resolve("m-vector")));

        BadInputException e = assertThrows(BadInputException.class, () -> new FitJob(quick(blobs(),
                tmp.resolve("m-bad")).withVectorColumn("x0")).run(spark));
        assertTrue(e.getMessage().contains("must be a Spark ML vector"), e.getMessage());
    }

    @Test
    void skippedBadRowsAreCountedPerKindAndTheRestFitsAsTheCleanFile() throws IOException {
        List<Row> rows = spark.read().parquet(blobs()).limit(4000).collectAsList();
        List<String> clean = new ArrayList<>(List.of("x0,x1,w"));
        List<String> dirty = new ArrayList<>(List.of("x0,x1,w"));
        for (int j = 0; j < rows.size(); j++) {
            String line = rows.get(j).getDouble(0) + "," + rows.get(j).getDouble(1) + ",1";
            clean.add(line);
            dirty.add(line);
            switch (j % 500) {
                case 7 -> dirty.add("NaN,1.0,1");
                case 8 -> dirty.add("abc,1.0,1");
                case 9 -> dirty.add(",1.0,1");
                case 10 -> dirty.add("1.0,2.0,-3");
                default -> { }
            }
        }
        Path cleanCsv = tmp.resolve("clean.csv");
        Path dirtyCsv = tmp.resolve("dirty.csv");
        Files.write(cleanCsv, clean, StandardCharsets.UTF_8);
        Files.write(dirtyCsv, dirty, StandardCharsets.UTF_8);
        FitConfig c = quick(cleanCsv.toString(), tmp.resolve("m-clean")).withFormat(InputFormat.CSV)
                .withWeightColumn("w");
        new FitJob(c).run(spark);
        BadInputException e = assertThrows(BadInputException.class, () -> new FitJob(quick(dirtyCsv.toString(),
                tmp.resolve("m-fail")).withFormat(InputFormat.CSV).withWeightColumn("w")).run(spark));
        assertTrue(e.getMessage().contains("dirty.csv: data row 9 (line 10): column 'x0' is NaN"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("m-fail")));

        FitJob.Result r = new FitJob(quick(dirtyCsv.toString(), tmp.resolve("m-skip")).withFormat(InputFormat.CSV)
                .withWeightColumn("w").withBadRows(FitConfig.BadRows.SKIP)).run(spark);
        assertEquals(4000, r.rows());
        assertEquals(Map.of("not_finite", 8L, "not_a_number", 8L, "empty", 8L, "bad_weight", 8L), r.skippedRows());
        assertArrayEquals(coefficients(tmp.resolve("m-clean")), coefficients(tmp.resolve("m-skip")),
                "skipped rows take no row key: the rest fit exactly as the clean file");
        String prov = Files.readString(tmp.resolve("m-skip").resolve("_scoremix.json"));
        assertTrue(prov.contains("skipped_rows") && prov.contains("bad_weight"), prov);
    }
}
