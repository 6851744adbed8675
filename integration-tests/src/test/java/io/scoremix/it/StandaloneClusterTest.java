package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.spark.FitJob;
import io.scoremix.spark.SampleJob;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import scala.jdk.javaapi.CollectionConverters;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A standalone cluster from the Maven jars (Master and two Workers on 127.0.0.1, one core each). One
 * Worker is killed by its pid while the moments pass runs (at the start of one of its tasks), and
 * another during sampling; both jobs finish on what is left (a fresh Worker joins between the two), the
 * model equals the undisturbed one fitted before on the same cluster, and the output has exactly N
 * distinct rows.
 */
class StandaloneClusterTest {

    /** Remembers which Worker launched each executor (from the executors' log URLs). */
    static final class ExecutorWorkers extends SparkListener {
        final StandaloneCluster cluster;
        final Map<String, Process> workers = new ConcurrentHashMap<>();

        ExecutorWorkers(StandaloneCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void onExecutorAdded(SparkListenerExecutorAdded e) {
            for (String url : CollectionConverters.asJava(e.executorInfo().logUrlMap()).values()) {
                Process w = cluster.workerOfLogUrl(url);
                if (w != null) {
                    workers.put(e.executorId(), w);
                }
            }
        }
    }

    /**
     * Once, when the first task of a stage whose name contains the marker starts, kills the Worker whose
     * executor runs it; counts the task attempts that fail because their executor was lost.
     */
    static final class KillOnTask extends SparkListener {
        final StandaloneCluster cluster;
        final ExecutorWorkers executors;
        final String marker;
        final SparkSession spark;
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicInteger lostTasks = new AtomicInteger();
        volatile Process killed;

        KillOnTask(SparkSession spark, StandaloneCluster cluster, ExecutorWorkers executors, String marker) {
            this.spark = spark;
            this.cluster = cluster;
            this.executors = executors;
            this.marker = marker;
        }

        @Override
        public void onTaskStart(SparkListenerTaskStart e) {
            String stage = spark.sparkContext().statusTracker().getStageInfo(e.stageId()).map(s -> s.name()).getOrElse(() -> "");
            Process worker = executors.workers.get(e.taskInfo().executorId());
            if (worker != null && stage.contains(marker) && done.compareAndSet(false, true)) {
                System.out.println("StandaloneClusterTest: killing worker pid " + worker.pid() + " as task "
                        + e.taskInfo().index() + " of '" + stage + "' starts on its executor " + e.taskInfo().executorId());
                killed = worker;
                cluster.killWorker(worker);
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd e) {
            if (e.reason() instanceof ExecutorLostFailure) {
                lostTasks.incrementAndGet();
            }
        }
    }

    static void awaitExecutors(SparkSession spark, int n) throws InterruptedException {
        for (int i = 0; i < 600 && spark.sparkContext().getExecutorMemoryStatus().size() < n + 1; i++) {
            Thread.sleep(500);
        }
        assertTrue(spark.sparkContext().getExecutorMemoryStatus().size() >= n + 1,
                "executors registered: " + (spark.sparkContext().getExecutorMemoryStatus().size() - 1));
    }

    @Test
    void killedWorkersDoNotChangeTheModelOrTheRowCount() throws Exception {
        Path work = ItSupport.workDir("standalone");
        try (StandaloneCluster cluster = new StandaloneCluster(work.resolve("cluster"))) {
            cluster.addWorker();
            cluster.addWorker();
            SparkSession spark = ItSupport.session("StandaloneClusterTest", ItSupport.clusterConf(cluster.url())
                    .set("spark.task.maxFailures", "4"));
            ExecutorWorkers executors = new ExecutorWorkers(cluster);
            spark.sparkContext().addSparkListener(executors);
            try {
                awaitExecutors(spark, 2);
                String train = work.resolve("train").toString();
                ItSupport.writeTraining(spark, train);
                Path reference = work.resolve("model-reference");
                new FitJob(ItSupport.fitConfig(train, reference.toString())).run(spark);

                // Pass 1 (moments) is the first job of fit: its stage is the collect in FitJob.
                KillOnTask killFit = new KillOnTask(spark, cluster, executors, "FitJob");
                spark.sparkContext().addSparkListener(killFit);
                Path model = work.resolve("model");
                FitJob.Result fit;
                try {
                    fit = new FitJob(ItSupport.fitConfig(train, model.toString())).run(spark);
                } finally {
                    spark.sparkContext().removeSparkListener(killFit);
                }
                assertTrue(killFit.done.get(), "a worker was killed during fit");
                assertTrue(killFit.lostTasks.get() >= 1, "a running task was lost with the worker");
                assertEquals(ItSupport.TRAIN_ROWS, fit.rows());
                assertArrayEquals(ItSupport.coefficients(reference), ItSupport.coefficients(model),
                        "the model equals the undisturbed one");

                // A fresh worker joins; one of the two is killed while sampling.
                Process fresh = cluster.addWorker();
                for (int i = 0; i < 600 && !executors.workers.containsValue(fresh); i++) {
                    Thread.sleep(500);
                }
                assertTrue(executors.workers.containsValue(fresh), "the fresh worker runs an executor");
                KillOnTask killSample = new KillOnTask(spark, cluster, executors, "");
                spark.sparkContext().addSparkListener(killSample);
                Path out = work.resolve("samples");
                SampleJob.Result sample;
                try {
                    sample = new SampleJob(ItSupport.sampleConfig(model.toString(), out.toString())).run(spark);
                } finally {
                    spark.sparkContext().removeSparkListener(killSample);
                }
                assertTrue(killSample.done.get(), "a worker was killed during sample");
                assertTrue(killSample.lostTasks.get() >= 1, "a running task was lost with the worker");
                assertEquals(ItSupport.SAMPLE_ROWS, sample.rows());
                List<String> rows = ItSupport.sortedRows(spark.read().parquet(out.toString()));
                assertEquals(ItSupport.SAMPLE_ROWS, rows.size());
                assertEquals(ItSupport.SAMPLE_ROWS, new HashSet<>(rows).size(), "no duplicated points");
                System.out.println("StandaloneClusterTest: " + killFit.lostTasks.get() + " task(s) lost in fit, "
                        + killSample.lostTasks.get() + " in sample; model equal to the undisturbed one ("
                        + ItSupport.coefficients(model).length + " coefficient bytes), " + rows.size() + " distinct points");
            } finally {
                spark.stop();
            }
        }
    }
}
