package io.scoremix.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate, score, demo and --conf through the CLI on local[2]: one blobs-2d model fitted on 20,000 rows
 * serves every test; metrics are checked against properties with tolerances from their standard errors.
 */
class EvaluateScoreDemoCommandTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path model;
    static Path truthFile;

    @TempDir
    Path tmp;

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeAll
    static void fitOnce() {
        spark = TestSupport.localSession("EvaluateScoreDemoCommandTest");
        truthFile = TestSupport.example("blobs-2d");
        Path data = shared.resolve("data");
        model = shared.resolve("model");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        assertEquals(0, Main.run(new String[] {"generate", "--spec", truthFile.toString(), "--n", "20000", "--out",
                data.toString()}, new PrintWriter(o, true), new PrintWriter(e, true), name -> spark), e.toString());
        assertEquals(0, Main.run(new String[] {"fit", "--input", data.toString(), "--k", "3", "--model", model.toString()},
                new PrintWriter(o, true), new PrintWriter(e, true), name -> spark), e.toString());
        assertTrue(o.toString().contains("fit: report "), o.toString());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), name -> spark);
    }

    static JsonNode metric(Path evaluation, String name) throws IOException {
        return JSON.readTree(evaluation.resolve("evaluation.json").toFile()).path("metrics").path(name);
    }

    void assertOneErrorLine(String... fragments) {
        List<String> lines = err.toString().lines().collect(Collectors.toList());
        assertEquals(1, lines.size(), "stderr: " + err);
        for (String f : fragments) {
            assertTrue(lines.get(0).contains(f), "stderr lacks '" + f + "': " + err);
        }
    }

    static void assertNothingWritten(Path target) throws IOException {
        assertFalse(Files.exists(target), target + " exists");
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString())
                    .filter(f -> f.startsWith("." + target.getFileName() + "._")).collect(Collectors.toList()));
        }
    }

    @Test
    void fitWroteItsReport() throws IOException {
        String html = Files.readString(model.resolve("report.html"));
        assertTrue(html.contains("validation loss per level"), "level-loss chart");
        assertTrue(html.contains("top two principal directions"), "scatter");
        assertTrue(html.contains("marginal of x1"), "histograms");
        JsonNode r = JSON.readTree(model.resolve("report.json").toFile());
        assertEquals(20000, r.path("rows").asLong());
        // 20,000 rows are fewer than the default pilot: no screening, every level saw every row.
        assertFalse(r.path("screening").path("applied").asBoolean(true), r.path("screening").toString());
        assertTrue(r.path("levels").size() > 0);
        for (JsonNode level : r.path("levels")) {
            assertFalse(level.path("screened").asBoolean(true));
            assertEquals(20000, level.path("rows").asLong());
        }
        // The model is still a valid model folder with the report beside it.
        assertEquals(2, ScoreModelFormat.load(model).dimension());
    }

    @Test
    void evaluateModelAgainstTheTruth() throws IOException {
        Path ev = tmp.resolve("eval");
        assertEquals(0, run("evaluate", "--model", model.toString(), "--truth", truthFile.toString(), "--out", ev.toString(),
                "--n", "10000", "--density-points", "2000", "--bound-paths", "500"), err.toString());
        assertTrue(out.toString().contains("tv_exact"), out.toString());
        JsonNode tv = metric(ev, "tv_exact");
        double tvSe = tv.path("standard_error").asDouble();
        assertTrue(tvSe <= 0.5 / Math.sqrt(2000) + 1e-12);
        // Measured: ODE model TV ~0.03 at n = 20,000 (0.011 at 50,000 in core-math's ModelDensity test).
        assertTrue(tv.path("value").asDouble() < 0.08, tv.toString());
        JsonNode crude = metric(ev, "crude_tv_exact");
        assertTrue(crude.path("value").asDouble() < 0.06, crude.toString());
        // KL(p || q) >= 0 up to its Monte Carlo error, and E_p[log q] <= E_p[log p] accordingly.
        JsonNode kl = metric(ev, "kl_truth_to_model");
        assertTrue(kl.path("value").asDouble() > -3 * kl.path("standard_error").asDouble(), kl.toString());
        // Lower bounds on the sampler's TV stay below its certified upper bound (all up to 2 standard errors).
        JsonNode upper = metric(ev, "certified_tv_upper");
        double up = upper.path("value").asDouble() + 2 * upper.path("standard_error").asDouble();
        assertTrue(up < 0.5, upper.toString());
        // Default steps: auto, resolved once; the bound certifies the grid that drew the samples (blobs-2d: d = 2,
        // so 2048 to 10,240 steps), and both the request and the resolved count are recorded.
        JsonNode evaluation = JSON.readTree(ev.resolve("evaluation.json").toFile());
        assertEquals("auto", evaluation.path("config").path("steps").asText(), evaluation.toString());
        JsonNode drawn = evaluation.path("samples").path("sampler");
        assertEquals("auto", drawn.path("steps_requested").asText(), drawn.toString());
        assertEquals("auto", upper.path("steps_requested").asText(), upper.toString());
        assertEquals(drawn.path("steps").asInt(), upper.path("steps").asInt(), upper.toString());
        int steps = upper.path("steps").asInt();
        assertTrue(steps >= 2048 && steps <= 10_240, upper.toString());
        assertTrue(evaluation.path("samples").path("source").asText().contains(steps + " steps (auto)"),
                evaluation.path("samples").toString());
        for (String lower : List.of("projection_tv_lower", "classifier_tv_lower")) {
            JsonNode l = metric(ev, lower);
            assertTrue(l.path("conservative").asDouble() <= up, lower + " " + l + " above " + upper);
        }
        JsonNode c2 = metric(ev, "classifier_tv_lower");
        assertEquals(0.5, c2.path("accuracy").asDouble(), 0.5 * up + 3 * c2.path("standard_error").asDouble(), c2.toString());
        String html = Files.readString(ev.resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("certified_tv_upper"));
        String prov = Files.readString(ev.resolve("_scoremix.json"));
        assertTrue(prov.contains("\"command\" : \"evaluate\"") && prov.contains("\"bound-paths\""), prov);
    }

    @Test
    void evaluateSamplesAndModelAgainstTestData() throws IOException {
        Path test = tmp.resolve("test");
        Path samples = tmp.resolve("samples");
        assertEquals(0, run("generate", "--spec", truthFile.toString(), "--n", "6000", "--seed", "99", "--out", test.toString(),
                "--format", "csv"), err.toString());
        assertEquals(0, run("sample", "--model", model.toString(), "--n", "6000", "--out", samples.toString()), err.toString());
        Path ev = tmp.resolve("eval-samples");
        assertEquals(0, run("evaluate", "--samples", samples.toString(), "--test", test.toString(), "--test-format", "csv",
                "--out", ev.toString()), err.toString());
        JsonNode c2 = metric(ev, "classifier_tv_lower");
        // 3000 held out per side: se ~0.0065; a good model is close to chance.
        assertTrue(c2.path("accuracy").asDouble() < 0.5 + 0.04 + 3 * c2.path("standard_error").asDouble(), c2.toString());
        assertTrue(metric(ev, "tv_exact").isMissingNode(), "no density without a model");

        Path ev2 = tmp.resolve("eval-model-test");
        assertEquals(0, run("evaluate", "--model", model.toString(), "--test", test.toString(), "--test-format", "csv",
                "--out", ev2.toString(), "--n", "3000", "--density-points", "1500"), err.toString());
        JsonNode ll = metric(ev2, "heldout_log_likelihood");
        JsonNode crude = metric(ev2, "crude_heldout_log_likelihood");
        // The truth's mean log-density (its negative entropy) bounds both from above; the model is close to
        // the crude mixture, which is within TV 0.01 of the truth on blobs-2d.
        assertTrue(Double.isFinite(ll.path("value").asDouble()));
        assertEquals(crude.path("value").asDouble(), ll.path("value").asDouble(),
                0.1 + 3 * ll.path("standard_error").asDouble(), ll + " vs crude " + crude);
    }

    @Test
    void evaluateBadInputExitsTwoAndWritesNothing() throws IOException {
        Path ev = tmp.resolve("eval");
        assertEquals(2, run("evaluate", "--truth", truthFile.toString(), "--out", ev.toString()));
        assertOneErrorLine("give exactly one of --model and --samples");
        err.getBuffer().setLength(0);
        assertEquals(2, run("evaluate", "--model", model.toString(), "--out", ev.toString()));
        assertOneErrorLine("give exactly one of --truth and --test");
        // A truth of another dimension than the model.
        err.getBuffer().setLength(0);
        assertEquals(2, run("evaluate", "--model", model.toString(), "--truth",
                TestSupport.example("general-10d").toString(), "--out", ev.toString(), "--n", "100",
                "--density-points", "0", "--bound-paths", "0"));
        assertOneErrorLine("has dimension 10", "[x0, x1]");
        assertNothingWritten(ev);
        // A bad row in the test data names its file and row, as in fit.
        Path test = Files.createDirectories(tmp.resolve("test"));
        Files.writeString(test.resolve("part-3.csv"), "x0,x1\n1,2\n3,Infinity\n");
        err.getBuffer().setLength(0);
        assertEquals(2, run("evaluate", "--model", model.toString(), "--test", test.toString(), "--test-format", "csv",
                "--out", ev.toString(), "--n", "100"));
        assertOneErrorLine("part-3.csv", "data row 2 (line 3)", "column 'x1' is Infinity");
        assertNothingWritten(ev);
    }

    @Test
    void scoreGivesTheCrudeClosedFormAndTheOdeDensity() throws IOException {
        Path test = tmp.resolve("rows");
        assertEquals(0, run("generate", "--spec", truthFile.toString(), "--n", "2000", "--seed", "7", "--out", test.toString(),
                "--format", "csv"), err.toString());
        Path scored = tmp.resolve("scored");
        assertEquals(0, run("score", "--model", model.toString(), "--input", test.toString(), "--format", "csv",
                "--out", scored.toString(), "--steps", "50"), err.toString());
        assertTrue(out.toString().contains("score: wrote 2000 rows x 7 columns [x0, x1, log_density_crude, posterior_0, "
                + "posterior_1, posterior_2, log_density]"), out.toString());
        List<Row> rows = spark.read().parquet(scored.toString()).collectAsList();
        assertEquals(2000, rows.size());
        ScoreModel sm = ScoreModelFormat.load(model);
        GaussianMixture crude = sm.whitening().fromWhitened(sm.crude());
        GaussianMixture truth = MixtureSpec.read(truthFile).mixture();
        double sumGap = 0;
        for (Row r : rows) {
            double[] x = {r.getDouble(0), r.getDouble(1)};
            assertEquals(crude.logDensity(x), r.getDouble(2), 1e-9 * (1 + Math.abs(r.getDouble(2))));
            double[] post = new double[3];
            crude.posteriors(x, 1, post);
            double total = 0;
            for (int i = 0; i < 3; i++) {
                assertEquals(post[i], r.getDouble(3 + i), 1e-12);
                total += r.getDouble(3 + i);
            }
            assertEquals(1.0, total, 1e-12);
            sumGap += truth.logDensity(x) - r.getDouble(6);
        }
        // Mean of log p - log q over truth draws estimates KL(p || q) >= 0, small for a good model.
        double kl = sumGap / rows.size();
        assertTrue(kl > -0.05 && kl < 0.1, "KL estimate " + kl);
    }

    @Test
    void scoreBadRowExitsTwoNamingFileRowAndProblem() throws IOException {
        Path in = tmp.resolve("bad");
        Files.createDirectories(in);
        StringBuilder sb = new StringBuilder("x0,x1\n");
        for (int j = 1; j <= 20; j++) {
            sb.append(j * 0.1).append(',').append(j == 5 ? "abc" : Double.toString(-j * 0.05)).append('\n');
        }
        Files.writeString(in.resolve("part-0.csv"), sb.toString());
        Path scored = tmp.resolve("scored");
        assertEquals(2, run("score", "--model", model.toString(), "--input", in.toString(), "--format", "csv",
                "--out", scored.toString()));
        assertOneErrorLine("part-0.csv", "data row 5 (line 6)", "column 'x1' holds 'abc', not a number");
        assertNothingWritten(scored);
        err.getBuffer().setLength(0);
        assertEquals(2, run("score", "--model", tmp.resolve("nope").toString(), "--input", in.toString(), "--out",
                scored.toString()));
        assertOneErrorLine("model not found");
    }

    @Test
    void confFileOverridesDefaultsAndFlagsOverrideIt() throws IOException {
        Path in = tmp.resolve("rows");
        assertEquals(0, run("generate", "--spec", truthFile.toString(), "--n", "200", "--out", in.toString()), err.toString());
        Path conf = Files.writeString(tmp.resolve("my.properties"), "score.steps = 0\nscore.output-format = csv\n");
        Path a = tmp.resolve("a");
        assertEquals(0, run("score", "--conf", conf.toString(), "--model", model.toString(), "--input", in.toString(),
                "--out", a.toString()), err.toString());
        List<String> header = Files.list(a).filter(p -> p.toString().endsWith(".csv")).findFirst()
                .map(p -> {
                    try {
                        return Files.readAllLines(p).get(0);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }).stream().collect(Collectors.toList());
        assertEquals(List.of("x0,x1,log_density_crude,posterior_0,posterior_1,posterior_2"), header);
        JsonNode opts = JSON.readTree(a.resolve("_scoremix.json").toFile()).path("options");
        assertEquals(0, opts.path("steps").path("value").asInt());
        assertEquals(conf.toString(), opts.path("steps").path("source").asText());
        assertEquals("command line", opts.path("model").path("source").asText());
        assertEquals("built-in default", opts.path("overwrite").path("source").asText());

        Path b = tmp.resolve("b");
        assertEquals(0, run("score", "--conf=" + conf, "--model", model.toString(), "--input", in.toString(),
                "--out", b.toString(), "--steps", "20"), err.toString());
        opts = JSON.readTree(b.resolve("_scoremix.json").toFile()).path("options");
        assertEquals(20, opts.path("steps").path("value").asInt());
        assertEquals("command line", opts.path("steps").path("source").asText());
        assertEquals("csv", opts.path("output-format").path("value").asText());

        err.getBuffer().setLength(0);
        assertEquals(2, run("score", "--conf", tmp.resolve("missing.properties").toString(), "--model", model.toString(),
                "--input", in.toString(), "--out", tmp.resolve("c").toString()));
        assertOneErrorLine("configuration file not found", "missing.properties");
    }

    @Test
    void demoRunsEndToEndAndRefusesForeignFolders() throws IOException {
        Path dir = tmp.resolve("demo");
        assertEquals(0, run("demo", "--out", dir.toString(), "--example", truthFile.toString(), "--n", "3000"), err.toString());
        assertTrue(out.toString().contains("demo: open "), out.toString());
        for (String f : List.of("index.html", "demo.json", "model/report.html", "evaluation/report.html",
                "evaluation/evaluation.json", "samples/_scoremix.json", "data/_scoremix.json")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        JsonNode summary = JSON.readTree(dir.resolve("demo.json").toFile());
        assertTrue(summary.path("tv_exact_ode").asDouble() < 0.2, summary.toString());

        Path foreign = Files.createDirectories(tmp.resolve("foreign"));
        Files.writeString(foreign.resolve("keep.txt"), "mine");
        err.getBuffer().setLength(0);
        assertEquals(2, run("demo", "--out", foreign.toString(), "--example", truthFile.toString()));
        assertOneErrorLine("refusing to write the demo into", "foreign");
        assertEquals(List.of("keep.txt"), Files.list(foreign).map(p -> p.getFileName().toString()).collect(Collectors.toList()));
    }
}
