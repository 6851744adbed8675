package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The progress listener counts the finished partitions and rows of its own job group only. */
class GenerateProgressTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("GenerateProgressTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void countsTheTasksOfItsJobGroupAndReportsPeriodically() throws InterruptedException {
        SparkContext sc = spark.sparkContext();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        List<Integer> ids = IntStream.range(0, 4).boxed().collect(Collectors.toList());
        List<String> lines = new CopyOnWriteArrayList<>();
        GenerateProgress progress = new GenerateProgress(sc, "mine", "test", 4, 40, p -> 10, lines::add, 100);
        try {
            sc.setJobGroup("other", "not counted", false);
            jsc.parallelize(ids, 4).foreach(p -> Thread.sleep(50));
            Thread.sleep(500);
            assertTrue(lastLine(progress, lines).startsWith("test: 0/4 partitions, 0/40 rows"), lines.toString());
            sc.setJobGroup("mine", "counted", false);
            jsc.parallelize(ids, 4).foreach(p -> Thread.sleep(300));
            sc.clearJobGroup();
            // Listener events arrive asynchronously; wait for the last task end to be delivered.
            for (int i = 0; i < 100 && !lastLine(progress, lines).startsWith("test: 4/4"); i++) {
                Thread.sleep(50);
            }
        } finally {
            progress.close();
        }
        assertTrue(lines.size() >= 2, "periodic lines: " + lines);
        String last = lastLine(progress, lines);
        assertEquals("test: 4/4 partitions, 40/40 rows", last.substring(0, last.indexOf(" rows") + 5), last);
        assertTrue(last.endsWith("~0 s left"), last);
    }

    private static String lastLine(GenerateProgress progress, List<String> lines) {
        progress.report();
        return lines.get(lines.size() - 1);
    }
}
