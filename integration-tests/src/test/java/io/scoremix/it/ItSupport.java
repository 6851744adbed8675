package io.scoremix.it;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.GenerateConfig;
import io.scoremix.spark.GenerateJob;
import io.scoremix.spark.InputFormat;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SparkSessions;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Shared pieces of the integration suites: sessions on the various masters, the blobs-2d training data
 * and the fit and sample settings every suite uses, and comparisons of models and sample sets.
 */
final class ItSupport {

    /** Training rows of the blobs-2d data (4 Parquet part files). */
    static final long TRAIN_ROWS = 20_000;
    /** Points drawn by sample in the suites. */
    static final long SAMPLE_ROWS = 5_000;
    /** Parallelism of every session: the same file splits, hence the same row keys, on every master. */
    static final int PARALLELISM = 2;

    private ItSupport() {
    }

    /** The repository root (surefire passes it as scoremix.repo). */
    static Path repo() {
        return Path.of(System.getProperty("scoremix.repo", "..")).toAbsolutePath().normalize();
    }

    /** The blobs-2d example spec. */
    static MixtureSpec blobs() throws IOException {
        return MixtureSpec.read(repo().resolve("conf/examples/blobs-2d.json"));
    }

    /**
     * The test JVM's real class path (surefire starts the fork from a manifest-only jar and publishes the
     * test class path as {@code surefire.test.class.path}); executors in other JVMs get it as their
     * extra class path.
     */
    static String testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
    }

    /** Settings shared by every master: no UI, fixed parallelism and file split sizing. */
    static SparkConf baseConf(String master) {
        return new SparkConf()
                .setMaster(master)
                .set("spark.ui.enabled", "false")
                .set("spark.default.parallelism", Integer.toString(PARALLELISM))
                .set("spark.sql.files.minPartitionNum", Integer.toString(PARALLELISM))
                .set("spark.sql.shuffle.partitions", Integer.toString(PARALLELISM))
                .set("spark.scoremix.progressInterval", "2s")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
    }

    /** Settings for masters whose executors are separate JVMs (local-cluster, standalone). */
    static SparkConf clusterConf(String master) {
        return baseConf(master)
                .set("spark.executor.extraClassPath", testClassPath())
                .set("spark.executor.memory", "1g")
                .set("spark.executor.cores", "1");
    }

    static SparkSession session(String name, SparkConf conf) {
        return SparkSessions.getOrCreate(name, conf);
    }

    /** Writes blobs-2d training rows (seed 7) as 4 Parquet part files under {@code dir}. */
    static void writeTraining(SparkSession spark, String dir) throws IOException {
        new GenerateJob(GenerateConfig.builder().spec(blobs(), "blobs-2d").n(TRAIN_ROWS).partitions(4).seed(7)
                .format(OutputFormat.PARQUET).output(dir).build()).run(spark);
    }

    /** The fit every suite runs: k = 3, paper mode (every cell has coefficients), 8 levels. */
    static FitConfig fitConfig(String input, String model) {
        return FitConfig.of(input, 3, model).withFormat(InputFormat.PARQUET)
                .withLearner(LearnerConfig.Mode.PAPER, 1, 8, 1, Double.NaN, 6.0);
    }

    /** The sample every suite runs: SAMPLE_ROWS points, Parquet, 4 partitions, 64 steps. */
    static SampleConfig sampleConfig(String model, String out) {
        return new SampleConfig(model, SAMPLE_ROWS, out, OutputFormat.PARQUET, 4, 11,
                SampleConfig.DEFAULT_METHOD, 64, false);
    }

    /** The coefficient file's bytes of a model folder on the local disk. */
    static byte[] coefficients(Path model) throws IOException {
        return Files.readAllBytes(model.resolve(ScoreModelFormat.COEFFICIENTS));
    }

    /**
     * The rows of a sample output as sorted strings of the exact doubles ({@link Double#toString}), so two
     * outputs compare equal exactly when they hold the same multiset of points.
     */
    static List<String> sortedRows(Dataset<Row> rows) {
        List<String> out = new ArrayList<>();
        for (Row r : rows.collectAsList()) {
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < r.size(); j++) {
                sb.append(j == 0 ? "" : ",").append(((Number) r.get(j)).doubleValue());
            }
            out.add(sb.toString());
        }
        out.sort(null);
        return out;
    }

    /** A fresh folder under the module's build folder (kept after the run for inspection). */
    static Path workDir(String name) throws IOException {
        Path root = Path.of(System.getProperty("scoremix.it.work", "target/it-work")).toAbsolutePath();
        Path dir = root.resolve(name + "-" + System.nanoTime());
        Files.createDirectories(dir);
        return dir;
    }

    /** Deletes a folder tree if it exists. */
    static void delete(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    static String describe(byte[] a) {
        return a.length + " bytes, first " + Arrays.toString(Arrays.copyOf(a, Math.min(8, a.length)));
    }
}
