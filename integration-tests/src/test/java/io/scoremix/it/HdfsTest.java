package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.SampleJob;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HDFS through MiniDFSCluster (a NameNode and a DataNode in the test JVM, on 127.0.0.1): generate writes
 * the training Parquet to hdfs://, fit reads it and writes the model to hdfs://, sample reads that model
 * and writes its points to hdfs://; everything is read back.
 */
class HdfsTest {

    static MiniDFSCluster dfs;
    static SparkSession spark;
    static Path work;

    @BeforeAll
    static void start() throws IOException {
        work = ItSupport.workDir("hdfs");
        Configuration conf = new Configuration();
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        dfs = new MiniDFSCluster.Builder(conf, work.resolve("dfs").toFile()).numDataNodes(1).build();
        dfs.waitActive();
        spark = ItSupport.session("HdfsTest", ItSupport.baseConf("local[2]"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (dfs != null) {
            dfs.shutdown();
        }
    }

    static byte[] read(FileSystem fs, org.apache.hadoop.fs.Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    @Test
    void fitAndSampleReadAndWriteHdfs() throws IOException {
        String root = dfs.getURI().toString();
        assertTrue(root.startsWith("hdfs://"), root);
        String train = root + "/data/train";
        String model = root + "/models/blobs";
        String samples = root + "/samples/blobs";
        ItSupport.writeTraining(spark, train);

        FitJob.Result fit = new FitJob(ItSupport.fitConfig(train, model)).run(spark);
        assertEquals(ItSupport.TRAIN_ROWS, fit.rows());
        assertTrue(fit.model().startsWith("hdfs://"), fit.model());
        SampleJob.Result sample = new SampleJob(ItSupport.sampleConfig(model, samples)).run(spark);
        assertEquals(ItSupport.SAMPLE_ROWS, sample.rows());

        // Read back: the model's two files decode, the points are all there, once each.
        FileSystem fs = dfs.getFileSystem();
        byte[] json = read(fs, new org.apache.hadoop.fs.Path("/models/blobs/" + ScoreModelFormat.MODEL_JSON));
        byte[] bin = read(fs, new org.apache.hadoop.fs.Path("/models/blobs/" + ScoreModelFormat.COEFFICIENTS));
        ScoreModel m = ScoreModelFormat.decode(json, bin, model);
        assertEquals(2, m.dimension());
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/models/blobs/_scoremix.json")));
        List<String> rows = ItSupport.sortedRows(spark.read().parquet(samples));
        assertEquals(ItSupport.SAMPLE_ROWS, rows.size());
        assertEquals(ItSupport.SAMPLE_ROWS, new HashSet<>(rows).size(), "no duplicated points");
        // No temporary folder is left beside the outputs.
        for (String dir : List.of("/models", "/samples")) {
            assertEquals(1, fs.listStatus(new org.apache.hadoop.fs.Path(dir)).length, dir + " holds only the output");
        }

        System.out.println("HdfsTest: " + fit.partitions() + " partitions from " + train + ", " + bin.length
                + " coefficient bytes, " + rows.size() + " points read back from " + samples);
    }

    /**
     * The same part files on HDFS and copied to the local disk give the same model bit for bit. The files
     * have equal sizes and Spark orders the files of a scan by size only, so alone it would keep the file
     * system's listing order (sorted on HDFS, directory order on the local disk); fit names the files in
     * the order of their paths under the input folder instead, so the rows get the same keys.
     */
    @Test
    void theSameFilesOnHdfsAndOnTheLocalDiskGiveTheSameModel() throws IOException {
        String root = dfs.getURI().toString();
        String train = root + "/order/data";
        ItSupport.writeTraining(spark, train);
        new FitJob(ItSupport.fitConfig(train, root + "/order/model")).run(spark);
        FileSystem fs = dfs.getFileSystem();
        byte[] bin = read(fs, new org.apache.hadoop.fs.Path("/order/model/" + ScoreModelFormat.COEFFICIENTS));
        Path local = work.resolve("order-local");
        fs.copyToLocalFile(new org.apache.hadoop.fs.Path("/order/data"), new org.apache.hadoop.fs.Path(local.toUri()));
        new FitJob(ItSupport.fitConfig(local.toString(), work.resolve("order-model").toString())).run(spark);
        assertArrayEquals(bin, ItSupport.coefficients(work.resolve("order-model")));
        List<String> listed = new java.util.ArrayList<>();
        for (java.io.File f : local.toFile().listFiles()) {
            if (f.getName().startsWith("part-")) {
                listed.add(f.getName().replaceAll("^(part-\\d+).*", "$1") + " (" + f.length() + " bytes)");
            }
        }
        System.out.println("HdfsTest: local disk lists the part files as " + listed + "; HDFS sorts them; "
                + bin.length + " identical coefficient bytes");
    }
}
