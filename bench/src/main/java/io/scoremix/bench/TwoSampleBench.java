package io.scoremix.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.spark.ClassifierTwoSample;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.GenerateConfig;
import io.scoremix.spark.GenerateJob;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SampleJob;
import io.scoremix.spark.SparkSessions;
import io.scoremix.spark.Versions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.clustering.GaussianMixtureModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.stat.distribution.MultivariateGaussian;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code bench/run two-sample}: issue 4's must-show "general-10d, 200,000 rows: fit and sample 100,000 in
 * local mode; by a classifier two-sample test the samples are no further from fresh truth samples than
 * those of an EM fit with restarts".
 *
 * <p>Steps, in one local Spark session: {@code generate} writes N training rows of the spec (seed S,
 * Parquet); {@code fit} (default mode, defaults otherwise) writes a model; {@code sample} draws M points
 * (seed S + 1, SDE_RESIDUAL on 256 steps, Parquet), read back. The comparators fit the same N rows: core's
 * {@link CrudeMixture} (EM from every initialisation in both coordinate systems, {@code --restarts} restarts,
 * the best held-out log-likelihood wins, then EM on all rows) and Spark MLlib's GaussianMixture (maxIter
 * 100, {@code --mllib-seeds} seeds, the highest training log-likelihood wins); each mixture draws M points
 * (seed S + 1). The fresh truth draws M points with seed S + 2, and the control a second independent truth
 * sample with seed S + 3. Every sampler's points go through {@link ClassifierTwoSample} against the same
 * fresh truth points (same quadratic logistic classifier, same even/odd split), which gives the held-out
 * balanced accuracy, its standard error and the TV lower bound {@code max(0, 2 a - 1)}.
 *
 * <p>The claim holds against a comparator when scoremix's accuracy is at most the comparator's plus two
 * combined standard errors {@code 2 sqrt(se_1^2 + se_2^2)}. Writes a Markdown report to {@code --out}
 * (default bench/results/two-sample.md) with the command, the machine and the times.
 */
public final class TwoSampleBench {

    /** Stream of the mixtures' sample draws ("mixsmpl" in ASCII). */
    private static final long MIXTURE_STREAM = 0x6D6978736D706CL;
    /** Stream of the truth draws ("truthx" in ASCII). */
    private static final long TRUTH_STREAM = 0x7472757468L;

    private TwoSampleBench() {
    }

    /** One sampler's row of the report. */
    record Line(String sampler, String fit, ClassifierTwoSample.Result result, double fitSeconds,
                double sampleSeconds) {
    }

