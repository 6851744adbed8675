package io.scoremix.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * generate, fit and sample record every option in {@code _scoremix.json} with its effective value and its
 * source: a value from {@code --conf FILE}, one from a flag and one left at its built-in default, each also
 * checked against the setting the job actually used. One small blobs-2d data set and model serve all three.
 */
class ProvenanceSourcesTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path conf;
    static Path data;
    static Path model;

    @BeforeAll
    static void generateAndFit() throws IOException {
        spark = TestSupport.localSession("ProvenanceSourcesTest");
        conf = Files.writeString(shared.resolve("my.properties"),
                "generate.seed = 7\nfit.levels = 4\nsample.steps = 16\n");
        data = shared.resolve("data");
        model = shared.resolve("model");
        run("generate", "--conf", conf.toString(), "--spec", TestSupport.example("blobs-2d").toString(), "--n", "3000",
                "--out", data.toString(), "--partitions", "3");
        run("fit", "--conf", conf.toString(), "--input", data.toString(), "--k", "3", "--model", model.toString(),
                "--degree", "0");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static void run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(Main.OK, Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), name -> spark),
                err.toString());
    }

    static JsonNode provenance(Path dir) throws IOException {
        return JSON.readTree(dir.resolve("_scoremix.json").toFile());
    }

    static void assertOption(JsonNode provenance, String option, String value, String source) {
        JsonNode o = provenance.path("options").path(option);
        assertEquals(value, o.path("value").asText(), option + ": " + o);
        assertEquals(source, o.path("source").asText(), option + ": " + o);
    }

    @Test
    void generateRecordsConfFlagAndDefaultSources() throws IOException {
        JsonNode p = provenance(data);
        assertOption(p, "seed", "7", conf.toString());
        assertOption(p, "partitions", "3", "command line");
        assertOption(p, "format", "parquet", "built-in default");
        assertOption(p, "conf", conf.toString(), "command line");
        // The recorded values are the ones the job used.
        assertEquals(7, p.path("seed").asLong());
        assertEquals(3, p.path("partitions").asInt());
    }

    @Test
    void fitRecordsConfFlagAndDefaultSources() throws IOException {
        JsonNode p = provenance(model);
        assertOption(p, "levels", "4", conf.toString());
        assertOption(p, "degree", "0", "command line");
        assertOption(p, "k", "3", "command line");
        assertOption(p, "horizon", "6.0", "built-in default");
        assertEquals(4, p.path("settings").path("levels").asInt());
        assertEquals(0, p.path("settings").path("degree").asInt());
        JsonNode config = JSON.readTree(model.resolve("model.json").toFile()).path("config");
        assertEquals(4, config.path("levels").asInt());
        assertEquals(4, config.path("level_times").size());
    }

    @Test
    void sampleRecordsConfFlagAndDefaultSources() throws IOException {
        Path samples = shared.resolve("samples");
        run("sample", "--conf", conf.toString(), "--model", model.toString(), "--n", "500", "--out",
                samples.toString(), "--sampler", "ode");
        JsonNode p = provenance(samples);
        assertOption(p, "steps", "16", conf.toString());
        assertOption(p, "sampler", "ode", "command line");
        assertOption(p, "seed", "42", "built-in default");
        assertEquals(16, p.path("sampler").path("steps").asInt());
        assertEquals("16", p.path("sampler").path("steps_requested").asText());
        assertEquals("curvature", p.path("sampler").path("grid").asText());
        assertEquals("ode", p.path("sampler").path("method").asText());
    }

    /**
     * Without --steps (and no conf value) the step count is auto: recorded as requested, and resolved to the count
     * {@code TimeGrid.autoSteps} chooses for the model's crude mixture (d = 2: 2048 to 10,240).
     */
    @Test
    void sampleRecordsAutoAndTheResolvedSteps() throws IOException {
        Path samples = shared.resolve("samples-auto");
        run("sample", "--model", model.toString(), "--n", "200", "--out", samples.toString(), "--sampler", "ode");
        JsonNode p = provenance(samples);
        assertOption(p, "steps", "auto", "built-in default");
        JsonNode sampler = p.path("sampler");
        assertEquals("auto", sampler.path("steps_requested").asText(), sampler.toString());
        ScoreModel m = ScoreModelFormat.load(model);
        double[] dh = {sampler.path("delta").asDouble(), sampler.path("horizon").asDouble()};
        int expected = TimeGrid.autoSteps(m.crude(), dh[1], dh[0]).steps();
        assertEquals(expected, sampler.path("steps").asInt(), sampler.toString());
        assertTrue(expected >= 2048 && expected <= 10_240, sampler.toString());
        assertTrue(sampler.path("predicted_discretisation_integral").asDouble() > 0, sampler.toString());
    }
}
