package io.scoremix.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fit and sample through the CLI: exit codes, one-line messages naming file, row and problem, nothing written. */
class FitSampleCommandTest {

    static SparkSession spark;

    @TempDir
    Path tmp;

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("FitSampleCommandTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), name -> spark);
    }

    void assertOneErrorLine(String... fragments) {
        List<String> lines = err.toString().lines().collect(Collectors.toList());
        assertEquals(1, lines.size(), "stderr: " + err);
        for (String f : fragments) {
            assertTrue(lines.get(0).contains(f), "stderr lacks '" + f + "': " + err);
        }
    }

    /** Nothing under the model name, and no temporary sibling left in its parent. */
    void assertNothingWritten(Path target) throws IOException {
        assertFalse(Files.exists(target), target + " exists");
        try (Stream<Path> s = Files.list(target.getParent())) {
            List<String> temps = s.map(p -> p.getFileName().toString())
                    .filter(f -> f.startsWith("." + target.getFileName() + "._")).collect(Collectors.toList());
            assertEquals(List.of(), temps);
        }
    }

    /**
     * Two CSV files of 60 rows each (a, b: two clusters; c: a constant), the second with {@code bad} as
     * column b of its data row 7 when bad is not null.
     */
    Path csvInput(String bad) throws IOException {
        Path dir = tmp.resolve("in");
        Files.createDirectories(dir);
        for (int f = 0; f < 2; f++) {
            StringBuilder sb = new StringBuilder("a,b,c\n");
            for (int j = 1; j <= 60; j++) {
                double a = (j % 2 == 0 ? 3 : -3) + Math.sin(j * 1.7 + f);
                double b = Math.cos(j * 2.3 + f) * (j % 2 == 0 ? 1 : 0.5);
                String bs = f == 1 && j == 7 && bad != null ? bad : Double.toString(b);
                sb.append(String.format(Locale.ROOT, "%s,%s,1.0%n", Double.toString(a), bs));
            }
            Files.writeString(dir.resolve("part-" + f + ".csv"), sb.toString());
        }
        return dir;
    }

