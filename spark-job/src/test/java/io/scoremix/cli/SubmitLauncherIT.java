package io.scoremix.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launchers end to end, as subprocesses, against the packaged jar and lib/ (surefire runs this in
 * the integration-test phase, with SCOREMIX_BUILD_DIR pointing at this module's build folder and
 * SCOREMIX_NO_BUILD=1 so the launcher never calls Maven).
 */
class SubmitLauncherIT {

    @TempDir
    Path tmp;

    /** Only the launcher-it execution (after package) sets SCOREMIX_BUILD_DIR; elsewhere, e.g. -Dtest=..., skip. */
    @BeforeEach
    void needsThePackagedJar() {
        assumeTrue(System.getenv("SCOREMIX_BUILD_DIR") != null, "runs in the launcher-it execution only");
    }

    record Outcome(int code, String stdout, List<String> stderr) {
    }

    Outcome run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(TestSupport.repo().toFile());
        pb.environment().putAll(env);
        Path stdout = tmp.resolve("stdout.txt");
        Path stderr = tmp.resolve("stderr.txt");
        pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        // The JVM's notice about the incubator vector module (a Spark JVM flag) is not ours.
        List<String> errLines = Files.readAllLines(stderr, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .collect(Collectors.toList());
        return new Outcome(p.exitValue(), Files.readString(stdout), errLines);
    }

    String launcher(String name) {
        return TestSupport.repo().resolve("submit/" + name).toString();
    }

    @Test
    void scoremixGeneratesLocallyAndReportsBadInputInOneLine() throws Exception {
        Path out = tmp.resolve("blobs");
        Outcome ok = run(Map.of(), launcher("scoremix"), "generate", "--spec", "conf/examples/blobs-2d.json",
                "--n", "5000", "--out", out.toString(), "--format", "csv");
        assertEquals(0, ok.code(), ok.toString());
        assertTrue(ok.stdout().contains("wrote 5000 rows x 2 columns (csv)"), ok.toString());
        assertTrue(Files.exists(out.resolve("_scoremix.json")));

        Outcome bad = run(Map.of(), launcher("scoremix"), "generate", "--spec", "conf/examples/blobs-2d.json",
                "--n", "0", "--out", tmp.resolve("never").toString());
        assertEquals(2, bad.code(), bad.toString());
        assertEquals(1, bad.stderr().size(), bad.toString());
        assertTrue(bad.stderr().get(0).contains("--n must be at least 1"), bad.toString());
        assertTrue(Files.notExists(tmp.resolve("never")));
    }

    @Test
    void scoremixSubmitSeparatesOptionsAtTheDoubleDash() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("spark/bin"));
        Path fake = bin.resolve("spark-submit");
        Files.writeString(fake, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Outcome o = run(Map.of("SPARK_HOME", tmp.resolve("spark").toString()), launcher("scoremix-submit"),
                "--master", "local[2]", "--", "generate", "--n", "5");
        assertEquals(0, o.code(), o.toString());
        List<String> args = new ArrayList<>(o.stdout().lines().collect(Collectors.toList()));
        assertEquals(List.of("--class", "io.scoremix.cli.Main", "--master", "local[2]"), args.subList(0, 4));
        assertTrue(args.get(4).matches(".*/scoremix-spark-job-[^/]*\\.jar"), args.toString());
        assertEquals(List.of("generate", "--n", "5"), args.subList(5, args.size()));
        assertTrue(o.stderr().get(0).startsWith("scoremix-submit: running: "), o.toString());

        Outcome noDash = run(Map.of("SPARK_HOME", tmp.resolve("spark").toString()), launcher("scoremix-submit"),
                "--master", "local[2]", "generate");
        assertEquals(2, noDash.code(), noDash.toString());
    }
}
