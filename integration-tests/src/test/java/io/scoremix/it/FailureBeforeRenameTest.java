package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.spark.FitJob;
import io.scoremix.spark.SampleJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A failure after the moments pass but before the final rename: a listener cancels fit's score-moments
 * pass (the job started from OrderedAggregate) as soon as it starts, after pass 1 and the crude sample have
 * completed. The fit fails, no model folder and no temporary sibling are left, and a rerun succeeds with
 * the same coefficients as an undisturbed fit. The same for sample, cancelled in its write job.
 */
class FailureBeforeRenameTest {

    static SparkSession spark;
    static Path work;
    static String train;

    @BeforeAll
    static void start() throws IOException {
        work = ItSupport.workDir("failure");
        spark = ItSupport.session("FailureBeforeRenameTest", ItSupport.baseConf("local[2]"));
        train = work.resolve("train").toString();
        ItSupport.writeTraining(spark, train);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Cancels, once, the first job whose first stage name contains {@code marker}; counts jobs before it. */
    static final class CancelOnce extends SparkListener {
        final SparkContext sc;
        final String marker;
        final AtomicInteger jobsBefore = new AtomicInteger();
        volatile boolean cancelled;

        CancelOnce(SparkContext sc, String marker) {
            this.sc = sc;
            this.marker = marker;
        }

        @Override
        public void onJobStart(SparkListenerJobStart start) {
            if (cancelled) {
                return;
            }
            List<StageInfo> stages = scala.jdk.javaapi.CollectionConverters.asJava(start.stageInfos());
            if (stages.stream().anyMatch(s -> s.name().contains(marker))) {
                cancelled = true;
                sc.cancelJob(start.jobId(), "test: failure before the final rename");
            } else {
                jobsBefore.incrementAndGet();
            }
        }
    }

    static void assertNothingUnder(Path target) throws IOException {
        assertFalse(Files.exists(target), target + " exists");
        try (Stream<Path> s = Files.list(target.getParent())) {
            List<String> temps = s.map(p -> p.getFileName().toString())
                    .filter(f -> f.startsWith("." + target.getFileName() + ".")).collect(Collectors.toList());
            assertEquals(List.of(), temps, "temporary siblings of " + target);
        }
    }

    @Test
    void aFailedFitLeavesNoModelAndARerunWorks() throws IOException {
        Path reference = work.resolve("model-reference");
        new FitJob(ItSupport.fitConfig(train, reference.toString())).run(spark);

        Path model = work.resolve("model");
        CancelOnce cancel = new CancelOnce(spark.sparkContext(), "OrderedAggregate");
        spark.sparkContext().addSparkListener(cancel);
        try {
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> new FitJob(ItSupport.fitConfig(train, model.toString())).run(spark));
            System.out.println("FailureBeforeRenameTest fit: " + cancel.jobsBefore.get() + " jobs completed, then: " + e);
        } finally {
            spark.sparkContext().removeSparkListener(cancel);
        }
        assertTrue(cancel.cancelled, "the score-moments pass was reached and cancelled");
        assertTrue(cancel.jobsBefore.get() >= 2, "pass 1 and the crude sample ran first: " + cancel.jobsBefore.get());
        assertNothingUnder(model);

        FitJob.Result rerun = new FitJob(ItSupport.fitConfig(train, model.toString())).run(spark);
        assertEquals(ItSupport.TRAIN_ROWS, rerun.rows());
        assertArrayEquals(ItSupport.coefficients(reference), ItSupport.coefficients(model));
    }

    @Test
    void aFailedSampleLeavesNoOutputAndARerunWritesExactlyN() throws IOException {
        Path model = work.resolve("model-for-sample");
        new FitJob(ItSupport.fitConfig(train, model.toString())).run(spark);
        Path out = work.resolve("samples");
        // The first job of sample is its write job (the model is read and checked on the driver).
        CancelOnce cancel = new CancelOnce(spark.sparkContext(), "");
        spark.sparkContext().addSparkListener(cancel);
        try {
            // Spark's own (checked) SparkException comes through SampleJob unwrapped.
            Exception e = assertThrows(Exception.class,
                    () -> new SampleJob(ItSupport.sampleConfig(model.toString(), out.toString())).run(spark));
            System.out.println("FailureBeforeRenameTest sample: cancelled: " + e);
        } finally {
            spark.sparkContext().removeSparkListener(cancel);
        }
        assertTrue(cancel.cancelled);
        assertNothingUnder(out);
        SampleJob.Result r = new SampleJob(ItSupport.sampleConfig(model.toString(), out.toString())).run(spark);
        assertEquals(ItSupport.SAMPLE_ROWS, r.rows());
        assertEquals(ItSupport.SAMPLE_ROWS, spark.read().parquet(out.toString()).count());
    }
}
