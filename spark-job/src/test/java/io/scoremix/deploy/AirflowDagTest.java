package io.scoremix.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.cli.Main;
import io.scoremix.spark.TestSupport;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/airflow/scoremix_dag.py: it compiles under python3, it runs against a stand-in for Airflow in
 * both the Airflow 2 and 3 import layouts (test resource run_dag_with_stub_airflow.py, whose stand-in
 * operator accepts only the real SparkSubmitOperator's arguments), and every task's application_args are
 * a valid scoremix command line: a known command, only options that command has (read from its --help
 * synopsis), a value after each option that takes one, and every required option present. Needs python3
 * (.ci/run installs it when missing); Airflow itself is not needed.
 */
class AirflowDagTest {

    static final Path DAG = TestSupport.repo().resolve("deploy/airflow/scoremix_dag.py");
    static final Pattern OPTION = Pattern.compile("--[a-z][a-z0-9-]*(=)?");

    @TempDir
    Path tmp;

    record Run(int code, String stdout, String stderr) {
    }

    static Run python(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("python3");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("python3 is needed to check the Airflow DAG (.ci/run installs it): " + e, e);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("python3 timed out: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void dagCompiles() throws Exception {
        // py_compile with an explicit target, so no __pycache__ is left beside the DAG.
        Run r = python(tmp, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2],"
                + " doraise=True)", DAG.toString(), tmp.resolve("dag.pyc").toString());
        assertEquals(0, r.code(), r.stderr());
    }

    @Test
    void everyTaskIsAValidScoremixCommandLineInBothAirflowLayouts() throws Exception {
        Path harness = tmp.resolve("run_dag_with_stub_airflow.py");
        try (InputStream in = AirflowDagTest.class.getResourceAsStream("run_dag_with_stub_airflow.py")) {
            Files.copy(in, harness);
        }
        for (String layout : List.of("2", "3")) {
            Run r = python(tmp, harness.toString(), DAG.toString(), layout);
            assertEquals(0, r.code(), "Airflow " + layout + " layout: " + r.stderr());
            JsonNode root = new ObjectMapper().readTree(r.stdout());
            assertEquals(1, root.path("dags").size(), r.stdout());
            JsonNode tasks = root.path("tasks");
            assertTrue(tasks.size() >= 2, r.stdout());
            Set<String> commands = new HashSet<>();
            for (JsonNode task : tasks) {
                JsonNode kw = task.path("kwargs");
                String id = task.path("task_id").asText();
                assertEquals("io.scoremix.cli.Main", kw.path("java_class").asText(), id);
                assertTrue(kw.path("application").asText().contains("scoremix-spark-job"), id + ": the thin jar");
                kw.path("conf").fieldNames().forEachRemaining(
                        k -> assertTrue(k.startsWith("spark."), id + ": conf key " + k));
                List<String> args = new ArrayList<>();
                kw.path("application_args").forEach(a -> args.add(a.asText()));
                checkCommandLine(id, args);
                commands.add(args.get(0));
            }
            assertTrue(commands.containsAll(List.of("fit", "sample")), commands.toString());
            assertEquals("sample", tasks.get(0).path("downstream").get(0).asText(), "fit runs before sample");
        }
    }

    /** The options of a command from its usage synopsis: name -> takes a value; and the required ones. */
    record Synopsis(Map<String, Boolean> options, Set<String> required) {
    }

    static Synopsis synopsis(String command) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {command, "--help"}, new PrintWriter(out), new PrintWriter(err),
                name -> {
                    throw new AssertionError("--help must not start Spark");
                });
        assertEquals(0, code, command + " --help: " + err);
        // The synopsis: the "Usage:" line and its indented continuation lines.
        StringBuilder text = new StringBuilder();
        List<String> lines = out.toString().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 ? !line.startsWith("Usage:") : !line.startsWith(" ")) {
                if (i == 0) {
                    fail(command + " --help does not start with a usage line: " + out);
                }
                break;
            }
            text.append(line).append(' ');
        }
        Map<String, Boolean> options = new HashMap<>();
        Matcher m = OPTION.matcher(text);
        while (m.find()) {
            options.put(m.group().replace("=", ""), m.group(1) != null);
        }
        // Required options are those left when every bracketed group is removed.
        String bare = text.toString();
        String before;
        do {
            before = bare;
            bare = bare.replaceAll("\\[[^\\[\\]]*\\]", "");
        } while (!bare.equals(before));
        Set<String> required = new HashSet<>();
        Matcher r = OPTION.matcher(bare);
        while (r.find()) {
            required.add(r.group().replace("=", ""));
        }
        return new Synopsis(options, required);
    }

    static void checkCommandLine(String task, List<String> args) {
        assertTrue(!args.isEmpty(), task + ": no application_args");
        String command = args.get(0);
        assertTrue(List.of("generate", "fit", "sample").contains(command) || !command.startsWith("-"),
                task + ": first argument must be a command, got " + command);
        Synopsis s = synopsis(command);
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            assertTrue(s.options().containsKey(name), task + ": '" + command + "' has no option " + name
                    + "; its options: " + s.options().keySet());
            assertTrue(seen.add(name), task + ": " + name + " given twice");
            if (s.options().get(name) && !a.contains("=")) {
                assertTrue(i + 1 < args.size() && !args.get(i + 1).startsWith("--"),
                        task + ": " + name + " needs a value");
                i++;
            }
        }
        assertTrue(seen.containsAll(s.required()), task + ": '" + command + "' needs " + s.required()
                + ", the DAG gives " + seen);
    }
}
