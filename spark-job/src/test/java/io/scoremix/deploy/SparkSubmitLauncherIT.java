package io.scoremix.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * submit/scoremix-submit with Spark's real SparkSubmit: a SPARK_HOME assembled from the Maven jars that
 * the build copied to lib/ (jars/, an empty RELEASE file, and a bin/spark-submit that runs
 * org.apache.spark.deploy.SparkSubmit on them with Spark's Java 17 flags, as Spark's own script does),
 * so the thin jar is checked the way a cluster runs it: Spark's jars on the class path, the thin jar
 * added by spark-submit. Also the launcher's refusals (exit 2): no spark-submit, several jars, a missing
 * SCOREMIX_JAR. Runs in the launcher-it execution (after package) only.
 */
class SparkSubmitLauncherIT {

    @TempDir
    Path tmp;

    Path buildDir;

    @BeforeEach
    void needsThePackagedJar() {
        String dir = System.getenv("SCOREMIX_BUILD_DIR");
        assumeTrue(dir != null, "runs in the launcher-it execution only");
        buildDir = Path.of(dir);
    }

    record Outcome(int code, String stdout, String stderr) {
    }

    Outcome run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(TestSupport.repo().toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(480, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Outcome(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static String launcher() {
        return TestSupport.repo().resolve("submit/scoremix-submit").toString();
    }

    /** A Spark "installation" from the build's lib/ jars; returns its SPARK_HOME. */
    Path sparkHome() throws IOException {
        Path home = tmp.resolve("spark");
        Path jars = Files.createDirectories(home.resolve("jars"));
        try (DirectoryStream<Path> lib = Files.newDirectoryStream(buildDir.resolve("lib"), "*.jar")) {
            for (Path jar : lib) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
            }
        }
        Files.createDirectories(home.resolve("conf"));
        Files.writeString(home.resolve("RELEASE"), "");
        String pom = Files.readString(TestSupport.repo().resolve("pom.xml"));
        Matcher m = Pattern.compile("<spark.jvm.flags>(.*)</spark.jvm.flags>").matcher(pom);
        assertTrue(m.find(), "spark.jvm.flags in the parent pom");
        Path script = Files.createDirectories(home.resolve("bin")).resolve("spark-submit");
        Files.writeString(script, "#!/usr/bin/env bash\n"
                + "SPARK_HOME=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\n"
                + "export SPARK_HOME SPARK_SCALA_VERSION=2.13\n"
                + "exec java " + m.group(1) + " -Xmx1g -cp \"$SPARK_HOME/conf:$SPARK_HOME/jars/*\""
                + " org.apache.spark.deploy.SparkSubmit \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    @Test
    void thinJarRunsUnderSparkSubmit() throws Exception {
        Path out = tmp.resolve("blobs");
        Outcome o = run(Map.of("SPARK_HOME", sparkHome().toString(), "SPARK_LOCAL_IP", "127.0.0.1"), launcher(),
                "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--",
                "generate", "--spec", "conf/examples/blobs-2d.json", "--n", "2000", "--out", out.toString(),
                "--format", "csv");
        assertEquals(0, o.code(), o.toString());
        assertTrue(o.stderr().startsWith("scoremix-submit: running: "), o.stderr());
        assertTrue(o.stderr().lines().findFirst().orElse("").contains("--class io.scoremix.cli.Main --master"),
                o.stderr());
        assertTrue(o.stdout().contains("wrote 2000 rows x 2 columns (csv)"), o.toString());
        long rows = 0;
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) {
                rows += Files.readAllLines(f).size() - 1;
            }
        }
        assertEquals(2000, rows, "data rows (each part file has a header)");
    }

    @Test
    void refusesWithoutSparkSubmitWithSeveralJarsOrAMissingJar() throws Exception {
        Map<String, String> noSpark = new HashMap<>();
        noSpark.put("PATH", "/usr/bin:/bin");
        noSpark.put("SPARK_HOME", "");
        Outcome none = run(noSpark, "/usr/bin/env", "-u", "SPARK_HOME", launcher(), "--", "generate");
        assertEquals(2, none.code(), none.toString());
        assertTrue(none.stderr().contains("spark-submit not found"), none.stderr());

        Path fakeHome = tmp.resolve("fake");
        Path bin = Files.createDirectories(fakeHome.resolve("bin"));
        Files.writeString(bin.resolve("spark-submit"), "#!/bin/sh\necho \"$@\"\n");
        Files.setPosixFilePermissions(bin.resolve("spark-submit"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path two = Files.createDirectories(tmp.resolve("two"));
        Files.writeString(two.resolve("scoremix-spark-job-0.1.jar"), "");
        Files.writeString(two.resolve("scoremix-spark-job-0.2.jar"), "");
        Files.writeString(two.resolve("scoremix-spark-job-0.2-local.jar"), "");
        Outcome several = run(Map.of("SPARK_HOME", fakeHome.toString(), "SCOREMIX_BUILD_DIR", two.toString()),
                launcher(), "--", "generate");
        assertEquals(2, several.code(), several.toString());
        assertTrue(several.stderr().contains("expected exactly one thin jar"), several.stderr());
        assertTrue(several.stderr().contains("found 2"), "the -local jar is not counted: " + several.stderr());

        Outcome missing = run(Map.of("SPARK_HOME", fakeHome.toString(), "SCOREMIX_JAR", "/no/such.jar"),
                launcher(), "--", "generate");
        assertEquals(2, missing.code(), missing.toString());
        assertTrue(missing.stderr().contains("SCOREMIX_JAR: no such file"), missing.stderr());

        Outcome url = run(Map.of("SPARK_HOME", fakeHome.toString(), "SCOREMIX_JAR", "local:///opt/scoremix/x.jar"),
                launcher(), "--master", "k8s://https://h:6443", "--", "fit", "--k", "2");
        assertEquals(0, url.code(), url.toString());
        List<String> args = new ArrayList<>(List.of(url.stdout().trim().split(" ")));
        assertEquals(List.of("--class", "io.scoremix.cli.Main", "--master", "k8s://https://h:6443",
                "local:///opt/scoremix/x.jar", "fit", "--k", "2"), args);
    }
}