    public static void main(String[] args) throws IOException {
        Path spec = Path.of("conf/examples/general-10d.json");
        long n = 200_000;
        int m = 100_000;
        long seed = 42;
        int restarts = 5;
        int mllibSeeds = 3;
        String master = "local[2]";
        boolean reuse = false;
        Path work = Path.of(System.getProperty("java.io.tmpdir"), "scoremix-two-sample-bench");
        Path out = Path.of("bench/results/two-sample.md");
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--spec" -> { spec = Path.of(v); i++; }
                case "--n" -> { n = (long) Double.parseDouble(v); i++; }
                case "--samples" -> { m = (int) Double.parseDouble(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--restarts" -> { restarts = Integer.parseInt(v); i++; }
                case "--mllib-seeds" -> { mllibSeeds = Integer.parseInt(v); i++; }
                case "--master" -> { master = v; i++; }
                case "--work" -> { work = Path.of(v); i++; }
                case "--out" -> { out = Path.of(v); i++; }
                case "--reuse" -> reuse = true;
                default -> {
                    System.err.println("usage: bench/run two-sample [--spec FILE] [--n N] [--samples M] [--seed S]"
                            + " [--restarts R] [--mllib-seeds K] [--master M] [--work DIR] [--out FILE] [--reuse]");
                    System.exit(2);
                }
            }
        }
        String command = String.format(Locale.ROOT, "bench/run two-sample --spec %s --n %d --samples %d --seed %d"
                + " --restarts %d --mllib-seeds %d --master %s%s", spec, n, m, seed, restarts, mllibSeeds, master, reuse ? " --reuse" : "");
        Instant started = Instant.now();
        String load = loadAverage();
        long tStart = System.nanoTime();
        MixtureSpec mixture = MixtureSpec.read(spec);
        GaussianMixture truth = mixture.mixture();
        int k = truth.components();
        int d = truth.dimension();
        SparkSession spark = SparkSessions.getOrCreate("scoremix two-sample bench",
                new SparkConf().setMaster(master).set("spark.ui.enabled", "false"));
        Path data = work.resolve("train");
        Path model = work.resolve("model");
        Path samples = work.resolve("samples");

        List<String> reused = new ArrayList<>();
        double generateSeconds = earlier(reuse, data, seed, reused);
        long t0 = System.nanoTime();
        if (Double.isNaN(generateSeconds)) {
            new GenerateJob(GenerateConfig.builder().spec(mixture, spec.toString()).n(n).seed(seed)
                    .output(data.toString()).overwrite(true).build()).run(spark);
            generateSeconds = seconds(t0);
        }
        log("generated %d rows in %.1f s", n, generateSeconds);

        double fitSeconds = earlier(reuse, model, seed, reused);
        if (Double.isNaN(fitSeconds)) {
            t0 = System.nanoTime();
            new FitJob(FitConfig.of(data.toString(), k, model.toString()).withModel(model.toString(), true)
                    .withSeed(seed)).run(spark);
            fitSeconds = seconds(t0);
        }
        log("scoremix fit in %.1f s", fitSeconds);
        double sampleSeconds = earlier(reuse, samples, seed + 1, reused);
        if (Double.isNaN(sampleSeconds)) {
            t0 = System.nanoTime();
            new SampleJob(new SampleConfig(model.toString(), m, samples.toString(), OutputFormat.PARQUET, 0, seed + 1,
                    SampleConfig.DEFAULT_METHOD, SampleConfig.DEFAULT_STEPS, true)).run(spark);
            sampleSeconds = seconds(t0);
        }
        double[] ours = readRows(spark, samples, d, m);
        log("scoremix sampled %d points in %.1f s", m, sampleSeconds);

        double[] x = readRows(spark, data, d, n);
        t0 = System.nanoTime();
        CrudeMixtureResult em = CrudeMixture.fit(x, (int) n, d,
                CrudeMixtureConfig.builder(k).restarts(restarts).seed(seed).build());
        double emSeconds = seconds(t0);
        log("EM with restarts (%d candidates) in %.1f s", em.candidates().size(), emSeconds);
        em.candidates().forEach(c -> log("  EM candidate %s", c));
        t0 = System.nanoTime();
        double[] emPoints = draw(em.mixture(), seed + 1, m);
        double emSampleSeconds = seconds(t0);

        t0 = System.nanoTime();
        double[] bestLogLik = {Double.NEGATIVE_INFINITY};
        GaussianMixture mllib = mllibBestOf(spark, data, k, d, seed, mllibSeeds, bestLogLik);
        double mllibSeconds = seconds(t0);
        log("MLlib best of %d seeds in %.1f s (log-likelihood %.1f)", mllibSeeds, mllibSeconds, bestLogLik[0]);
        t0 = System.nanoTime();
        double[] mllibPoints = draw(mllib, seed + 1, m);
        double mllibSampleSeconds = seconds(t0);

        double[] fresh = new double[m * d];
        truth.sample(CounterRandom.of(seed + 2), TRUTH_STREAM, 0, m, fresh);
        double[] control = new double[m * d];
        truth.sample(CounterRandom.of(seed + 3), TRUTH_STREAM, 0, m, control);

        List<Line> lines = new ArrayList<>();
        t0 = System.nanoTime();
        lines.add(new Line("scoremix (default mode, SDE_RESIDUAL 256 steps)", "fit + sample on Spark",
                ClassifierTwoSample.test(fresh, m, ours, m, d), fitSeconds, sampleSeconds));
        lines.add(new Line("EM with restarts (core CrudeMixture, " + restarts + " restarts, "
                + em.candidates().size() + " candidates)", "driver, in memory",
                ClassifierTwoSample.test(fresh, m, emPoints, m, d), emSeconds, emSampleSeconds));
        lines.add(new Line("Spark MLlib GaussianMixture (maxIter 100, best of " + mllibSeeds + " seeds)",
                "Spark", ClassifierTwoSample.test(fresh, m, mllibPoints, m, d), mllibSeconds, mllibSampleSeconds));
        lines.add(new Line("control: a second truth sample", "-", ClassifierTwoSample.test(fresh, m, control, m, d),
                Double.NaN, Double.NaN));
        double testSeconds = seconds(t0);
        lines.forEach(l -> log("%s: %s", l.sampler(), l.result()));

        String md = markdown(command, started, load, spark.version(), mixture.name(), n, m, d, k, seed, lines,
                generateSeconds, testSeconds, seconds(tStart), reused);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md, StandardCharsets.UTF_8);
        System.out.print(md);
        spark.stop();
    }

    /**
     * With {@code --reuse}, the seconds recorded in the provenance of an existing output of an earlier run
     * (its seed must match); NaN when the step has to run.
     */
    private static double earlier(boolean reuse, Path folder, long seed, List<String> reused) throws IOException {
        Path provenance = folder.resolve("_scoremix.json");
        if (!reuse || !Files.exists(provenance)) {
            return Double.NaN;
        }
        JsonNode p = new ObjectMapper().readTree(provenance.toFile());
        JsonNode recorded = p.findValue("seed");
        if (recorded == null || recorded.asLong() != seed) {
            return Double.NaN;
        }
        reused.add(String.format(Locale.ROOT, "%s (started %s, %.1f s)", folder.getFileName(),
                p.path("started").asText(), p.path("seconds").asDouble()));
        return p.path("seconds").asDouble();
    }

    /** Reads the first d columns (x0 .. x(d-1)) of a Parquet folder into a row-major array of n rows. */
    static double[] readRows(SparkSession spark, Path folder, int d, long n) {
        Column[] cols = new Column[d];
        for (int r = 0; r < d; r++) {
            cols[r] = functions.col("x" + r);
        }
        List<Row> rows = spark.read().parquet(folder.toString()).select(cols).collectAsList();
        if (rows.size() != n) {
            throw new IllegalStateException(folder + " holds " + rows.size() + " rows, expected " + n);
        }
        double[] x = new double[rows.size() * d];
        for (int j = 0; j < rows.size(); j++) {
            Row row = rows.get(j);
            for (int r = 0; r < d; r++) {
                x[j * d + r] = row.getDouble(r);
            }
        }
        return x;
    }

    private static double[] draw(GaussianMixture q, long seed, int m) {
        double[] y = new double[m * q.dimension()];
        q.sample(CounterRandom.of(seed), MIXTURE_STREAM, 0, m, y);
        return y;
    }

    /** MLlib's GaussianMixture (maxIter 100) with seeds seed .. seed + runs - 1; the highest log-likelihood wins. */
    static GaussianMixture mllibBestOf(SparkSession spark, Path data, int k, int d, long seed, int runs,
                                       double[] bestLogLik) {
        Dataset<Row> frame = spark.read().parquet(data.toString());
        Dataset<Row> vectors = new VectorAssembler().setInputCols(frame.columns()).setOutputCol("features")
                .transform(frame).select("features").cache();
        vectors.count();
        GaussianMixtureModel best = null;
        for (int r = 0; r < runs; r++) {
            GaussianMixtureModel model = new org.apache.spark.ml.clustering.GaussianMixture().setK(k)
                    .setSeed(seed + r).setMaxIter(100).fit(vectors);
            double ll = model.summary().logLikelihood();
            log("MLlib seed %d: log-likelihood %.1f after %d iterations", seed + r, ll, model.summary().numIter());
            if (best == null || ll > bestLogLik[0]) {
                best = model;
                bestLogLik[0] = ll;
            }
        }
        vectors.unpersist();
        MultivariateGaussian[] g = best.gaussians();
        double[][] means = new double[k][];
        double[][][] covs = new double[k][d][d];
        for (int i = 0; i < k; i++) {
            means[i] = g[i].mean().toArray();
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) {
                    covs[i][a][b] = 0.5 * (g[i].cov().apply(a, b) + g[i].cov().apply(b, a));
                }
            }
        }
        return GaussianMixture.of(best.weights(), means, covs);
    }

    static String markdown(String command, Instant started, String load, String sparkVersion, String name, long n,
                           int m, int d, int k, long seed, List<Line> lines, double generateSeconds,
                           double testSeconds, double totalSeconds, List<String> reused) {
        StringBuilder md = new StringBuilder("# Classifier two-sample test: scoremix against EM fits\n\n");
        md.append("    ").append(command).append("\n\n");
        md.append(String.format(Locale.ROOT, "Started %s on %s (load average %s at the start); BLAS %s; %s.%n%n",
                started, machine(), load, Blas.name(), Versions.all(sparkVersion)));
        md.append(String.format(Locale.ROOT, "Data: %s (d = %d, k = %d), %d training rows from `generate` (seed %d, "
                + "Parquet, %.1f s). Every sampler draws %d points (seed %d); they are compared with the same %d "
                + "fresh truth points (seed %d) by `ClassifierTwoSample`: L2-penalised logistic regression on "
                + "quadratic features, trained on the even rows of both samples and tested on the odd rows "
                + "(%d + %d held out). Balanced accuracy 0.5 means the classifier cannot tell the samples from the "
                + "truth; TV >= max(0, 2 a - 1). Values +- one standard error.%n%n", name, d, k, n, seed,
                generateSeconds, m, seed + 1, m, seed + 2, m / 2, m / 2));
        md.append("| sampler | where | balanced accuracy | TV lower bound | accuracy on truth / on samples "
                + "| fit s | sample s |\n|---|---|---|---|---|---|---|\n");
        for (Line l : lines) {
            ClassifierTwoSample.Result r = l.result();
            md.append(String.format(Locale.ROOT, "| %s | %s | %.4f +- %.4f | %.4f | %.4f / %.4f | %s | %s |%n",
                    l.sampler(), l.fit(), r.accuracy(), r.standardError(), r.tvLowerBound(), r.accuracyP(),
                    r.accuracyQ(), time(l.fitSeconds()), time(l.sampleSeconds())));
        }
        ClassifierTwoSample.Result ours = lines.get(0).result();
        md.append("\nThe claim (scoremix's accuracy at most the comparator's + 2 combined standard errors):\n\n");
        for (Line l : lines.subList(1, lines.size() - 1)) {
            ClassifierTwoSample.Result r = l.result();
            double combined = Math.hypot(ours.standardError(), r.standardError());
            double diff = ours.accuracy() - r.accuracy();
            md.append(String.format(Locale.ROOT, "- against %s: difference %+.4f, 2 combined SE %.4f: **%s** "
                            + "(difference / combined SE = %+.2f)%n", l.sampler(), diff, 2 * combined,
                    diff <= 2 * combined ? "holds" : "does not hold", diff / combined));
        }
        ClassifierTwoSample.Result c = lines.get(lines.size() - 1).result();
        md.append(String.format(Locale.ROOT, "- control: truth against truth, accuracy %.4f, %+.2f SE from 0.5%n",
                c.accuracy(), (c.accuracy() - 0.5) / c.standardError()));
        md.append(String.format(Locale.ROOT, "%nThe four classifier tests took %.1f s; the whole run %.1f s.%n",
                testSeconds, totalSeconds));
        if (!reused.isEmpty()) {
            md.append("\nReused from an earlier run of the same command (`--reuse`; their times are the `seconds` of "
                    + "their provenance): ").append(String.join("; ", reused)).append(".\n");
        }
        return md.toString();
    }

    private static String time(double s) {
        return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.1f", s);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) * 1e-9;
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "two-sample bench: " + format + "%n", args);
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException | RuntimeException e) {
            // keep the default
        }
        return String.format(Locale.ROOT, "%s, %d cores seen by the JVM, %.1f GiB max heap", cpu,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() / 1073741824.0);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
