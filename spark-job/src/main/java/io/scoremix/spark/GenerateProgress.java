package io.scoremix.spark;

import java.util.BitSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntToLongFunction;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Progress lines of a partitioned write, such as
 * {@code generate: 7/16 partitions, 437500/1000000 rows, 12 s elapsed, ~9 s left}, emitted once per
 * interval and only while the job runs (short jobs print none). Counts the successful
 * tasks of the Spark jobs started in one job group; a partition counts once, whatever retries or
 * speculative copies ran.
 */
final class GenerateProgress extends SparkListener implements AutoCloseable {

    private final SparkContext sc;
    private final String jobGroup;
    private final String label;
    private final int partitions;
    private final long totalRows;
    private final IntToLongFunction rowsOfPartition;
    private final Consumer<String> sink;
    private final long startNanos = System.nanoTime();
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final BitSet finished = new BitSet();
    private final ScheduledExecutorService ticker;
    private int partitionsDone;
    private long rowsDone;

    /**
     * Registers itself with {@code sc} and starts reporting; {@link #close()} stops both.
     *
     * @param rowsOfPartition the number of rows partition p writes
     * @param sink            receives the progress lines (a logger's info method)
     * @param intervalMillis  time between progress lines
     */
    GenerateProgress(SparkContext sc, String jobGroup, String label, int partitions, long totalRows,
                     IntToLongFunction rowsOfPartition, Consumer<String> sink, long intervalMillis) {
        this.sc = sc;
        this.jobGroup = jobGroup;
        this.label = label;
        this.partitions = partitions;
        this.totalRows = totalRows;
        this.rowsOfPartition = rowsOfPartition;
        this.sink = sink;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scoremix-progress");
            t.setDaemon(true);
            return t;
        });
        sc.addSparkListener(this);
        long interval = Math.max(100, intervalMillis);
        ticker.scheduleAtFixedRate(this::report, interval, interval, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
        java.util.Properties props = jobStart.properties();
        if (props != null && jobGroup.equals(props.getProperty("spark.jobGroup.id"))) {
            for (Object id : CollectionConverters.asJava(jobStart.stageIds())) {
                stages.add((Integer) id);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        if (!stages.contains(taskEnd.stageId()) || !taskEnd.taskInfo().successful()) {
            return;
        }
        int p = taskEnd.taskInfo().partitionId();
        synchronized (this) {
            if (p >= 0 && p < partitions && !finished.get(p)) {
                finished.set(p);
                partitionsDone++;
                rowsDone += rowsOfPartition.applyAsLong(p);
            }
        }
    }

    /** Logs one progress line now. */
    void report() {
        int pDone;
        long rDone;
        synchronized (this) {
            pDone = partitionsDone;
            rDone = rowsDone;
        }
        double elapsed = (System.nanoTime() - startNanos) * 1e-9;
        String line = String.format(Locale.ROOT, "%s: %d/%d partitions, %d/%d rows, %.0f s elapsed", label, pDone, partitions,
                rDone, totalRows, elapsed);
        if (rDone > 0) {
            line += String.format(Locale.ROOT, ", ~%.0f s left", elapsed * (totalRows - rDone) / rDone);
        }
        sink.accept(line);
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        sc.removeSparkListener(this);
    }
}
