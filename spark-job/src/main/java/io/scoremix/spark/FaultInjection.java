package io.scoremix.spark;

import java.io.Serializable;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;

/**
 * Test-only fault injector: fails the first attempt of chosen tasks of the executor passes of
 * {@link FitJob} and {@link SampleJob}, so that tests can check that Spark's retries give the same model
 * and the same rows (issue 5).
 *
 * <p>Switched on by the Spark setting {@value #KEY} (in the SparkConf, or set on the session's runtime
 * conf before the job starts), read once on the driver when a job starts and shipped in the task
 * closures. Its value is a list of {@code stage:partitions} entries separated by {@code ;}, where
 * partitions is a comma-separated list of partition indices or {@code *} for all, for example
 * {@code moments:0,1;score:*;sample:1}. The stages are
 * <ul>
 *   <li>{@code moments}: fit's pass 1 (validation and moments);</li>
 *   <li>{@code crude}: fit's crude passes (the driver sample and every distributed EM iteration);</li>
 *   <li>{@code score}: fit's pass 2 (score moments);</li>
 *   <li>{@code sample}: sample's drawing tasks (the failure comes halfway through the partition's rows,
 *       after the writer received the first half, so the failed attempt leaves partial output that Spark's
 *       commit protocol must discard).</li>
 * </ul>
 * A listed task throws {@link InjectedFault} when {@code TaskContext.attemptNumber() == 0}; its retry
 * runs normally. Spark retries only when {@code spark.task.maxFailures} is above 1: in local mode use a
 * master such as {@code local[2,4]} (a plain {@code local[2]} allows no retry and the job fails).
 * Without the setting (the normal case) {@link #from} returns {@link #NONE}, which never throws.
 */
public final class FaultInjection implements Serializable {

    /** The Spark setting naming the stages and partitions whose first attempt fails. */
    public static final String KEY = "spark.scoremix.test.failFirstAttempt";

    /** No faults. */
    public static final FaultInjection NONE = new FaultInjection(Map.of(), "");

    private static final long serialVersionUID = 1L;
    private static final int ALL = -1;

    private final Map<String, Set<Integer>> targets;
    private final String spec;

    private FaultInjection(Map<String, Set<Integer>> targets, String spec) {
        this.targets = targets;
        this.spec = spec;
    }

    /** The injector configured on this session ({@link #NONE} when {@value #KEY} is unset or blank). */
    public static FaultInjection from(SparkSession spark) {
        // The session conf starts from the SparkConf and sees runtime sets too.
        return parse(spark.conf().get(KEY, ""));
    }

    /**
     * Parses a {@code stage:partitions[;stage:partitions..]} value.
     *
     * @throws IllegalArgumentException naming the malformed entry
     */
    public static FaultInjection parse(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        Map<String, Set<Integer>> targets = new HashMap<>();
        for (String entry : value.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(KEY + ": entry '" + entry + "' is not stage:partitions");
            }
            String stage = entry.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            Set<Integer> parts = targets.computeIfAbsent(stage, s -> new HashSet<>());
            for (String p : entry.substring(colon + 1).split(",")) {
                String t = p.trim();
                try {
                    parts.add(t.equals("*") ? ALL : Integer.parseInt(t));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(KEY + ": '" + t + "' in entry '" + entry
                            + "' is not a partition index or *", e);
                }
            }
        }
        return new FaultInjection(Map.copyOf(targets), value.trim());
    }

    /** Whether the first attempt of partition {@code p} of {@code stage} is set to fail. */
    public boolean targets(String stage, int p) {
        Set<Integer> parts = targets.get(stage);
        return parts != null && (parts.contains(ALL) || parts.contains(p));
    }

    /**
     * Executor side: throws {@link InjectedFault} if this is the first attempt of a targeted task.
     * Does nothing outside a Spark task.
     */
    public void check(String stage, int p) {
        if (targets.isEmpty() || !targets(stage, p)) {
            return;
        }
        TaskContext task = TaskContext.get();
        if (task != null && task.attemptNumber() == 0) {
            throw new InjectedFault("scoremix test fault (" + KEY + "=" + spec + "): first attempt of stage '" + stage
                    + "' partition " + p + " (task attempt id " + task.taskAttemptId() + ")");
        }
    }

    @Override
    public String toString() {
        return targets.isEmpty() ? "no faults" : spec;
    }

    /** The exception of an injected failure. */
    public static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(String message) {
            super(message);
        }
    }
}
