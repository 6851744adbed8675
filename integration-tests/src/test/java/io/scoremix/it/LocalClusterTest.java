package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.SampleJob;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * local-cluster[2,1,1024]: a Master and two Workers in the test JVM, each executor a separate JVM, so
 * every closure, broadcast and task result crosses a real serialization boundary. fit and sample there
 * must give exactly what they give on local[2] with the same partitioning: bit-identical coefficients
 * and identical sampled points, exactly N of them.
 */
class LocalClusterTest {

    @Test
    void fitAndSampleOnSeparateExecutorJvmsEqualLocalMode() throws Exception {
        Path work = ItSupport.workDir("local-cluster");
        String train = work.resolve("train").toString();

        SparkSession local = ItSupport.session("LocalClusterTest-local", ItSupport.baseConf("local[2]"));
        FitJob.Result localFit;
        List<String> localRows;
        try {
            ItSupport.writeTraining(local, train);
            localFit = new FitJob(ItSupport.fitConfig(train, work.resolve("model-local").toString())).run(local);
            new SampleJob(ItSupport.sampleConfig(work.resolve("model-local").toString(),
                    work.resolve("sample-local").toString())).run(local);
            localRows = ItSupport.sortedRows(local.read().parquet(work.resolve("sample-local").toString()));
        } finally {
            local.stop();
        }

        SparkSession cluster = ItSupport.session("LocalClusterTest-cluster",
                ItSupport.clusterConf("local-cluster[2,1,1024]"));
        FitJob.Result clusterFit;
        SampleJob.Result clusterSample;
        List<String> clusterRows;
        try {
            clusterFit = new FitJob(ItSupport.fitConfig(train, work.resolve("model-cluster").toString())).run(cluster);
            clusterSample = new SampleJob(ItSupport.sampleConfig(work.resolve("model-cluster").toString(),
                    work.resolve("sample-cluster").toString())).run(cluster);
            clusterRows = ItSupport.sortedRows(cluster.read().parquet(work.resolve("sample-cluster").toString()));
        } finally {
            cluster.stop();
        }

        assertEquals(ItSupport.TRAIN_ROWS, clusterFit.rows());
        assertEquals(localFit.partitions(), clusterFit.partitions(), "same file splits on both masters");
        byte[] a = ItSupport.coefficients(work.resolve("model-local"));
        byte[] b = ItSupport.coefficients(work.resolve("model-cluster"));
        assertTrue(a.length > 0, "paper mode writes coefficients");
        assertArrayEquals(a, b, "coefficients.bin local " + ItSupport.describe(a) + ", cluster " + ItSupport.describe(b));
        ObjectMapper json = new ObjectMapper();
        JsonNode ja = json.readTree(work.resolve("model-local").resolve(ScoreModelFormat.MODEL_JSON).toFile());
        JsonNode jb = json.readTree(work.resolve("model-cluster").resolve(ScoreModelFormat.MODEL_JSON).toFile());
        for (String key : List.of("whitening", "crude", "levels", "coefficient_file")) {
            assertEquals(ja.get(key), jb.get(key), key);
        }

        assertEquals(ItSupport.SAMPLE_ROWS, clusterSample.rows());
        assertEquals(ItSupport.SAMPLE_ROWS, clusterRows.size(), "rows read back");
        assertEquals(ItSupport.SAMPLE_ROWS, new HashSet<>(clusterRows).size(), "no duplicated points");
        assertEquals(localRows, clusterRows, "the same points on both masters");
        System.out.println("LocalClusterTest: " + clusterFit.partitions() + " partitions, coefficients "
                + b.length + " bytes identical, " + clusterRows.size() + " identical sampled points");
    }
}
