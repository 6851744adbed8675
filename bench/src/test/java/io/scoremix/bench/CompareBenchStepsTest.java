package io.scoremix.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --steps auto} in the comparison: parsed, written as "auto" into compare.json and read back; the
 * markdown shows each row's resolved steps; {@code --from} puts together runs that differ only in the steps
 * (an older fixed-2048 run and an auto one), giving the fixed run's rows their step count.
 */
class CompareBenchStepsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void autoIsParsedWrittenAndReadBack() {
        assertEquals(CompareBench.AUTO, CompareBench.parseSteps("auto"));
        assertEquals(512, CompareBench.parseSteps("512"));
        assertThrows(IllegalArgumentException.class, () -> CompareBench.parseSteps("1"));
        assertEquals("auto", CompareBench.stepsName(CompareBench.AUTO));
        CompareBench.Settings auto = new CompareBench.Settings(100_000, 1, 10_000, CompareBench.AUTO, 2_000, 2_000,
                200_000);
        assertEquals("auto", auto.toJson().path("steps").asText());
        assertEquals(auto, CompareBench.Settings.of(auto.toJson()));
        CompareBench.Settings fixed = auto.withSteps(2048);
        assertEquals(2048, fixed.toJson().path("steps").asInt());
        assertEquals(fixed, CompareBench.Settings.of(fixed.toJson()));
    }

    @Test
    void assemblesFixedAndAutoRunsWithEachRowsSteps(@TempDir Path dir) throws IOException {
        CompareBench.Settings auto = new CompareBench.Settings(1_000, 1, 100, CompareBench.AUTO, 10, 10, 100);
        write(dir.resolve("a"), auto.withSteps(2048), "general-10d", null);
        write(dir.resolve("b"), auto, "far-1d", 20_480);
        Path out = dir.resolve("out");
        CompareBench.assemble(List.of(dir.resolve("a"), dir.resolve("b")), out);
        var root = JSON.readTree(out.resolve("compare.json").toFile());
        assertEquals("auto", root.path("settings").path("steps").asText());
        Map<String, Integer> steps = new java.util.HashMap<>();
        root.path("rows").forEach(r -> {
            if (r.path("method").asText().equals("default")) {
                steps.put(r.path("instance").asText(), r.path("steps").asInt());
            }
        });
        assertEquals(Map.of("general-10d", 2048, "far-1d", 20_480), steps);
        root.path("rows").forEach(r -> {
            if (r.path("method").asText().equals("mllib")) {
                assertTrue(r.path("steps").isMissingNode(), "a row without a sampler got steps: " + r);
            }
        });
        String md = Files.readString(out.resolve("compare.md"));
        assertTrue(md.contains("| instance | method | certified | steps |"), md);
        assertTrue(md.contains("| far-1d | default | 0.0160 +- 0.0000 | 20480 |"), md);
        assertTrue(md.contains("| general-10d | default | 0.0410 +- 0.0000 | 2048 |"), md);
        assertTrue(md.contains("`--steps auto` chooses them per model"), md);
        // Runs that differ in anything but the steps are still refused.
        write(dir.resolve("c"), new CompareBench.Settings(2_000, 1, 100, CompareBench.AUTO, 10, 10, 100), "x", 2048);
        assertThrows(IllegalArgumentException.class,
                () -> CompareBench.assemble(List.of(dir.resolve("a"), dir.resolve("c")), dir.resolve("out2")));
    }

    /** A compare.json with one default row (certified 0.0160 or 0.0410), with or without its steps. */
    private static void write(Path dir, CompareBench.Settings s, String instance, Integer steps) throws IOException {
        Files.createDirectories(dir);
        ObjectNode root = JSON.createObjectNode();
        root.putArray("runs").addObject().put("command", "bench/run compare --only " + instance)
                .put("started", "2026-11-30T00:00:00Z").put("load_average_at_start", "1.0");
        root.put("machine", "test");
        root.putObject("versions").put("scoremix", "test");
        root.set("settings", s.toJson());
        ObjectNode row = root.putArray("rows").addObject();
        row.put("instance", instance).put("method", "default")
                .put("certified_tv_upper", instance.equals("far-1d") ? 0.0160 : 0.0410).put("certified_tv_upper_se", 0.0);
        if (steps != null) {
            row.put("steps", steps);
        }
        // A mixture's row (no sampler): its certified bound is null, and it must get no steps.
        root.withArray("rows").addObject().put("instance", instance).put("method", "mllib").putNull("certified_tv_upper");
        JSON.writeValue(dir.resolve("compare.json").toFile(), root);
    }
}
