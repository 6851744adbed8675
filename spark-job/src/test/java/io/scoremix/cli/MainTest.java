package io.scoremix.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.io.SpecFormatException;
import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process: exit codes, one-line messages, nothing written on bad input. */
class MainTest {

    static SparkSession spark;

    @TempDir
    Path tmp;

    /** How many times a command asked for a Spark session. */
    final AtomicInteger sessionRequests = new AtomicInteger();
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("MainTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), name -> {
            sessionRequests.incrementAndGet();
            return spark;
        });
    }

    String example() {
        return TestSupport.example("blobs-2d").toString();
    }

    List<String> errLines() {
        return err.toString().lines().collect(Collectors.toList());
    }

    void assertOneErrorLine(String... fragments) {
        List<String> lines = errLines();
        assertEquals(1, lines.size(), "stderr: " + err);
        for (String f : fragments) {
            assertTrue(lines.get(0).contains(f), "stderr lacks '" + f + "': " + err);
        }
    }

    @Test
    void generatesAndPrintsASummary() {
        Path dir = tmp.resolve("ok");
        assertEquals(0, run("generate", "--spec", example(), "--n", "1000", "--out", dir.toString(), "--format", "csv"));
        assertTrue(Files.exists(dir.resolve("_scoremix.json")));
        assertTrue(out.toString().contains("wrote 1000 rows x 2 columns (csv)"), out.toString());
        assertEquals(1, sessionRequests.get());
    }

    @Test
    void badSpecExitsTwoWithTheSpecMessageBeforeAnySparkWork() throws IOException {
        Path spec = tmp.resolve("not-pd.json");
        Files.writeString(spec, "{\"format\":\"scoremix.gmm/v1\",\"name\":\"bad\",\"dimension\":2,\"components\":["
                + "{\"weight\":1.0,\"mean\":[0,0],\"covariance\":[[1,2],[2,1]]}]}");
        String expected = assertThrows(SpecFormatException.class, () -> MixtureSpec.read(spec)).getMessage();
        Path dir = tmp.resolve("out");
        assertEquals(2, run("generate", "--spec", spec.toString(), "--n", "10", "--out", dir.toString()));
        assertOneErrorLine(expected);
        assertFalse(Files.exists(dir));
        assertEquals(0, sessionRequests.get());
    }

    @Test
    void missingSpecFileExitsTwo() {
        Path dir = tmp.resolve("out");
        assertEquals(2, run("generate", "--spec", tmp.resolve("nope.json").toString(), "--n", "10", "--out", dir.toString()));
        assertOneErrorLine("spec file not found", "nope.json");
        assertFalse(Files.exists(dir));
    }

    @Test
    void nonPositiveNExitsTwo() {
        assertEquals(2, run("generate", "--spec", example(), "--n", "0", "--out", tmp.resolve("o").toString()));
        assertOneErrorLine("--n must be at least 1 (got 0)");
        assertEquals(0, sessionRequests.get());
    }

    @Test
    void unknownFormatExitsTwo() {
        assertEquals(2, run("generate", "--spec", example(), "--n", "5", "--out", tmp.resolve("o").toString(),
                "--format", "xml"));
        assertOneErrorLine("--format", "unknown format 'xml' (expected parquet or csv)");
    }

    @Test
    void usageErrorsOfPicocliExitTwo() {
        assertEquals(2, run("generate", "--n", "5"));
        assertOneErrorLine("Missing required option");
        err.getBuffer().setLength(0);
        assertEquals(2, run("generate", "--spec", example(), "--n", "many", "--out", "x"));
        assertOneErrorLine("'many'");
        err.getBuffer().setLength(0);
        assertEquals(2, run("frobnicate"));
        assertOneErrorLine("frobnicate");
        err.getBuffer().setLength(0);
        assertEquals(2, run());
        assertOneErrorLine("missing command");
    }

    @Test
    void existingOutputIsUntouchedWithoutOverwriteAndReplacedWithIt() throws IOException {
        Path dir = tmp.resolve("data");
        assertEquals(0, run("generate", "--spec", example(), "--n", "100", "--out", dir.toString()));
        List<String> before = names(dir);
        err.getBuffer().setLength(0);

        assertEquals(2, run("generate", "--spec", example(), "--n", "200", "--out", dir.toString(), "--format", "csv"));
        assertOneErrorLine("already exists (pass --overwrite to replace it)");
        assertEquals(before, names(dir));

        assertEquals(0, run("generate", "--spec", example(), "--n", "200", "--out", dir.toString(), "--format", "csv",
                "--overwrite"));
        assertTrue(names(dir).stream().anyMatch(n -> n.endsWith(".csv")), names(dir).toString());
        assertFalse(names(dir).stream().anyMatch(n -> n.endsWith(".parquet")), names(dir).toString());
        assertEquals(List.of("data"), names(tmp));
    }

    @Test
    void unwritableOutputExitsOne() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        assertEquals(1, run("generate", "--spec", example(), "--n", "10", "--out", file.resolve("sub").toString()));
        assertTrue(err.toString().startsWith("scoremix generate: failed: "), err.toString());
        assertEquals(List.of("plain-file"), names(tmp));
    }

    @Test
    void defaultsComeFromTheConfigurationFile() throws IOException {
        Path conf = Files.writeString(tmp.resolve("scoremix.properties"), "seed = 5\ngenerate.format = csv\n");
        Path dir = tmp.resolve("from-conf");
        System.setProperty(ConfigDefaults.PROPERTY, conf.toString());
        try {
            assertEquals(0, run("generate", "--spec", example(), "--n", "10", "--out", dir.toString()));
        } finally {
            System.clearProperty(ConfigDefaults.PROPERTY);
        }
        String provenance = Files.readString(dir.resolve("_scoremix.json"));
        assertTrue(provenance.contains("\"outputFormat\" : \"csv\""), provenance);
        assertTrue(provenance.contains("\"seed\" : 5"), provenance);

        System.setProperty(ConfigDefaults.PROPERTY, tmp.resolve("missing.properties").toString());
        try {
            assertEquals(2, run("generate", "--help"));
        } finally {
            System.clearProperty(ConfigDefaults.PROPERTY);
        }
        assertOneErrorLine("configuration file not found");
    }

    @Test
    void helpAndVersionExitZero() {
        assertEquals(0, run("--help"));
        assertEquals(0, run("generate", "--help"));
        assertTrue(out.toString().contains("--overwrite"));
        assertEquals(0, run("--version"));
        assertTrue(out.toString().contains("scoremix 0."), out.toString());
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toCollection(ArrayList::new));
        }
    }
}
