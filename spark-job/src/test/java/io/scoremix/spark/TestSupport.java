package io.scoremix.spark;

import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Shared helpers of the spark-job tests: the local[2] session and the example specs. */
public final class TestSupport {

    private TestSupport() {
    }

    /** A local[2] session built by the production factory; the test class stops it. */
    public static SparkSession localSession(String name) {
        SparkConf conf = new SparkConf()
                .setMaster("local[2]")
                .set("spark.ui.enabled", "false")
                .set("spark.sql.shuffle.partitions", "2")
                .set("spark.scoremix.progressInterval", "2s");
        return SparkSessions.getOrCreate(name, conf);
    }

    /** The repository root (surefire passes it as scoremix.repo; the module directory's parent otherwise). */
    public static Path repo() {
        return Path.of(System.getProperty("scoremix.repo", "..")).toAbsolutePath().normalize();
    }

    /** An example spec shipped in conf/examples, e.g. {@code "general-10d"}. */
    public static Path example(String name) {
        return repo().resolve("conf/examples/" + name + ".json");
    }
}
