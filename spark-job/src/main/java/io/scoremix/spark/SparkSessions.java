package io.scoremix.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one place scoremix builds Spark sessions. Settings already present (from spark-submit, a
 * properties file, {@code -Dspark.*} system properties or the caller's {@link SparkConf}) always win:
 * scoremix only fills in defaults with {@code setIfMissing}, and never sets the master. Where the master
 * comes from:
 * <ul>
 *   <li>{@code spark-submit} (submit/scoremix-submit): its {@code --master};
 *   <li>submit/scoremix (embedded local mode): {@code -Dspark.master=local[*]}, or {@code SCOREMIX_MASTER};
 *   <li>tests: {@code conf.setMaster("local[2]")} on the conf they pass in.
 * </ul>
 */
public final class SparkSessions {

    private SparkSessions() {
    }

    /**
     * The active session, or a new one built from {@code spark.*} system properties plus scoremix's
     * defaults.
     *
     * @throws BadInputException if no master is configured anywhere
     */
    public static SparkSession getOrCreate(String appName) {
        return getOrCreate(appName, new SparkConf());
    }

    /**
     * As {@link #getOrCreate(String)} with explicit settings; {@code conf} is not modified.
     *
     * @throws BadInputException if {@code conf} has no {@code spark.master}
     */
    public static SparkSession getOrCreate(String appName, SparkConf conf) {
        SparkConf c = conf.clone();
        applyDefaults(c, appName);
        if (!c.contains("spark.master")) {
            throw noMaster();
        }
        return SparkSession.builder().config(c).getOrCreate();
    }

    private static BadInputException noMaster() {
        return new BadInputException("no Spark master is set: run through submit/scoremix (local mode) or "
                + "submit/scoremix-submit (spark-submit), or pass -Dspark.master=local[*] to java");
    }

    /** scoremix's defaults; each applies only when the setting is absent. */
    static void applyDefaults(SparkConf c, String appName) {
        c.setIfMissing("spark.app.name", appName);
        // Spark's console progress bar only makes sense on a terminal; jobs log their own progress lines.
        c.setIfMissing("spark.ui.showConsoleProgress", String.valueOf(System.console() != null));
        // No job of ours shuffles much; Spark's 200 default makes small local runs slow.
        c.setIfMissing("spark.sql.shuffle.partitions", "64");
        // Generated and learned data are plain doubles; the Parquet summary files are of no use.
        c.setIfMissing("spark.hadoop.parquet.summary.metadata.level", "NONE");
    }
}
