package io.scoremix.spark;

import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.ModelDensity;
import io.scoremix.core.score.ScoreModel;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model folder on the driver with the two expensive per-point computations of evaluate, fit's report
 * and demo spread over the executors in contiguous chunks: drawing from the reverse sampler (point i is
 * point i of the stream for the seed, whatever the chunking) and the probability-flow ODE log-density
 * ({@link ModelDensity}) of given points. Results come back to the driver in point order.
 */
public final class ModelOnSpark {

    private static final Logger LOG = LoggerFactory.getLogger(ModelOnSpark.class);

    private final ModelFolder folder;
    private final String label;

    private ModelOnSpark(ModelFolder folder, String label) {
        this.folder = folder;
        this.label = label;
    }

    /**
     * Reads and validates a model folder (any Hadoop path).
     *
     * @param label the command, for progress lines (e.g. "evaluate")
     * @throws BadInputException if it is missing or invalid (the message names the file and problem)
     */
    public static ModelOnSpark read(SparkSession spark, String dir, String label) {
        try {
            return new ModelOnSpark(ModelFolder.read(spark.sparkContext().hadoopConfiguration(), dir), label);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The decoded model. */
    public ScoreModel model() {
        return folder.model();
    }

    /** The qualified folder. */
    public String source() {
        return folder.source();
    }

    /** The training data's column names. */
    public List<String> featureNames() {
        return folder.featureNames();
    }

    /** The parsed model.json, for its metadata ({@code levels_report}, {@code config}, ...). */
    public com.fasterxml.jackson.databind.JsonNode json() {
        return folder.json();
    }

    /** The model's delta (first level time) and horizon T (last). */
    public double[] deltaAndHorizon() {
        return folder.deltaAndHorizon();
    }

    /**
     * The sampler grid of {@code sample} for this model: the curvature grid of its crude mixture from T to delta
     * with the requested steps ({@link SamplerSteps#AUTO} chooses them).
     */
    public SamplerSteps.Resolved samplerSteps(int requested) {
        double[] dh = deltaAndHorizon();
        return SamplerSteps.resolve(model().crude(), dh[1], dh[0], requested);
    }

    /**
     * Draws points {@code 0 .. n-1} of {@code stream} with the reverse sampler on {@code grid} (built once here,
     * its times shipped to the tasks), in the data's coordinates.
     *
     * @return n x d points, row-major
     */
    public double[] sample(SparkSession spark, long seed, long stream, int n, SamplerConfig.Method method,
                           TimeGrid grid) {
        double[] times = grid.times();
        int d = model().dimension();
        List<long[]> chunks = chunks(spark, n);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ModelFolder> shipped = jsc.broadcast(folder);
        try (GenerateProgress progress = progress(spark, label + ": sampling", chunks)) {
            List<double[]> parts = jsc.parallelize(chunks, chunks.size()).map(c -> {
                ScoreModel m = shipped.value().model();
                SamplerConfig cfg = SamplerConfig.builder(TimeGrid.of(times)).method(method).build();
                int len = (int) c[1];
                double[] z = new double[len * d];
                ReverseSampler.of(cfg).sample(m, CounterRandom.of(seed), stream, c[0], len, z);
                double[] x = new double[len * d];
                m.whitening().invert(z, len, x);
                return x;
            }).collect();
            return concat(parts, n * d);
        } finally {
            spark.sparkContext().clearJobGroup();
            shipped.destroy();
        }
    }

    /**
     * The ODE model's log-densities of n points (data coordinates) on the Benton grid of {@code steps} steps.
     *
     * @param x n x d points, row-major; not modified
     * @return n log-densities
     */
    public double[] logDensity(SparkSession spark, double[] x, int n, int steps) {
        // The sampler's grid, from the horizon T (also for a one-level model) down to delta.
        double[] dh = deltaAndHorizon();
        int d = model().dimension();
        List<long[]> chunks = chunks(spark, n);
        List<Chunk> data = new ArrayList<>(chunks.size());
        for (long[] c : chunks) {
            double[] part = new double[(int) c[1] * d];
            System.arraycopy(x, (int) c[0] * d, part, 0, part.length);
            data.add(new Chunk(part, (int) c[1]));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ModelFolder> shipped = jsc.broadcast(folder);
        try (GenerateProgress progress = progress(spark, label + ": ODE log-density", chunks)) {
            List<double[]> parts = jsc.parallelize(data, data.size()).map(c -> {
                double[] out = new double[c.rows()];
                ModelDensity.of(shipped.value().model(), TimeGrid.benton(dh[1], dh[0], steps))
                        .logDensity(c.x(), c.rows(), out);
                return out;
            }).collect();
            return concat(parts, n);
        } finally {
            spark.sparkContext().clearJobGroup();
            shipped.destroy();
        }
    }

    /** Progress lines ("evaluate: sampling: 3/4 partitions, ...") of the next job, in a job group of its own. */
    private static GenerateProgress progress(SparkSession spark, String what, List<long[]> chunks) {
        SparkContext sc = spark.sparkContext();
        String group = "scoremix-" + UUID.randomUUID();
        sc.setJobGroup(group, what, false);
        long total = 0;
        for (long[] c : chunks) {
            total += c[1];
        }
        return new GenerateProgress(sc, group, what, chunks.size(), total, p -> chunks.get(p)[1], LOG::info,
                sc.getConf().getTimeAsMs("spark.scoremix.progressInterval", "5s"));
    }

    record Chunk(double[] x, int rows) implements Serializable {
    }

    /** Contiguous [start, length] chunks: about two per core, at least 64 points each. */
    private static List<long[]> chunks(SparkSession spark, int n) {
        int parallelism = Math.max(1, spark.sparkContext().defaultParallelism());
        int size = Math.max(64, (n + 2 * parallelism - 1) / (2 * parallelism));
        List<long[]> out = new ArrayList<>();
        for (int start = 0; start < n; start += size) {
            out.add(new long[] {start, Math.min(size, n - start)});
        }
        return out;
    }

    private static double[] concat(List<double[]> parts, int length) {
        double[] out = new double[length];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
