package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.spark.FaultInjection;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.SampleJob;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Task retries on local[2,4] (up to 4 attempts per task): the test-only {@link FaultInjection} fails the
 * first attempt of every task of fit's moments, crude and score passes, and of every sample task halfway
 * through its rows. Spark retries them; fit gives bit-identical coefficients and sample writes exactly N
 * rows, no duplicates, no gaps: the same points as without faults.
 */
class TaskRetryTest {

    static SparkSession spark;
    static Path work;
    static String train;
    static final AtomicInteger FAILED_TASKS = new AtomicInteger();

    @BeforeAll
    static void start() throws IOException {
        work = ItSupport.workDir("retry");
        spark = ItSupport.session("TaskRetryTest", ItSupport.baseConf("local[2,4]"));
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.reason() != Success$.MODULE$) {
                    FAILED_TASKS.incrementAndGet();
                }
            }
        });
        train = work.resolve("train").toString();
        ItSupport.writeTraining(spark, train);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Runs {@code job} with the injector set to {@code faults}; returns the number of failed task attempts. */
    static int withFaults(String faults, Runnable job) throws InterruptedException {
        spark.conf().set(FaultInjection.KEY, faults);
        try {
            FAILED_TASKS.set(0);
            job.run();
        } finally {
            spark.conf().unset(FaultInjection.KEY);
        }
        // Listener events are delivered asynchronously; the job's own events are all posted by now.
        Thread.sleep(500);
        return FAILED_TASKS.get();
    }

    @Test
    void retriedTasksGiveTheSameModelAndExactlyTheSameRows() throws Exception {
        Path reference = work.resolve("model-reference");
        FitJob.Result ref = new FitJob(ItSupport.fitConfig(train, reference.toString())).run(spark);
        Path model = work.resolve("model");
        int fitFailures = withFaults("moments:*;crude:*;score:*",
                () -> new FitJob(ItSupport.fitConfig(train, model.toString())).run(spark));
        assertTrue(fitFailures >= 3 * ref.partitions(), "failed first attempts in fit: " + fitFailures);
        assertArrayEquals(ItSupport.coefficients(reference), ItSupport.coefficients(model));

        Path refOut = work.resolve("samples-reference");
        new SampleJob(ItSupport.sampleConfig(reference.toString(), refOut.toString())).run(spark);
        Path out = work.resolve("samples");
        int sampleFailures = withFaults("sample:*",
                () -> new SampleJob(ItSupport.sampleConfig(model.toString(), out.toString())).run(spark));
        assertEquals(4, sampleFailures, "every one of the 4 sample tasks failed once");
        List<String> expected = ItSupport.sortedRows(spark.read().parquet(refOut.toString()));
        List<String> rows = ItSupport.sortedRows(spark.read().parquet(out.toString()));
        assertEquals(ItSupport.SAMPLE_ROWS, rows.size(), "exactly N rows");
        assertEquals(ItSupport.SAMPLE_ROWS, new HashSet<>(rows).size(), "no duplicates");
        assertEquals(expected, rows, "the same points as without faults");
        System.out.println("TaskRetryTest: " + fitFailures + " failed attempts in fit, " + sampleFailures
                + " in sample; coefficients identical, " + rows.size() + " identical points");
    }
}
