package io.scoremix.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.spark.SparkSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6: rerunning the comparison with the same seed reproduces every metric. Two small instances
 * (far-1d, blobs-2d) at a tiny n go through all five methods twice; every field of every row except the
 * {@code *_seconds} timings must be identical, and so must the plots.
 */
class CompareBenchReproducibilityTest {

    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSessions.getOrCreate("compare reproducibility", new SparkConf().setMaster("local[2]")
                .set("spark.ui.enabled", "false").set("spark.sql.shuffle.partitions", "2"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void sameSeedGivesIdenticalMetricsAndPlots(@TempDir Path dir) throws IOException {
        CompareBench.Settings s = new CompareBench.Settings(4_000, 5, 1_000, 32, 100, 300, 20_000);
        for (String name : List.of("far-1d", "blobs-2d")) {
            MixtureSpec spec = MixtureSpec.read(repo().resolve("core-math/src/test/resources/instances/" + name
                    + ".json"));
            List<ObjectNode> first = CompareBench.compare(spark, spec, s, dir.resolve("first"));
            List<ObjectNode> second = CompareBench.compare(spark, spec, s, dir.resolve("second"));
            assertEquals(CompareBench.METHODS.length, first.size(), name);
            for (int i = 0; i < first.size(); i++) {
                ObjectNode a = first.get(i);
                String where = name + " " + a.path("method").asText();
                assertTrue(a.path("error").isNull(), where + ": " + a.path("error"));
                assertTrue(a.path("tv_exact").isNumber() && a.path("tv_lower").isNumber()
                        && a.path("heldout_loglik").isNumber(), where + ": " + a);
                assertEquals(metrics(a), metrics(second.get(i)), where);
            }
            for (String what : List.of("bounds", "default", "paper", "mllib")) {
                String file = CompareBench.plotName(name, what);
                assertArrayEquals(Files.readAllBytes(dir.resolve("first").resolve(file)),
                        Files.readAllBytes(dir.resolve("second").resolve(file)), file);
            }
        }
    }

    /** The row without its timing fields. */
    private static ObjectNode metrics(ObjectNode row) {
        ObjectNode copy = row.deepCopy();
        List<String> timing = new ArrayList<>();
        copy.fieldNames().forEachRemaining(f -> {
            if (f.endsWith("_seconds")) {
                timing.add(f);
            }
        });
        copy.remove(timing);
        return copy;
    }

    private static Path repo() {
        return Path.of(System.getProperty("scoremix.repo", "..")).toAbsolutePath().normalize();
    }
}