    @Test
    void fitsAndSamplesThroughTheCli() throws IOException {
        Path in = csvInput(null);
        Path model = tmp.resolve("model");
        assertEquals(0, run("fit", "--input", in.toString(), "--format", "csv", "--features", "a,b", "--k", "2",
                "--model", model.toString(), "--levels", "4"), err.toString());
        assertTrue(out.toString().contains("fit: 120 rows x 2 features [a, b], k = 2"), out.toString());
        assertTrue(out.toString().contains("val.loss fit"), out.toString());
        assertTrue(Files.exists(model.resolve("model.json")) && Files.exists(model.resolve("_scoremix.json")));
        Path samples = tmp.resolve("samples");
        assertEquals(0, run("sample", "--model", model.toString(), "--n", "100", "--out", samples.toString(),
                "--format", "csv", "--steps", "32", "--partitions", "2"), err.toString());
        assertTrue(out.toString().contains("sample: wrote 100 rows x 2 columns [a, b] (csv)"), out.toString());

        // An existing model is refused without --overwrite and left as it was.
        long modified = Files.getLastModifiedTime(model.resolve("model.json")).toMillis();
        err.getBuffer().setLength(0);
        assertEquals(2, run("fit", "--input", in.toString(), "--format", "csv", "--features", "a,b", "--k", "2",
                "--model", model.toString(), "--levels", "4"));
        assertOneErrorLine("already exists (pass --overwrite to replace it)");
        assertEquals(modified, Files.getLastModifiedTime(model.resolve("model.json")).toMillis());

        // A corrupted model is refused by sample with the format's message.
        Files.write(model.resolve("coefficients.bin"), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        err.getBuffer().setLength(0);
        Path more = tmp.resolve("more");
        assertEquals(2, run("sample", "--model", model.toString(), "--n", "10", "--out", more.toString()));
        assertOneErrorLine("coefficients.bin is corrupted");
        assertNothingWritten(more);
        // Without Hadoop's CRC file beside it, model.json's own length and SHA-256 catch it.
        Files.delete(model.resolve(".coefficients.bin.crc"));
        err.getBuffer().setLength(0);
        assertEquals(2, run("sample", "--model", model.toString(), "--n", "10", "--out", more.toString()));
        assertOneErrorLine("coefficients.bin", "truncated or does not belong to this model");
        assertNothingWritten(more);
    }

    @Test
    void readsOrcAndJsonAndSkipsTextColumnsByDefault() throws IOException {
        Path in = csvInput(null);
        org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> frame = spark.read().option("header", "true")
                .option("inferSchema", "true").csv(in.toString()).drop("c")
                .withColumn("label", org.apache.spark.sql.functions.lit("text"));
        for (String format : List.of("orc", "json")) {
            Path data = tmp.resolve(format);
            frame.write().format(format).save(data.toString());
            Path model = tmp.resolve("model-" + format);
            out.getBuffer().setLength(0);
            assertEquals(0, run("fit", "--input", data.toString(), "--format", format, "--k", "2", "--model",
                    model.toString(), "--levels", "4"), err.toString());
            assertTrue(out.toString().contains("fit: 120 rows x 2 features [a, b], k = 2"), out.toString());
        }
        err.getBuffer().setLength(0);
        assertEquals(2, run("fit", "--input", tmp.resolve("orc").toString(), "--format", "orc", "--features", "a,label",
                "--k", "2", "--model", tmp.resolve("m").toString()));
        assertOneErrorLine("orc", "column 'label' holds 'text', not a number");
    }

    @Test
    void missingFeatureColumnExitsTwoNamingItAndTheAvailableOnes() throws IOException {
        Path in = csvInput(null);
        Path model = tmp.resolve("model");
        assertEquals(2, run("fit", "--input", in.toString(), "--format", "csv", "--features", "a,zz", "--k", "2",
                "--model", model.toString()));
        assertOneErrorLine("feature column 'zz' is not in the input", "a (string), b (string), c (string)");
        assertNothingWritten(model);
    }

    @Test
    void nanInARowExitsTwoNamingFileRowAndColumn() throws IOException {
        Path in = csvInput("NaN");
        Path model = tmp.resolve("model");
        assertEquals(2, run("fit", "--input", in.toString(), "--format", "csv", "--k", "2", "--model", model.toString()));
        assertOneErrorLine("part-1.csv", "data row 7 (line 8)", "column 'b' is NaN");
        assertNothingWritten(model);
    }

    @Test
    void textInARowExitsTwoNamingFileRowAndValue() throws IOException {
        Path in = csvInput("n/a");
        Path model = tmp.resolve("model");
        assertEquals(2, run("fit", "--input", in.toString(), "--format", "csv", "--k", "2", "--model", model.toString()));
        assertOneErrorLine("part-1.csv", "data row 7 (line 8)", "column 'b' holds 'n/a', not a number");
        assertNothingWritten(model);
    }

    @Test
    void kAboveTheRowCountExitsTwo() throws IOException {
        Path in = csvInput(null);
        Path model = tmp.resolve("model");
        assertEquals(2, run("fit", "--input", in.toString(), "--format", "csv", "--k", "500", "--model", model.toString()));
        assertOneErrorLine("k = 500 exceeds the number of rows", "(120)");
        assertNothingWritten(model);
    }

    @Test
    void missingInputAndModelExitTwo() throws IOException {
        Path model = tmp.resolve("model");
        assertEquals(2, run("fit", "--input", tmp.resolve("nope").toString(), "--k", "2", "--model", model.toString()));
        assertOneErrorLine("cannot read the input", "nope");
        assertNothingWritten(model);
        err.getBuffer().setLength(0);
        Path samples = tmp.resolve("s");
        assertEquals(2, run("sample", "--model", tmp.resolve("no-model").toString(), "--n", "5", "--out", samples.toString()));
        assertOneErrorLine("model not found", "no-model");
        assertNothingWritten(samples);
    }

    @Test
    void badOptionsExitTwoBeforeAnySparkWork() {
        assertEquals(2, run("fit", "--input", "x", "--k", "0", "--model", tmp.resolve("m").toString()));
        assertOneErrorLine("k must be at least 1 (got 0)");
        err.getBuffer().setLength(0);
        assertEquals(2, run("fit", "--input", "x", "--k", "2", "--model", "m", "--format", "xml"));
        assertOneErrorLine("unknown input format 'xml'");
        err.getBuffer().setLength(0);
        assertEquals(2, run("fit", "--input", "x", "--k", "2", "--model", "m", "--degree", "9"));
        assertOneErrorLine("degree must be in 0..8, got 9");
        err.getBuffer().setLength(0);
        assertEquals(2, run("sample", "--model", "m", "--n", "5", "--out", "o", "--sampler", "euler"));
        assertOneErrorLine("unknown sampler 'euler'");
    }
}
