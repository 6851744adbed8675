package io.scoremix.bench;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.ScoreModelFormat;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.GenerateConfig;
import io.scoremix.spark.GenerateJob;
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
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.clustering.GaussianMixtureModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.stat.distribution.MultivariateGaussian;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bench/run mllib}: our fit against Spark MLlib's {@code GaussianMixture} in one Spark session on
 * the same Parquet files (issue 4's benchmark: general-10d, 1e6 x 10, k = 4, local[2]).
 *
 * <p>Steps: generate the data with {@code generate} (kept and reused when the folder exists); warm both
 * up on a 5,000-row slice (JIT, Spark's code generation); then time, each from reading the files to the
 * model in memory, {@link FitJob#fit} (default mode) and MLlib (VectorAssembler + GaussianMixture with
 * k, a fixed seed, maxIter 100 and its default tolerance 0.01). MLlib caches its vectors (its own
 * persistence); we read the files in every pass. Both models' TV to the truth is the Monte Carlo TV of
 * core-math (200,000 draws): MLlib's Gaussians taken as a mixture, and our crude mixture (our learned
 * model's sampler law has no closed-form density; the certified bound needs {@code bench/run learn}).
 * Both wall seconds and CPU seconds of the JVM are reported: on a shared machine the CPU ratio is the
 * steadier figure.
 * Optionally times {@code sample} of {@code --sample N} points from the fitted model. Writes a Markdown
 * table to {@code --out} (default bench/results/fit-vs-mllib.md).
 */
public final class MllibBench {

    private MllibBench() {
    }

    public static void main(String[] args) throws IOException {
        Path spec = Path.of("conf/examples/general-10d.json");
        long n = 1_000_000;
        int k = -1;
        long seed = 42;
        String master = "local[2]";
        Path work = Path.of(System.getProperty("java.io.tmpdir"), "scoremix-mllib-bench");
        Path out = Path.of("bench/results/fit-vs-mllib.md");
        long sampleN = 0;
        int repeats = 1;
        int crudeIterations = FitConfig.DEFAULT_CRUDE_ITERATIONS;
        long scoreRows = 0;
        long screenRows = FitConfig.DEFAULT_SCREEN_ROWS;
        boolean checkUnscreened = false;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--spec" -> { spec = Path.of(v); i++; }
                case "--n" -> { n = (long) Double.parseDouble(v); i++; }
                case "--k" -> { k = Integer.parseInt(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--master" -> { master = v; i++; }
                case "--work" -> { work = Path.of(v); i++; }
                case "--out" -> { out = Path.of(v); i++; }
                case "--sample" -> { sampleN = (long) Double.parseDouble(v); i++; }
                case "--repeats" -> { repeats = Integer.parseInt(v); i++; }
                case "--crude-iterations" -> { crudeIterations = Integer.parseInt(v); i++; }
                case "--score-rows" -> { scoreRows = (long) Double.parseDouble(v); i++; }
                case "--screen-rows" -> { screenRows = (long) Double.parseDouble(v); i++; }
                case "--check-unscreened" -> checkUnscreened = true;
                default -> {
                    System.err.println("usage: bench/run mllib [--spec FILE] [--n N] [--k K] [--seed S] [--master M]"
                            + " [--work DIR] [--out FILE] [--sample N] [--repeats R] [--crude-iterations N] [--score-rows N]"
                            + " [--screen-rows P] [--check-unscreened]");
                    System.exit(2);
                }
            }
        }
        MixtureSpec mixture = MixtureSpec.read(spec);
        GaussianMixture truth = mixture.mixture();
        int kk = k > 0 ? k : truth.components();
        int d = truth.dimension();
        SparkSession spark = SparkSessions.getOrCreate("scoremix mllib bench",
                new SparkConf().setMaster(master).set("spark.ui.enabled", "false"));
        Path data = work.resolve(mixture.name() + "-" + n + "-" + seed);
        Path warm = work.resolve(mixture.name() + "-warmup5k-" + seed);
        if (!Files.exists(data.resolve("_scoremix.json"))) {
            new GenerateJob(GenerateConfig.builder().spec(mixture, spec.toString()).n(n).seed(seed)
                    .output(data.toString()).overwrite(true).build()).run(spark);
        }
        if (!Files.exists(warm.resolve("_scoremix.json"))) {
            new GenerateJob(GenerateConfig.builder().spec(mixture, spec.toString()).n(5_000).seed(seed + 1)
                    .output(warm.toString()).overwrite(true).build()).run(spark);
        }
        System.err.println("mllib bench: warming up on 5,000 rows");
        ours(spark, warm, kk, seed, crudeIterations, scoreRows, screenRows);
        mllib(spark, warm, kk, seed, d);

        List<String> rows = new ArrayList<>();
        double bestOurs = Double.POSITIVE_INFINITY;
        double bestMllib = Double.POSITIVE_INFINITY;
        FitJob.Fitted fitted = null;
        GaussianMixture theirs = null;
        double bestOursCpu = Double.POSITIVE_INFINITY;
        double bestMllibCpu = Double.POSITIVE_INFINITY;
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            double c0 = processCpuSeconds();
            fitted = ours(spark, data, kk, seed, crudeIterations, scoreRows, screenRows);
            double oursSeconds = (System.nanoTime() - t0) * 1e-9;
            double oursCpu = processCpuSeconds() - c0;
            long t1 = System.nanoTime();
            double c1 = processCpuSeconds();
            theirs = mllib(spark, data, kk, seed, d);
            double mllibSeconds = (System.nanoTime() - t1) * 1e-9;
            double mllibCpu = processCpuSeconds() - c1;
            System.err.printf(Locale.ROOT, "mllib bench: run %d: ours %.1f s (CPU %.1f s) %s, MLlib %.1f s (CPU %.1f s), "
                    + "ratio %.3f (CPU %.3f)%n", r + 1, oursSeconds, oursCpu, fitted.seconds(), mllibSeconds, mllibCpu,
                    oursSeconds / mllibSeconds, oursCpu / mllibCpu);
            rows.add(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f | %s |", r + 1,
                    oursSeconds, mllibSeconds, oursSeconds / mllibSeconds, oursCpu, mllibCpu, oursCpu / mllibCpu,
                    stages(fitted.seconds())));
            bestOurs = Math.min(bestOurs, oursSeconds);
            bestMllib = Math.min(bestMllib, mllibSeconds);
            bestOursCpu = Math.min(bestOursCpu, oursCpu);
            bestMllibCpu = Math.min(bestMllibCpu, mllibCpu);
        }
        Estimate tvOurs = Divergences.monteCarloTv(truth, fitted.crude().mixture(), 200_000,
                CounterRandom.of(seed + 2), 31);
        Estimate tvMllib = Divergences.monteCarloTv(truth, theirs, 200_000, CounterRandom.of(seed + 2), 31);
        String screenLine = "";
        if (checkUnscreened) {
            // The same fit without screening (every level sees every row): are the coefficients the same?
            long t2 = System.nanoTime();
            double c2 = processCpuSeconds();
            FitJob.Fitted full = ours(spark, data, kk, seed, crudeIterations, scoreRows, 0);
            byte[] a = ScoreModelFormat.encode(fitted.model(), fitted.metadata()).coefficients();
            byte[] b = ScoreModelFormat.encode(full.model(), full.metadata()).coefficients();
            screenLine = String.format(Locale.ROOT, "%nThe same fit with `--screen-rows 0` (not screened; %.1f s wall, "
                    + "%.1f CPU s, stages %s): coefficient files %s (%d and %d bytes); screening: %s.%n",
                    (System.nanoTime() - t2) * 1e-9, processCpuSeconds() - c2, stages(full.seconds()),
                    java.util.Arrays.equals(a, b) ? "**equal bit for bit**" : "differ", a.length, b.length,
                    ((java.util.Map<?, ?>) fitted.metadata().get("provenance")).get("screening"));
            System.err.print(screenLine);
        }
        String sampleLine = "";
        if (sampleN > 0) {
            Path model = work.resolve("model-" + mixture.name());
            new FitJob(FitConfig.of(data.toString(), kk, model.toString()).withModel(model.toString(), true)
                    .withSeed(seed)).run(spark);
            Path samples = work.resolve("samples-" + mixture.name());
            SampleJob.Result s = new SampleJob(new SampleConfig(model.toString(), sampleN, samples.toString(),
                    io.scoremix.spark.OutputFormat.PARQUET, 0, seed, SampleConfig.DEFAULT_METHOD,
                    SampleConfig.DEFAULT_STEPS, true)).run(spark);
            sampleLine = String.format(Locale.ROOT, "%nSampling %d points (sde_residual, %s steps, %d partitions, "
                    + "Parquet): %.1f s.%n", sampleN, io.scoremix.spark.SamplerSteps.name(SampleConfig.DEFAULT_STEPS),
                    s.partitions(), s.seconds());
            System.err.print(sampleLine);
        }

        StringBuilder md = new StringBuilder();
        md.append("# scoremix fit against Spark MLlib GaussianMixture\n\n");
        md.append(String.format(Locale.ROOT, "`bench/run mllib --spec %s --n %d --master %s --seed %d --repeats %d"
                        + " --crude-iterations " + crudeIterations + (scoreRows > 0 ? " --score-rows " + scoreRows : "")
                        + (screenRows != FitConfig.DEFAULT_SCREEN_ROWS ? " --screen-rows " + screenRows : "")
                        + (checkUnscreened ? " --check-unscreened" : "")
                        + "%s`, "
                        + "%s; %s, %d cores seen by the JVM, load average at the start %s.%n%n", spec, n, master, seed,
                repeats, sampleN > 0 ? " --sample " + sampleN : "", Instant.now(), Versions.all(spark.version()),
                Runtime.getRuntime().availableProcessors(), loadAverage()));
        md.append(String.format(Locale.ROOT, "Data: %s, %d rows x %d columns, k = %d, Parquet from `generate` "
                + "(seed %d). Both fits in one session, each from reading the files to the model in memory, "
                + "after a warm-up of both on 5,000 rows. Ours: `FitJob.fit`, default mode, defaults otherwise. "
                + "MLlib: VectorAssembler + GaussianMixture(k, seed, maxIter 100, tol 0.01).%n%n",
                mixture.name(), n, d, kk, seed));
        md.append("| run | ours (s) | MLlib (s) | ratio | ours CPU (s) | MLlib CPU (s) | CPU ratio | our stages (s, wall) |\n"
                + "|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        md.append(String.format(Locale.ROOT, "%nBest wall times: ours %.1f s, MLlib %.1f s, ratio **%.3f** (target <= 0.5). "
                + "CPU seconds of the whole JVM (driver and local executors; robust to other load on the machine): "
                + "ours %.1f, MLlib %.1f, ratio **%.3f**.%n%n", bestOurs, bestMllib, bestOurs / bestMllib, bestOursCpu,
                bestMllibCpu, bestOursCpu / bestMllibCpu));
        md.append("| model | TV to the truth (Monte Carlo, 200,000 draws) |\n|---|---|\n");
        md.append(String.format(Locale.ROOT, "| ours: crude mixture | %.4f +- %.4f |%n", tvOurs.value(),
                tvOurs.standardError()));
        md.append(String.format(Locale.ROOT, "| MLlib GaussianMixture | %.4f +- %.4f |%n", tvMllib.value(),
                tvMllib.standardError()));
        md.append(screenLine);
        md.append(sampleLine);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
        System.out.print(md);
        spark.stop();
    }

    static FitJob.Fitted ours(SparkSession spark, Path data, int k, long seed, int crudeIterations, long scoreRows,
                              long screenRows) {
        Dataset<Row> frame = spark.read().parquet(data.toString());
        return FitJob.fit(spark, frame, FitConfig.forDataset(data.toString(), k).withSeed(seed)
                .withCrudeIterations(crudeIterations).withScoreRows(scoreRows).withScreenRows(screenRows));
    }

    /** CPU seconds of this JVM so far (all threads: the driver and, in local mode, the executors). */
    static double processCpuSeconds() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() * 1e-9 : Double.NaN;
    }

    static GaussianMixture mllib(SparkSession spark, Path data, int k, long seed, int d) {
        Dataset<Row> frame = spark.read().parquet(data.toString());
        Dataset<Row> vectors = new VectorAssembler().setInputCols(frame.columns()).setOutputCol("features")
                .transform(frame).select("features");
        GaussianMixtureModel model = new org.apache.spark.ml.clustering.GaussianMixture().setK(k).setSeed(seed)
                .setMaxIter(100).fit(vectors);
        MultivariateGaussian[] g = model.gaussians();
        double[][] means = new double[k][];
        double[][][] covs = new double[k][d][d];
        for (int i = 0; i < k; i++) {
            means[i] = g[i].mean().toArray();
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    covs[i][r][c] = 0.5 * (g[i].cov().apply(r, c) + g[i].cov().apply(c, r));
                }
            }
        }
        return GaussianMixture.of(model.weights(), means, covs);
    }

    private static String stages(Map<String, Double> seconds) {
        StringBuilder sb = new StringBuilder();
        seconds.forEach((name, s) -> {
            if (!name.equals("total")) {
                sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.1f", name, s));
            }
        });
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
