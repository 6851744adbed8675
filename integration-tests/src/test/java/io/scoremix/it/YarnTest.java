package io.scoremix.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.FitJob;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * YARN through MiniYARNCluster (ResourceManager and a NodeManager in the test JVM, on 127.0.0.1): the fit
 * is submitted by Spark's own {@code org.apache.spark.deploy.SparkSubmit --master yarn} in a separate
 * JVM, as spark-submit does (client mode: the driver runs in that JVM, the application master and the
 * executors in YARN containers). It must exit 0 and write a model equal, bit for bit, to the local[2] fit
 * of the same files with the same partitioning.
 */
class YarnTest {

    @Test
    void fitSubmittedToYarnWritesTheLocalModel() throws Exception {
        Path work = ItSupport.workDir("yarn");
        String train = work.resolve("train").toString();
        Path reference = work.resolve("model-local");
        SparkSession local = ItSupport.session("YarnTest-local", ItSupport.baseConf("local[2]"));
        try {
            ItSupport.writeTraining(local, train);
            new FitJob(ItSupport.fitConfig(train, reference.toString())).run(local);
        } finally {
            local.stop();
        }

        YarnConfiguration conf = new YarnConfiguration();
        conf.set("yarn.resourcemanager.hostname", "127.0.0.1");
        conf.set("yarn.nodemanager.hostname", "127.0.0.1");
        conf.setInt("yarn.scheduler.minimum-allocation-mb", 256);
        conf.setInt("yarn.nodemanager.resource.memory-mb", 4096);
        conf.setInt("yarn.nodemanager.resource.cpu-vcores", 4);
        conf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
        conf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
        conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "99.9");
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
        MiniYARNCluster yarn = new MiniYARNCluster("YarnTest", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        try {
            Path confDir = work.resolve("hadoop-conf");
            Files.createDirectories(confDir);
            Configuration live = yarn.getConfig();
            try (OutputStream out = Files.newOutputStream(confDir.resolve("yarn-site.xml"))) {
                live.writeXml(out);
            }
            Files.writeString(confDir.resolve("core-site.xml"), "<?xml version=\"1.0\"?>\n<configuration/>\n");
            // SPARK_HOME with jars/ and RELEASE: what the YARN client uploads (here: links to the class path).
            Path sparkHome = work.resolve("spark-home");
            Files.createDirectories(sparkHome.resolve("jars"));
            Files.writeString(sparkHome.resolve("RELEASE"), "");
            for (String entry : ItSupport.testClassPath().split(File.pathSeparator)) {
                Path p = Path.of(entry);
                if (entry.endsWith(".jar") && Files.isRegularFile(p)
                        && !Files.exists(sparkHome.resolve("jars").resolve(p.getFileName()))) {
                    Files.createSymbolicLink(sparkHome.resolve("jars").resolve(p.getFileName()), p.toAbsolutePath());
                }
            }
            // The primary resource: an empty jar; the classes come from the class path of every JVM.
            Path appJar = work.resolve("app.jar");
            try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(appJar))) {
                jar.putNextEntry(new java.util.jar.JarEntry("META-INF/scoremix-it.txt"));
                jar.write("scoremix integration test".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                jar.closeEntry();
            }

            Path model = work.resolve("model-yarn");
            String cp = ItSupport.testClassPath();
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("-XX:+IgnoreUnrecognized")
                        || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) {
                    cmd.add(a);
                }
            }
            // As bin/spark-submit does, the Hadoop configuration folder goes first on the class path.
            cmd.addAll(List.of("-Xmx1g", "-cp", confDir + File.pathSeparator + cp, "org.apache.spark.deploy.SparkSubmit",
                    "--master", "yarn", "--deploy-mode", "client",
                    "--class", "io.scoremix.cli.Main",
                    "--num-executors", "2", "--executor-cores", "1", "--executor-memory", "512m",
                    "--driver-memory", "1g",
                    "--conf", "spark.yarn.am.memory=512m",
                    "--conf", "spark.executor.extraClassPath=" + cp,
                    "--conf", "spark.yarn.am.extraClassPath=" + cp,
                    // The jars are on this machine already: no upload of ~350 MB to the staging folder.
                    "--conf", "spark.yarn.jars=local:" + sparkHome.resolve("jars") + "/*",
                    "--conf", "spark.yarn.stagingDir=" + work.resolve("staging").toUri(),
                    "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
                    "--conf", "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1",
                    "--conf", "spark.ui.enabled=false",
                    "--conf", "spark.driver.host=127.0.0.1",
                    "--conf", "spark.default.parallelism=" + ItSupport.PARALLELISM,
                    "--conf", "spark.sql.files.minPartitionNum=" + ItSupport.PARALLELISM,
                    "--conf", "spark.yarn.submit.waitAppCompletion=true",
                    appJar.toString(),
                    "fit", "--input", train, "--format", "parquet", "--k", "3", "--model", model.toString(),
                    "--mode", "paper", "--degree", "1", "--levels", "8", "--horizon", "6"));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("HADOOP_CONF_DIR", confDir.toString());
            pb.environment().put("YARN_CONF_DIR", confDir.toString());
            pb.environment().put("SPARK_HOME", sparkHome.toString());
            pb.environment().put("SPARK_SCALA_VERSION", "2.13");
            pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
            pb.environment().remove("SPARK_TESTING");
            pb.redirectErrorStream(true);
            Path log = work.resolve("spark-submit.log");
            pb.redirectOutput(log.toFile());
            Process p = pb.start();
            boolean finished = p.waitFor(8, TimeUnit.MINUTES);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            String output = Files.readString(log);
            String tail = output.length() > 6000 ? output.substring(output.length() - 6000) : output;
            assertTrue(finished, "spark-submit did not finish in 8 minutes:\n" + tail);
            assertEquals(0, p.exitValue(), "spark-submit exit code; log " + log + ":\n" + tail);
            // The provenance names the master and YARN's application id.
            String provenance = Files.readString(model.resolve("_scoremix.json"));
            assertTrue(provenance.contains("\"yarn\"") && provenance.contains("application_"), provenance);

            ScoreModel m = ScoreModelFormat.load(model);
            assertEquals(2, m.dimension());
            assertArrayEquals(ItSupport.coefficients(reference), ItSupport.coefficients(model),
                    "the YARN fit equals the local[2] fit");
            System.out.println("YarnTest: fit through SparkSubmit --master yarn wrote " + model + ", coefficients equal to local[2]");
        } finally {
            yarn.stop();
        }
    }

}
