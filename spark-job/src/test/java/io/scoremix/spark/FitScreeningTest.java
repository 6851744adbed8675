package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Screening of pass 2 ({@code --screen-rows}) on local[2]: 8,000 rows in 4 Parquet part files, a pilot of
 * about 2,000 of them. blobs-2d fitted with its own k = 3 keeps the plug-in everywhere (every level settles
 * on the pilot); a well-separated two-component mixture fitted with k = 1 needs the regression at some
 * levels (they see every row, and must match the unscreened fit there).
 */
class FitScreeningTest {

    static SparkSession spark;

    @TempDir
    static Path data;

    @TempDir
    Path tmp;

    static final int ROWS = 8_000;
    static final long PILOT = 2_000;

    @BeforeAll
    static void start() throws IOException {
        spark = TestSupport.localSession("FitScreeningTest");
        MixtureSpec blobs = MixtureSpec.read(TestSupport.example("blobs-2d"));
        new GenerateJob(GenerateConfig.builder().spec(blobs, "blobs-2d").n(ROWS).partitions(4).seed(13)
                .format(OutputFormat.PARQUET).output(data.resolve("blobs").toString()).build()).run(spark);
        Path twoSpec = Files.writeString(data.resolve("two.json"), "{\"format\": \"scoremix.gmm/v1\", \"name\": \"two\", "
                + "\"dimension\": 2, \"components\": ["
                + "{\"weight\": 0.5, \"mean\": [-3.0, 0.0], \"covariance\": [[1.0, 0.0], [0.0, 1.0]]}, "
                + "{\"weight\": 0.5, \"mean\": [3.0, 0.0], \"covariance\": [[1.0, 0.0], [0.0, 1.0]]}]}");
        new GenerateJob(GenerateConfig.builder().spec(MixtureSpec.read(twoSpec), "two").n(ROWS).partitions(4).seed(17)
                .format(OutputFormat.PARQUET).output(data.resolve("two").toString()).build()).run(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Default mode, 8 levels, the given degree; screening off. */
    static FitConfig config(String name, int k, int degree, Path model) {
        return FitConfig.of(data.resolve(name).toString(), k, model.toString())
                .withLearner(LearnerConfig.Mode.DEFAULT, degree, 8, 1, Double.NaN, 6.0).withScreenRows(0);
    }

    static JsonNode modelJson(Path model) throws IOException {
        return new ObjectMapper().readTree(model.resolve(ScoreModelFormat.MODEL_JSON).toFile());
    }

    static byte[] coefficients(Path model) throws IOException {
        return Files.readAllBytes(model.resolve(ScoreModelFormat.COEFFICIENTS));
    }

    /** The coefficients of one level's cell 0 from model.json and coefficients.bin, or null for the plug-in. */
    static double[] levelCoefficients(Path model, int level) throws IOException {
        JsonNode co = modelJson(model).path("levels").get(level).path("cells").get(0).path("coefficients");
        if (co.isNull()) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(coefficients(model)).order(ByteOrder.LITTLE_ENDIAN);
        double[] beta = new double[co.path("count").asInt()];
        for (int i = 0; i < beta.length; i++) {
            beta[i] = buf.getDouble(8 * (co.path("offset").asInt() + i));
        }
        return beta;
    }

    @Test
    void whenEveryLevelSettlesTheRemainingPassIsSkippedAndTheCoefficientsAreThoseOfTheFullPass() throws IOException {
        Path full = tmp.resolve("full");
        FitJob.Result unscreened = new FitJob(config("blobs", 3, 1, full)).run(spark);
        for (JsonNode level : modelJson(full).path("levels_report")) {
            assertEquals(0, level.path("fitted_cells").asInt(), "blobs-2d with k = 3 keeps the plug-in: " + level);
            assertFalse(level.path("screened").asBoolean());
            assertEquals(ROWS, level.path("rows").asLong());
        }
        assertFalse(modelJson(full).path("provenance").path("screening").path("applied").asBoolean());

        Path screened = tmp.resolve("screened");
        FitJob.Result r = new FitJob(config("blobs", 3, 1, screened).withScreenRows(PILOT)).run(spark);
        JsonNode screening = modelJson(screened).path("provenance").path("screening");
        assertTrue(screening.path("applied").asBoolean());
        assertEquals("skipped", screening.path("remaining_pass").asText());
        assertFalse(r.seconds().containsKey("score_remaining"), "no pass over the remaining rows: " + r.seconds());
        assertTrue(unscreened.seconds().containsKey("score_moments"));
        long pilot = screening.path("pilot_rows").asLong();
        // Binomial(8000, 0.25): standard deviation 38.7.
        assertTrue(Math.abs(pilot - PILOT) <= 5 * 38.7, "pilot rows " + pilot);
        for (JsonNode level : modelJson(screened).path("levels_report")) {
            assertTrue(level.path("screened").asBoolean());
            assertEquals(pilot, level.path("rows").asLong());
        }
        assertArrayEquals(coefficients(full), coefficients(screened),
                "every level keeps the plug-in either way: the same coefficient file bit for bit");
    }

    @Test
    void unsettledLevelsMatchTheFullPassAndScreeningIsDeterministic() throws IOException {
        Path full = tmp.resolve("full");
        new FitJob(config("two", 1, 3, full)).run(spark);
        Path a = tmp.resolve("a");
        new FitJob(config("two", 1, 3, a).withScreenRows(PILOT)).run(spark);
        Path b = tmp.resolve("b");
        new FitJob(config("two", 1, 3, b).withScreenRows(PILOT)).run(spark);
        assertArrayEquals(coefficients(a), coefficients(b), "same input and seed: the same coefficients bit for bit");
        assertArrayEquals(modelJson(a).path("levels_report").toString().getBytes(),
                modelJson(b).path("levels_report").toString().getBytes());

        JsonNode screening = modelJson(a).path("provenance").path("screening");
        assertEquals("ran", screening.path("remaining_pass").asText());
        long pilot = screening.path("pilot_rows").asLong();
        assertEquals(ROWS, pilot + screening.path("remaining_rows").asLong());
        JsonNode report = modelJson(a).path("levels_report");
        JsonNode fullReport = modelJson(full).path("levels_report");
        int settled = 0;
        int unsettled = 0;
        int lost = 0;
        for (int l = 0; l < report.size(); l++) {
            JsonNode level = report.get(l);
            double[] screenedBeta = levelCoefficients(a, l);
            double[] fullBeta = levelCoefficients(full, l);
            if (level.path("screened").asBoolean()) {
                settled++;
                lost += fullReport.get(l).path("fitted_cells").asInt() > 0 ? 1 : 0;
                assertEquals(pilot, level.path("rows").asLong());
                assertEquals(0, level.path("fitted_cells").asInt());
                assertNull(screenedBeta, "a settled level keeps the plug-in");
            } else {
                unsettled++;
                assertEquals(ROWS, level.path("rows").asLong());
                assertEquals(fullReport.get(l).path("fitted_cells").asInt(), level.path("fitted_cells").asInt(),
                        "level " + l + ": the same choice as the full pass");
                if (fullBeta == null) {
                    assertNull(screenedBeta, "level " + l);
                    continue;
                }
                assertClose(fullBeta, screenedBeta, l);
            }
        }
        System.out.printf("FitScreeningTest: k = 1 on two separated components: %d levels settled on %d pilot rows, "
                + "%d fitted on all %d; %d settled level(s) had a fit in the unscreened pass%n", settled, pilot, unsettled,
                ROWS, lost);
        assertTrue(unsettled > 0, "the regression must help at some level of a misspecified crude mixture");
        long fittedLevels = 0;
        for (JsonNode level : report) {
            fittedLevels += level.path("fitted_cells").asInt() > 0 ? 1 : 0;
        }
        assertTrue(fittedLevels > 0, "some unsettled level uses its regression");
    }

    /**
     * The coefficients of a level fitted on all rows against the unscreened fit's. The merged moments equal
     * the full pass's up to summation order (ScoreMomentsTest: below 1e-12 relative); the ridge solve
     * amplifies that by at most the condition number of the regularised Gram matrix of a few standardised
     * features, far below 1e4: 1e-8 relative.
     */
    static void assertClose(double[] full, double[] screened, int level) {
        assertEquals(full.length, screened.length, "level " + level);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < full.length; i++) {
            scale = Math.max(scale, Math.abs(full[i]));
            diff = Math.max(diff, Math.abs(full[i] - screened[i]));
        }
        System.out.printf("FitScreeningTest: level %d fitted on all rows, coefficients differ from the unscreened "
                + "fit's by %.3g relative%n", level, diff / scale);
        assertTrue(diff <= 1e-8 * scale, "level " + level + ": " + diff + " of " + scale);
    }

    @Test
    void aScreenedScoreSampleAndLevelGroupsKeepTheUnscreenedKeys() throws IOException {
        // Pass 2 on a score sample of about 6,000 rows, screened on about 1,500 of them.
        Path sampled = tmp.resolve("sampled");
        new FitJob(config("two", 1, 3, sampled).withScoreRows(6000)).run(spark);
        Path screened = tmp.resolve("screened");
        FitConfig screening = config("two", 1, 3, screened).withScoreRows(6000).withScreenRows(1500);
        new FitJob(screening).run(spark);
        long scoreRows = modelJson(sampled).path("provenance").path("score_rows").asLong();
        assertEquals(scoreRows, modelJson(screened).path("provenance").path("score_rows").asLong());
        JsonNode report = modelJson(screened).path("levels_report");
        int unsettled = 0;
        for (int l = 0; l < report.size(); l++) {
            if (report.get(l).path("screened").asBoolean()) {
                assertNull(levelCoefficients(screened, l));
                continue;
            }
            unsettled++;
            assertEquals(scoreRows, report.get(l).path("rows").asLong());
            double[] full = levelCoefficients(sampled, l);
            double[] part = levelCoefficients(screened, l);
            if (full == null || part == null) {
                assertEquals(full, part, "level " + l + ": the same choice as the unscreened sample");
                continue;
            }
            assertClose(full, part, l);
        }
        assertTrue(unsettled > 0, "some level needs its regression");

        // Level groups under a small memory budget (the remaining pass runs per group on its unsettled
        // levels): the same coefficients bit for bit.
        long total = modelJson(screened).path("provenance").path("score_moment_bytes").asLong();
        Path grouped = tmp.resolve("grouped");
        FitJob.Result g = new FitJob(screening.withResources(true, total / 4).withModel(grouped.toString(), false))
                .run(spark);
        assertTrue(g.levelGroups() >= 2, "groups " + g.levelGroups());
        assertArrayEquals(coefficients(screened), coefficients(grouped));
    }

    @Test
    void screeningOnlyAppliesInTheDefaultModeAndAboveThePilotSize() {
        FitJob.Fitted paper = FitJob.fit(spark, spark.read().parquet(data.resolve("two").toString()),
                config("two", 1, 3, tmp.resolve("p")).withScreenRows(PILOT)
                        .withLearner(LearnerConfig.Mode.PAPER, 1, 8, 1, Double.NaN, 6.0));
        assertEquals(false, screening(paper).get("applied"));
        FitJob.Fitted small = FitJob.fit(spark, spark.read().parquet(data.resolve("two").toString()),
                config("two", 1, 3, tmp.resolve("s")).withScreenRows(ROWS));
        assertEquals(false, screening(small).get("applied"), "8,000 score rows are not more than 8,000");
        assertEquals(FitConfig.DEFAULT_SCREEN_ROWS, FitConfig.of("x", 1, "m").screenRows());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> screening(FitJob.Fitted f) {
        return (Map<String, Object>) ((Map<String, Object>) f.metadata().get("provenance")).get("screening");
    }
}
