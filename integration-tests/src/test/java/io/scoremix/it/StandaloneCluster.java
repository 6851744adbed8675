package io.scoremix.it;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster started from the Maven jars: a Master and Workers, each its own JVM on
 * 127.0.0.1, launched with the test class path. SPARK_HOME is a folder holding an empty RELEASE file and
 * a jars/ folder of links to the class path's jars, which is all a Worker needs to launch executors.
 * Logs go to files under the cluster's folder. {@link #close} stops every process it started.
 */
final class StandaloneCluster implements AutoCloseable {

    private final Path dir;
    private final Path sparkHome;
    private final int masterPort;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();
    private final Map<Integer, Process> workerByUiPort = new java.util.concurrent.ConcurrentHashMap<>();

    StandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.sparkHome = dir.resolve("spark-home");
        Path jars = sparkHome.resolve("jars");
        Files.createDirectories(jars);
        Files.writeString(sparkHome.resolve("RELEASE"), "");
        for (String entry : ItSupport.testClassPath().split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        masterPort = freePort();
        master = start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(freePort())));
    }

    /** The master URL, spark://127.0.0.1:port. */
    String url() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** Starts a Worker with one core and 1 GiB for executors; returns its process (kill it by pid). */
    Process addWorker() throws IOException {
        int i = workers.size();
        Path workDir = dir.resolve("worker-" + i);
        Files.createDirectories(workDir);
        int uiPort = freePort();
        Process p = start("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--cores", "1", "--memory", "1g", "--work-dir", workDir.toString(),
                "--webui-port", Integer.toString(uiPort), url()));
        workers.add(p);
        workerByUiPort.put(uiPort, p);
        return p;
    }

    /**
     * The Worker that launched an executor, found from the executor's log URL (it points at the Worker's
     * web UI port, which each Worker here gets its own of); null if none matches.
     */
    Process workerOfLogUrl(String logUrl) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("://[^/:]+:(\\d+)/").matcher(logUrl);
        return m.find() ? workerByUiPort.get(Integer.parseInt(m.group(1))) : null;
    }

    private Process start(String name, List<String> mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The module flags Spark needs on Java 17, as the test JVM got them from surefire's argLine.
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("-XX:+IgnoreUnrecognized")
                    || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(ItSupport.testClassPath());
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve(name + ".log").toFile());
        return pb.start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private final List<ProcessHandle> orphans = new ArrayList<>();

    /**
     * Kills a Worker by its pid (SIGKILL, as a crash would). Its executor notices the lost Worker and exits
     * by itself; {@link #close} makes sure of it.
     */
    void killWorker(Process worker) {
        worker.descendants().forEach(orphans::add);
        worker.destroyForcibly();
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    @Override
    public void close() throws InterruptedException {
        for (Process w : workers) {
            kill(w);
        }
        kill(master);
        for (Process w : workers) {
            w.waitFor(30, TimeUnit.SECONDS);
        }
        master.waitFor(30, TimeUnit.SECONDS);
        orphans.forEach(ProcessHandle::destroyForcibly);
    }
}
