package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input suite of issue 5 against the CLI ({@link Main#run}) on local[2]: every case exits with
 * code 2, prints one line on stderr naming the file, the row (where there is one) and the problem, and
 * writes nothing (no output folder, no temporary sibling).
 */
class BadInputCliTest {

    static SparkSession spark;
    static final AtomicInteger JOBS = new AtomicInteger();

    @TempDir
    Path tmp;

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        spark = ItSupport.session("BadInputCliTest", ItSupport.baseConf("local[2]"));
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart jobStart) {
                JOBS.incrementAndGet();
            }
        });
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @BeforeEach
    void resetJobs() {
        JOBS.set(0);
    }

    int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), name -> spark);
    }

    /** Exit code 2, exactly one line on stderr, holding every fragment. */
    void assertBadInput(int code, String... fragments) {
        List<String> lines = err.toString().lines().collect(Collectors.toList());
        assertEquals(2, code, "exit code; stderr: " + err);
        assertEquals(1, lines.size(), "one line on stderr: " + err);
        for (String f : fragments) {
            assertTrue(lines.get(0).contains(f), "stderr lacks '" + f + "': " + err);
        }
    }

    /** Nothing under the target's name and no temporary sibling in its parent. */
    static void assertNothingWritten(Path target) throws IOException {
        assertFalse(Files.exists(target), target + " exists");
        try (Stream<Path> s = Files.list(target.getParent())) {
            List<String> temps = s.map(p -> p.getFileName().toString())
                    .filter(f -> f.startsWith("." + target.getFileName() + ".")).collect(Collectors.toList());
            assertEquals(List.of(), temps, "temporary siblings of " + target);
        }
    }

    /** 60 rows of two clusters in columns a, b, c; {@code edit} may replace data row 7's line (1-based). */
    Path csv(String name, String row7) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder("a,b,c\n");
        for (int j = 1; j <= 60; j++) {
            if (j == 7 && row7 != null) {
                sb.append(row7).append('\n');
                continue;
            }
            double a = (j % 2 == 0 ? 3 : -3) + Math.sin(j * 1.7);
            double b = Math.cos(j * 2.3) * (j % 2 == 0 ? 1 : 0.5);
            double c = Math.sin(j * 0.37) * 2;
            sb.append(String.format(Locale.ROOT, "%s,%s,%s%n", a, b, c));
        }
        Files.writeString(dir.resolve("part-0.csv"), sb.toString());
        return dir;
    }

    /** fit of a CSV input with k = 2 (unless {@code more} gives --k) and 4 levels. */
    String[] fitCsv(Path in, Path model, String... more) {
        List<String> args = new ArrayList<>(List.of("fit", "--input", in.toString(), "--format", "csv",
                "--model", model.toString(), "--levels", "4"));
        args.addAll(Arrays.asList(more));
        if (!args.contains("--k")) {
            args.addAll(List.of("--k", "2"));
        }
        return args.toArray(new String[0]);
    }

    @Test
    void infiniteValueNamesFileRowAndColumn() throws IOException {
        Path model = tmp.resolve("model");
        assertBadInput(run(fitCsv(csv("in", "1.0,Infinity,2.0"), model)), "part-0.csv", "data row 7", "column 'b' is Infinity");
        assertNothingWritten(model);
        assertBadInput(run(fitCsv(csv("in2", "1.0,2.0,-Infinity"), model)), "part-0.csv", "data row 7", "column 'c'");
        assertNothingWritten(model);
    }

    @Test
    void nanAndTextNameFileRowAndColumn() throws IOException {
        Path model = tmp.resolve("model");
        assertBadInput(run(fitCsv(csv("in", "NaN,1.0,2.0"), model)), "part-0.csv", "data row 7", "column 'a' is NaN");
        assertNothingWritten(model);
        assertBadInput(run(fitCsv(csv("in2", "1.0,abc,2.0"), model)), "part-0.csv", "data row 7", "column 'b' holds 'abc'");
        assertNothingWritten(model);
    }

    @Test
    void rowWithTooFewFieldsNamesFileAndRow() throws IOException {
        Path model = tmp.resolve("model");
        assertBadInput(run(fitCsv(csv("in", "1.0,2.0"), model)), "part-0.csv", "data row 7");
        assertNothingWritten(model);
    }

    /** Spark's permissive CSV reader would drop the extra field; fit reads a corrupt-record column to see it. */
    @Test
    void rowWithTooManyFieldsNamesFileAndRow() throws IOException {
        Path model = tmp.resolve("model");
        assertBadInput(run(fitCsv(csv("in", "1.0,2.0,3.0,4.0"), model)), "part-0.csv", "data row 7");
        assertNothingWritten(model);
    }

    @Test
    void emptyInputsExitTwo() throws IOException {
        Path model = tmp.resolve("model");
        Path headerOnly = tmp.resolve("header-only");
        Files.createDirectories(headerOnly);
        Files.writeString(headerOnly.resolve("part-0.csv"), "a,b,c\n");
        assertBadInput(run(fitCsv(headerOnly, model)), "header-only", "0 rows");
        assertNothingWritten(model);

        Path zeroBytes = tmp.resolve("zero-bytes");
        Files.createDirectories(zeroBytes);
        Files.write(zeroBytes.resolve("part-0.csv"), new byte[0]);
        assertBadInput(run(fitCsv(zeroBytes, model)), "zero-bytes");
        assertNothingWritten(model);

        Path emptyDir = tmp.resolve("empty-dir");
        Files.createDirectories(emptyDir);
        assertBadInput(run("fit", "--input", emptyDir.toString(), "--k", "2", "--model", model.toString()), "empty-dir");
        assertNothingWritten(model);
    }

    @Test
    void missingPathAndBadKExitTwo() throws IOException {
        Path model = tmp.resolve("model");
        assertBadInput(run("fit", "--input", tmp.resolve("nope").toString(), "--k", "2", "--model", model.toString()),
                "nope");
        assertNothingWritten(model);
        Path in = csv("in", null);
        assertBadInput(run(fitCsv(in, model, "--k", "0")), "k must be at least 1");
        assertBadInput(run(fitCsv(in, model, "--k", "-3")), "k must be at least 1");
        assertBadInput(run(fitCsv(in, model, "--k", "61")), "k = 61 exceeds the number of rows", "(60)");
        assertNothingWritten(model);
        assertBadInput(run(fitCsv(in, model, "--features", "a,nosuch")), "'nosuch'", "a (string)");
        assertNothingWritten(model);
    }

    /** Whitening.of's refusal of a singular covariance reaches the user as bad input (exit 2, one line). */
    @Test
    void allIdenticalRowsExitTwoNamingTheZeroCovariance() throws IOException {
        Path dir = tmp.resolve("same");
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder("a,b\n");
        for (int j = 0; j < 50; j++) {
            sb.append("1.5,-2.0\n");
        }
        Files.writeString(dir.resolve("part-0.csv"), sb.toString());
        Path model = tmp.resolve("model");
        assertBadInput(run(fitCsv(dir, model)), "same");
        assertNothingWritten(model);
        String msg = err.toString().toLowerCase(Locale.ROOT);
        assertTrue(msg.contains("covariance") || msg.contains("identical") || msg.contains("variance"), err.toString());
    }

    /**
     * Many duplicated points (95% of the rows at one place) and huge magnitudes (1e150, whose squares
     * overflow sums of moments unless the job scales) are not errors of the data: the fit must either
     * succeed with a finite, loadable model, or exit 2 with one line naming the input. It must never
     * crash (exit 1).
     */
    @Test
    void duplicatedPointsAndHugeMagnitudesFitOrExitTwo() throws IOException {
        for (String kind : List.of("duplicates", "huge")) {
            Path dir = tmp.resolve(kind);
            Files.createDirectories(dir);
            StringBuilder sb = new StringBuilder("a,b\n");
            for (int j = 0; j < 400; j++) {
                double a = (j % 2 == 0 ? 3 : -3) + Math.sin(j * 1.7);
                double b = Math.cos(j * 2.3);
                if (kind.equals("duplicates") && j % 20 != 0) {
                    a = 0.25;
                    b = 0.5;
                }
                double scale = kind.equals("huge") ? 1e150 : 1;
                sb.append(String.format(Locale.ROOT, "%s,%s%n", a * scale, b * scale));
            }
            Files.writeString(dir.resolve("part-0.csv"), sb.toString());
            Path model = tmp.resolve("model-" + kind);
            int code = run(fitCsv(dir, model));
            System.out.println("BadInputCliTest " + kind + ": exit " + code + ", stderr: " + err.toString().trim());
            if (code == 0) {
                assertTrue(Files.exists(model.resolve("model.json")), kind);
                Path samples = tmp.resolve("samples-" + kind);
                assertEquals(0, run("sample", "--model", model.toString(), "--n", "200", "--out", samples.toString(),
                        "--format", "csv", "--steps", "16"), kind + ": " + err);
                for (String line : readCsvLines(samples)) {
                    for (String v : line.split(",")) {
                        assertTrue(Double.isFinite(Double.parseDouble(v)), kind + ": sampled " + line);
                    }
                }
            } else {
                assertBadInput(code, kind);
                assertNothingWritten(model);
            }
        }
    }

    static List<String> readCsvLines(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".csv")).collect(Collectors.toList())) {
                List<String> l = Files.readAllLines(p, StandardCharsets.UTF_8);
                lines.addAll(l.subList(1, l.size()));
            }
        }
        return lines;
    }

    /** A model fitted once for the corruption cases (copied per case). */
    Path fittedModel() throws IOException {
        Path model = tmp.resolve("good-model");
        assertEquals(0, run(fitCsv(csv("good-in", null), model, "--mode", "paper")), err.toString());
        return model;
    }

    @Test
    void existingOutputIsRefusedWithoutOverwrite() throws IOException {
        Path model = fittedModel();
        long modified = Files.getLastModifiedTime(model.resolve("model.json")).toMillis();
        assertBadInput(run(fitCsv(tmp.resolve("good-in"), model)), model.getFileName().toString(), "already exists");
        assertEquals(modified, Files.getLastModifiedTime(model.resolve("model.json")).toMillis());
        Path samples = tmp.resolve("samples");
        Files.createDirectories(samples);
        Files.writeString(samples.resolve("keep.txt"), "mine");
        assertBadInput(run("sample", "--model", model.toString(), "--n", "10", "--out", samples.toString()), "already exists");
        assertEquals("mine", Files.readString(samples.resolve("keep.txt")));
    }

    @Test
    void corruptedTruncatedAndForeignModelsExitTwo() throws IOException {
        Path good = fittedModel();
        Path samples = tmp.resolve("samples");
        int m = 0;
        // coefficients.bin: one byte flipped, or cut in half; model.json: cut in half; both with and without
        // Hadoop's .crc files (without them, model.json's own checksum and JSON syntax must catch it).
        for (boolean crc : new boolean[] {true, false}) {
            for (String file : List.of("coefficients.bin", "model.json")) {
                for (String damage : List.of("flip", "truncate")) {
                    Path model = copy(good, tmp.resolve("m" + m++));
                    byte[] b = Files.readAllBytes(model.resolve(file));
                    if (damage.equals("flip")) {
                        b[b.length / 2] ^= 0x10;
                    } else {
                        b = Arrays.copyOf(b, b.length / 2);
                    }
                    Files.write(model.resolve(file), b);
                    if (!crc) {
                        Files.deleteIfExists(model.resolve("." + file + ".crc"));
                    }
                    String what = file + " " + damage + (crc ? " with crc" : " without crc");
                    int code = run("sample", "--model", model.toString(), "--n", "10", "--out", samples.toString());
                    System.out.println("BadInputCliTest " + what + ": " + err.toString().trim());
                    assertBadInput(code, model.getFileName().toString());
                    assertNothingWritten(samples);
                }
            }
        }
        // Another format version: refused by name, not by a checksum.
        Path model = copy(good, tmp.resolve("v2"));
        String json = Files.readString(model.resolve("model.json"));
        // Such a file carries its own content checksum or none: drop ours before editing.
        json = json.replaceFirst("^\\{\\n  \"content_sha256\" : \"[0-9a-f]{64}\",", "{");
        Files.writeString(model.resolve("model.json"), json.replace("scoremix.model/v1", "scoremix.model/v2"));
        Files.deleteIfExists(model.resolve(".model.json.crc"));
        assertBadInput(run("sample", "--model", model.toString(), "--n", "10", "--out", samples.toString()),
                "v2", "scoremix.model/v2", "scoremix.model/v1");
        assertNothingWritten(samples);
    }

    static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.collect(Collectors.toList())) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
        return to;
    }

    @Test
    void specWithACovarianceThatIsNotPositiveDefiniteExitsTwo() throws IOException {
        Path spec = tmp.resolve("bad-spec.json");
        Files.writeString(spec, "{\"format\": \"scoremix.gmm/v1\", \"name\": \"bad\", \"dimension\": 2, \"components\": ["
                + "{\"weight\": 0.5, \"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]},"
                + "{\"weight\": 0.5, \"mean\": [1, 1], \"covariance\": [[1, 2], [2, 1]]}]}");
        Path outDir = tmp.resolve("gen");
        assertBadInput(run("generate", "--spec", spec.toString(), "--n", "10", "--out", outDir.toString()),
                "bad-spec.json", "components[1].covariance", "positive definite");
        assertNothingWritten(outDir);
        assertEquals(0, JOBS.get(), "no Spark job before the spec is validated");
    }

    /**
     * Knobs whose accumulators cannot fit in memory (12 features, degree 8: 125,970 features per cell, a
     * Gram matrix of about 8e9 doubles) are refused naming the knobs, and nothing is written.
     */
    @Test
    void knobsTooLargeForMemoryAreRefused() throws IOException {
        Path dir = tmp.resolve("wide");
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < 12; c++) {
            sb.append(c == 0 ? "" : ",").append("x").append(c);
        }
        sb.append('\n');
        for (int j = 0; j < 80; j++) {
            for (int c = 0; c < 12; c++) {
                sb.append(c == 0 ? "" : ",").append(Math.sin(j * 1.3 + c * 0.7) + (j % 2) * 3);
            }
            sb.append('\n');
        }
        Files.writeString(dir.resolve("part-0.csv"), sb.toString());
        Path model = tmp.resolve("model");
        int code = run(fitCsv(dir, model, "--degree", "8", "--mode", "paper"));
        int jobs = JOBS.get();
        System.out.println("BadInputCliTest memory: exit " + code + " after " + jobs + " Spark jobs: " + err.toString().trim());
        assertBadInput(code, "degree");
        assertNothingWritten(model);
    }

    /**
     * Issue 5 asks for the memory check before any pass over the data. The only Spark job allowed before the
     * refusal is Spark's read of the CSV header line (the column names give d); before the check moved, fit
     * ran 3 jobs (pass 1, the crude sample, crude EM) first.
     */
    @Test
    void knobsTooLargeForMemoryAreRefusedBeforeAnyPass() throws IOException {
        knobsTooLargeForMemoryAreRefused();
        assertTrue(JOBS.get() <= 1, "Spark jobs before the memory check: " + JOBS.get());
    }
}
