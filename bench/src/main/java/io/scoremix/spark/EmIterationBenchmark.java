package io.scoremix.spark;

import com.sun.management.OperatingSystemMXBean;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.EmStatistics;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.LearnerConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.clustering.GaussianMixtureModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One iteration of fit's distributed crude EM against Spark MLlib {@code GaussianMixture}'s time per
 * iteration, in one local Spark session on the same rows, both cached in memory (issue 6).
 *
 * <p>Ours ({@link #scoremixEmIteration}) is the loop body of {@code FitJob.distributedEm}: an
 * {@link FitJob.EmPass} over the cached blocks of {@value FitJob#BLOCK_ROWS} raw rows (whitening, then
 * {@link EmStatistics#add}), {@link OrderedAggregate#reduce} at depth 2, and the driver's M-step. The
 * mixture is the same in every invocation (the truth, whitened), so every invocation does the same work.
 * This class sits in package {@code io.scoremix.spark} to run those package-private classes themselves.
 *
 * <p>MLlib's ({@link #mllibFit}) is a whole {@code GaussianMixture.fit} on the cached vector column with
 * tolerance 0 (so it runs exactly {@code maxIter} iterations) at two values of {@code maxIter}; its time
 * per iteration is {@code (t(m2) - t(m1)) / (m2 - m1)}, which cancels its initialisation and set-up.
 *
 * <p>Rows: {@code rows} draws of {@code spec} (default the shipped general-10d example, k = 4), made on the
 * driver with the counter-based generator and split into {@code partitions} partitions for both.
 * Run with Spark on the class path and its JVM flags (bench/results/kernels.md has the command); {@link #main}
 * runs the same comparison in process CPU time, for a loaded machine.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class EmIterationBenchmark {

    /** The rows, the session and both cached copies. */
    @State(Scope.Benchmark)
    public static class Data {

        @Param({"conf/examples/general-10d.json"})
        public String spec;

        @Param({"100000"})
        public int rows;

        @Param({"2"})
        public int partitions;

        @Param({"local[2]"})
        public String master;

        SparkSession spark;
        int k;
        int d;
        double reg;
        Whitening whitening;
        FitJob.MixtureArrays current;
        JavaRDD<FitJob.Block> blocks;
        Dataset<Row> vectors;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            MixtureSpec mixtureSpec = MixtureSpec.read(Path.of(spec));
            GaussianMixture truth = mixtureSpec.mixture();
            k = truth.components();
            d = truth.dimension();
            double[] x = new double[rows * d];
            truth.sample(CounterRandom.of(42), 1, 0, rows, x);
            Moments moments = new Moments(d);
            moments.addBlock(x, rows);
            whitening = Whitening.of(moments);
            current = FitJob.MixtureArrays.of(whitening.toWhitened(truth));
            reg = LearnerConfig.builder(k).build().crude().reg();

            spark = SparkSessions.getOrCreate("EmIterationBenchmark", new SparkConf().setMaster(master)
                    .set("spark.ui.enabled", "false"));
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<Integer> starts = new ArrayList<>();
            for (int start = 0; start < rows; start += FitJob.BLOCK_ROWS) {
                starts.add(start);
            }
            // The executors draw their blocks (the same rows as x: the counter is the row index), so no task
            // carries data; FitJob keeps its parsed blocks at MEMORY_AND_DISK, and they fit in memory here.
            String json = mixtureSpec.toJson();
            int n = rows;
            int dim = d;
            blocks = jsc.parallelize(starts, partitions).map(start -> {
                int m = Math.min(FitJob.BLOCK_ROWS, n - start);
                double[] b = new double[FitJob.BLOCK_ROWS * dim];
                MixtureSpec.parse(json, "benchmark task").mixture().sample(CounterRandom.of(42), 1, start, m, b);
                return new FitJob.Block(start, m, b, null, start + m == n, null, null, null);
            }).persist(StorageLevel.MEMORY_AND_DISK());
            blocks.count();

            List<Row> data = new ArrayList<>(rows);
            for (int i = 0; i < rows; i++) {
                double[] row = new double[d];
                System.arraycopy(x, i * d, row, 0, d);
                data.add(RowFactory.create(Vectors.dense(row)));
            }
            StructType schema = DataTypes.createStructType(
                    List.of(DataTypes.createStructField("features", SQLDataTypes.VectorType(), false)));
            vectors = spark.createDataFrame(data, schema).repartition(partitions).persist(StorageLevel.MEMORY_AND_DISK());
            vectors.count();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            blocks.unpersist(true);
            vectors.unpersist(true);
            spark.stop();
        }
    }

    /** The iteration counts of MLlib's fits: its time per iteration is the slope between them. */
    @State(Scope.Benchmark)
    public static class MllibIterations {
        @Param({"2", "12"})
        public int maxIter;
    }

    /**
     * The same comparison outside JMH, in process CPU time (Spark's local tasks run in this JVM), for a
     * loaded machine: {@code --rounds R} rounds (default 5), each timing {@code --ours N} iterations of
     * ours (default 10) and MLlib's fits at {@code --m1} and {@code --m2} iterations (default 2 and 12)
     * back to back, after one warm-up round; prints every round and the medians. Other options:
     * {@code --rows}, {@code --partitions}, {@code --spec}, {@code --master} as the JMH parameters.
     */
    public static void main(String[] args) throws Exception {
        Data data = new Data();
        data.spec = "conf/examples/general-10d.json";
        data.rows = 100_000;
        data.partitions = 2;
        data.master = "local[2]";
        int rounds = 5;
        int ours = 10;
        int m1 = 2;
        int m2 = 12;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--rows" -> data.rows = (int) Double.parseDouble(v);
                case "--partitions" -> data.partitions = Integer.parseInt(v);
                case "--spec" -> data.spec = v;
                case "--master" -> data.master = v;
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--ours" -> ours = Integer.parseInt(v);
                case "--m1" -> m1 = Integer.parseInt(v);
                case "--m2" -> m2 = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        data.setUp();
        EmIterationBenchmark bench = new EmIterationBenchmark();
        MllibIterations low = new MllibIterations();
        low.maxIter = m1;
        MllibIterations high = new MllibIterations();
        high.maxIter = m2;
        double[] oursCpu = new double[rounds];
        double[] oursWall = new double[rounds];
        double[] mllibCpu = new double[rounds];
        double[] mllibWall = new double[rounds];
        try {
            for (int r = -1; r < rounds; r++) {
                double[] a = clock();
                for (int i = 0; i < ours; i++) {
                    bench.scoremixEmIteration(data);
                }
                double[] b = clock();
                bench.mllibFit(data, low);
                double[] c = clock();
                bench.mllibFit(data, high);
                double[] e = clock();
                if (r < 0) {
                    continue; // warm-up round
                }
                oursWall[r] = (b[0] - a[0]) / ours;
                oursCpu[r] = (b[1] - a[1]) / ours;
                mllibWall[r] = ((e[0] - c[0]) - (c[0] - b[0])) / (m2 - m1);
                mllibCpu[r] = ((e[1] - c[1]) - (c[1] - b[1])) / (m2 - m1);
                System.out.printf(Locale.ROOT, "round %d: ours %.4f s wall %.4f s CPU per iteration; MLlib "
                        + "fit(%d) %.3f s wall %.3f s CPU, fit(%d) %.3f s wall %.3f s CPU, per iteration %.4f s wall "
                        + "%.4f s CPU%n", r, oursWall[r], oursCpu[r], m1, c[0] - b[0], c[1] - b[1], m2, e[0] - c[0],
                        e[1] - c[1], mllibWall[r], mllibCpu[r]);
            }
        } finally {
            data.tearDown();
        }
        System.out.printf(Locale.ROOT, "medians over %d rounds: ours %.4f s wall %.4f s CPU; MLlib %.4f s wall "
                + "%.4f s CPU per iteration; ratio ours / MLlib %.3f wall %.3f CPU%n", rounds, median(oursWall),
                median(oursCpu), median(mllibWall), median(mllibCpu), median(oursWall) / median(mllibWall),
                median(oursCpu) / median(mllibCpu));
    }

    /** {wall seconds, process CPU seconds}. */
    private static double[] clock() {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new double[] {System.nanoTime() * 1e-9, os.getProcessCpuTime() * 1e-9};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }

    @Benchmark
    public GaussianMixture scoremixEmIteration(Data data) throws Exception {
        EmStatistics stats = OrderedAggregate.reduce(data.blocks.mapPartitionsWithIndex(
                new FitJob.EmPass(data.whitening, data.current, data.k, FaultInjection.NONE), true),
                EmStatistics::merge, FitConfig.DEFAULT_AGGREGATION_DEPTH);
        return stats.mStep(data.reg);
    }

    @Benchmark
    public GaussianMixtureModel mllibFit(Data data, MllibIterations it) {
        return new org.apache.spark.ml.clustering.GaussianMixture().setK(data.k).setSeed(1).setMaxIter(it.maxIter)
                .setTol(0.0).setFeaturesCol("features").fit(data.vectors);
    }
}
