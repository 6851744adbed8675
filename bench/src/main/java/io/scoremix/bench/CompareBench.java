package io.scoremix.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.metrics.CertifiedBoundConfig;
import io.scoremix.core.metrics.CertifiedTvBound;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.metrics.ProjectionConfig;
import io.scoremix.core.metrics.ProjectionLowerBound;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ModelDensity;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.spark.SparkSessions;
import io.scoremix.spark.Versions;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.clustering.GaussianMixtureModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.stat.distribution.MultivariateGaussian;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code bench/run compare --instances DIR --n N --out DIR [--seed S] [--samples M] [--steps K]
 * [--master local[2]] [--only name,..]}: issue 6's comparison. For every {@code scoremix.gmm/v1} file in DIR,
 * the same N training points (seed S) go through scoremix in default, paper and plugin modes (the in-memory
 * {@link Learner}), the crude mixture sampled directly, and Spark MLlib's GaussianMixture (same k, maxIter
 * 100, seed S) in one local Spark session. Per (instance, method) one row:
 * <ul>
 *   <li>{@code tv_exact}: Monte Carlo TV to the truth where the method has a density: the crude mixture and
 *       MLlib's (200,000 draws), the learned model's probability-flow ODE density ({@link ModelDensity},
 *       {@code --ode-draws} draws of the truth, default 2,000: its log-density integrates an ODE per point);</li>
 *   <li>{@code certified_tv_upper}: the certified bound of the SDE_RESIDUAL sampler on K steps (default 256),
 *       for the three scoremix modes;</li>
 *   <li>{@code tv_lower}: the held-out projection lower bound of M samples (default min(N, 20,000)) of the
 *       method against the truth (the classifier bound is not computed here);</li>
 *   <li>{@code heldout_loglik}: mean log-density of 20,000 fresh truth points, for the crude and MLlib
 *       mixtures (and the truth's own, for reference);</li>
 *   <li>{@code fit_seconds}, {@code sample_seconds}, and {@code error}: an exception or a non-finite figure
 *       becomes the row's error message; no row crashes the run.</li>
 * </ul>
 * Writes {@code compare.json} (an object whose {@code rows} list holds the rows) and {@code compare.md}
 * into the out folder after every instance, so an interrupted run keeps what it measured.
 */
public final class CompareBench {

    static final String[] METHODS = {"default", "paper", "plugin", "crude", "mllib"};

    private CompareBench() {
    }

    public static void main(String[] args) throws IOException {
        Path instances = Path.of("core-math/src/test/resources/instances");
        Path out = Path.of("bench/results");
        int n = 100_000;
        long seed = 1;
        int samples = -1;
        int steps = 256;
        int odeDraws = 2_000;
        String master = "local[2]";
        List<String> only = null;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--instances" -> { instances = Path.of(v); i++; }
                case "--out" -> { out = Path.of(v); i++; }
                case "--n" -> { n = (int) Double.parseDouble(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--samples" -> { samples = Integer.parseInt(v); i++; }
                case "--steps" -> { steps = Integer.parseInt(v); i++; }
                case "--ode-draws" -> { odeDraws = Integer.parseInt(v); i++; }
                case "--master" -> { master = v; i++; }
                case "--only" -> { only = List.of(v.split(",")); i++; }
                default -> {
                    System.err.println("usage: bench/run compare --instances DIR --n N --out DIR [--seed S] [--samples M]"
                            + " [--steps K] [--ode-draws D] [--master local[2]] [--only name,..]");
                    System.exit(2);
                }
            }
        }
        if (samples < 0) {
            samples = Math.min(n, 20_000);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(instances)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        String command = String.format(Locale.ROOT, "bench/run compare --instances %s --n %d --out %s --seed %d --samples %d"
                + " --steps %d --ode-draws %d --master %s%s", instances, n, out, seed, samples, steps, odeDraws, master,
                only == null ? "" : " --only " + String.join(",", only));
        Instant started = Instant.now();
        String load = loadAverage();
        SparkSession spark = SparkSessions.getOrCreate("scoremix compare",
                new SparkConf().setMaster(master).set("spark.ui.enabled", "false"));
        Map<String, String> versions = new LinkedHashMap<>(Versions.all(spark.version()));
        versions.put("blas", Blas.name());
        Settings settings = new Settings(n, seed, samples, steps, odeDraws);
        List<ObjectNode> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.createDirectories(out);
        for (Path file : files) {
            MixtureSpec spec;
            try {
                spec = MixtureSpec.read(file);
            } catch (IOException | RuntimeException e) {
                ObjectNode r = json.createObjectNode();
                r.put("instance", file.getFileName().toString());
                r.put("method", "all");
                r.put("error", "cannot read the instance: " + e);
                rows.add(r);
                continue;
            }
            if (only != null && !only.contains(spec.name())) {
                continue;
            }
            System.err.printf(Locale.ROOT, "compare: %s (d = %d, k = %d), n = %d%n", spec.name(),
                    spec.mixture().dimension(), spec.mixture().components(), n);
            rows.addAll(new Instance(json, spec, settings).run(spark));
            write(json, out, command, started, load, versions, settings, rows);
        }
        write(json, out, command, started, load, versions, settings, rows);
        spark.stop();
    }

    record Settings(int n, long seed, int samples, int steps, int odeDraws) {
    }

    /** The five rows of one instance. */
    static final class Instance {
        private final ObjectMapper json;
        private final MixtureSpec spec;
        private final Settings s;
        private final GaussianMixture truth;
        private final int d;
        private final int k;
        private final double[] x;
        private final double[] test;
        private static final int TEST = 20_000;
        private CrudeMixtureResult crude;
        private double crudeSeconds = Double.NaN;

        Instance(ObjectMapper json, MixtureSpec spec, Settings s) {
            this.json = json;
            this.spec = spec;
            this.s = s;
            this.truth = spec.mixture();
            this.d = truth.dimension();
            this.k = truth.components();
            this.x = new double[s.n() * d];
            truth.sample(CounterRandom.of(s.seed()), 11, 0, s.n(), x);
            this.test = new double[TEST * d];
            truth.sample(CounterRandom.of(s.seed() + 100), 13, 0, TEST, test);
        }

        List<ObjectNode> run(SparkSession spark) {
            List<ObjectNode> rows = new ArrayList<>();
            for (String method : METHODS) {
                ObjectNode r = json.createObjectNode();
                r.put("instance", spec.name());
                r.put("method", method);
                r.put("n", s.n());
                r.put("d", d);
                r.put("k", k);
                for (String f : new String[] {"certified_tv_upper", "tv_exact", "tv_lower", "heldout_loglik",
                        "fit_seconds", "sample_seconds"}) {
                    r.putNull(f);
                }
                r.putNull("error");
                long t0 = System.nanoTime();
                try {
                    switch (method) {
                        case "crude" -> crude(r);
                        case "mllib" -> mllib(spark, r);
                        default -> learned(LearnerConfig.Mode.valueOf(method.toUpperCase(Locale.ROOT)), r);
                    }
                    String bad = nonFinite(r);
                    if (bad != null) {
                        r.put("error", "non-finite " + bad);
                    }
                } catch (Throwable e) {
                    if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
                        throw (VirtualMachineError) e;
                    }
                    r.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                r.put("wall_seconds", (System.nanoTime() - t0) * 1e-9);
                System.err.printf(Locale.ROOT, "compare: %s %s: %s%n", spec.name(), method, r);
                rows.add(r);
            }
            return rows;
        }

        private void learned(LearnerConfig.Mode mode, ObjectNode r) {
            LearnerConfig config = LearnerConfig.builder(k).mode(mode).seed(s.seed()).build();
            long t0 = System.nanoTime();
            Learner.Result fit = Learner.fit(x, s.n(), d, null, config);
            r.put("fit_seconds", (System.nanoTime() - t0) * 1e-9);
            if (crude == null) {
                crude = fit.plan().crudeResult();
                crudeSeconds = fit.crudeSeconds();
            }
            ScoreModel model = fit.model();
            r.put("delta", fit.plan().delta());
            int fitted = 0;
            for (var level : fit.levels()) {
                fitted += level.fittedCells();
            }
            r.put("fitted_cells", fitted);
            TimeGrid grid = TimeGrid.benton(config.horizon(), fit.plan().delta(), s.steps());
            ReverseSampler sampler = ReverseSampler.of(SamplerConfig.builder(grid)
                    .method(SamplerConfig.Method.SDE_RESIDUAL).build());
            int m = s.samples();
            double[] z = new double[m * d];
            long t1 = System.nanoTime();
            sampler.sample(model, CounterRandom.of(s.seed() + 1), 21, 0, m, z);
            r.put("sample_seconds", (System.nanoTime() - t1) * 1e-9);
            double[] y = new double[m * d];
            model.whitening().invert(z, m, y);
            putLower(r, y, m);
            GaussianMixture truthZ = model.whitening().toWhitened(truth);
            CertifiedTvBound bound = Divergences.certifiedTvUpperBound(truthZ, model, grid,
                    CertifiedBoundConfig.defaults().withScheme(CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL));
            r.put("certified_tv_upper", bound.total());
            r.put("certified_tv_upper_se", bound.totalStandardError());
            // The ODE model's density (data coordinates) is the exact law of the deterministic sampler.
            Estimate tv = Divergences.monteCarloTv(truth, ModelDensity.of(model, ModelDensity.DEFAULT_STEPS),
                    s.odeDraws(), CounterRandom.of(s.seed() + 2), 31);
            r.put("tv_exact", tv.value());
            r.put("tv_exact_se", tv.standardError());
            r.put("tv_exact_of", "probability-flow ODE model, " + ModelDensity.DEFAULT_STEPS + " steps");
        }

        private void crude(ObjectNode r) {
            if (crude == null) {
                throw new IllegalStateException("no crude mixture: the default fit failed before it");
            }
            r.put("fit_seconds", crudeSeconds);
            mixtureFigures(crude.mixture(), r);
        }

        private void mllib(SparkSession spark, ObjectNode r) {
            List<Row> list = new ArrayList<>(s.n());
            for (int j = 0; j < s.n(); j++) {
                list.add(RowFactory.create(Vectors.dense(java.util.Arrays.copyOfRange(x, j * d, (j + 1) * d))));
            }
            Dataset<Row> frame = spark.createDataFrame(list, new StructType().add("features", SQLDataTypes.VectorType()))
                    .repartition(2).cache();
            frame.count();
            long t0 = System.nanoTime();
            GaussianMixtureModel model = new org.apache.spark.ml.clustering.GaussianMixture().setK(k)
                    .setSeed(s.seed()).setMaxIter(100).fit(frame);
            r.put("fit_seconds", (System.nanoTime() - t0) * 1e-9);
            frame.unpersist();
            r.put("mllib_iterations", model.summary().numIter());
            r.put("mllib_loglik", model.summary().logLikelihood());
            MultivariateGaussian[] g = model.gaussians();
            double[] w = model.weights();
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
            GaussianMixture theirs;
            try {
                theirs = GaussianMixture.of(w, means, covs);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("MLlib's model is not a valid mixture (weights "
                        + java.util.Arrays.toString(w) + "): " + e.getMessage(), e);
            }
            mixtureFigures(theirs, r);
        }

        /** Exact TV, held-out log-likelihood and the projection bound of a mixture's own samples. */
        private void mixtureFigures(GaussianMixture q, ObjectNode r) {
            Estimate tv = Divergences.monteCarloTv(truth, q, 200_000, CounterRandom.of(s.seed() + 2), 31);
            r.put("tv_exact", tv.value());
            r.put("tv_exact_se", tv.standardError());
            r.put("tv_exact_of", "the mixture, 200000 draws of the truth");
            double[] ll = new double[TEST];
            q.logDensity(test, TEST, ll);
            double[] lt = new double[TEST];
            truth.logDensity(test, TEST, lt);
            r.put("heldout_loglik", mean(ll));
            r.put("heldout_loglik_truth", mean(lt));
            int m = s.samples();
            double[] y = new double[m * d];
            long t0 = System.nanoTime();
            q.sample(CounterRandom.of(s.seed() + 1), 21, 0, m, y);
            r.put("sample_seconds", (System.nanoTime() - t0) * 1e-9);
            putLower(r, y, m);
        }

        private void putLower(ObjectNode r, double[] y, int m) {
            ProjectionLowerBound lower = Divergences.projectionTvLowerBound(truth, y, m, ProjectionConfig.defaults());
            r.put("tv_lower", lower.value());
            r.put("tv_lower_se", lower.standardError());
            r.put("tv_lower_direction", lower.directionLabel());
        }

        private static double mean(double[] v) {
            double s = 0;
            for (double a : v) {
                s += a;
            }
            return s / v.length;
        }

        private static String nonFinite(ObjectNode r) {
            for (var it = r.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getValue().isNumber() && !Double.isFinite(e.getValue().asDouble())) {
                    return e.getKey() + " = " + e.getValue().asDouble();
                }
            }
            return null;
        }
    }

    private static void write(ObjectMapper json, Path out, String command, Instant started, String load,
                              Map<String, String> versions, Settings s, List<ObjectNode> rows) throws IOException {
        ObjectNode root = json.createObjectNode();
        root.put("command", command);
        root.put("started", started.toString());
        root.put("written", Instant.now().toString());
        root.put("machine", machine());
        root.put("load_average_at_start", load);
        ObjectNode v = root.putObject("versions");
        versions.forEach(v::put);
        ArrayNode list = root.putArray("rows");
        rows.forEach(list::add);
        json.writeValue(out.resolve("compare.json").toFile(), root);
        Files.writeString(out.resolve("compare.md"), markdown(command, started, load, versions, s, rows),
                StandardCharsets.UTF_8);
    }

    static String markdown(String command, Instant started, String load, Map<String, String> versions, Settings s,
                           List<ObjectNode> rows) {
        StringBuilder md = new StringBuilder("# scoremix against Spark MLlib on the benchmark instances\n\n");
        md.append("    ").append(command).append("\n\n");
        md.append(String.format(Locale.ROOT, "Started %s on %s (load average %s at the start). Versions: %s.%n%n",
                started, machine(), load, versions));
        md.append(String.format(Locale.ROOT, "Training rows n = %d per instance (seed %d). Samplers: SDE_RESIDUAL, %d "
                + "steps, %d samples. `certified` is the certified TV upper bound of the sampler's output; `exact` the "
                + "Monte Carlo TV to the truth of a density (crude and MLlib mixtures; for scoremix modes the "
                + "probability-flow ODE model, %d draws); `lower` the held-out projection lower bound of the samples; "
                + "`loglik` the mean log-density of 20,000 fresh truth points (the truth's own in parentheses). "
                + "Values +- one standard error.%n%n", s.n(), s.seed(), s.steps(), s.samples(), s.odeDraws()));
        md.append("| instance | method | certified | exact | lower | loglik | fit s | sample s | error |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (ObjectNode r : rows) {
            md.append("| ").append(r.path("instance").asText()).append(" | ").append(r.path("method").asText())
                    .append(" | ").append(pm(r, "certified_tv_upper")).append(" | ").append(pm(r, "tv_exact"))
                    .append(" | ").append(pm(r, "tv_lower")).append(" | ").append(loglik(r))
                    .append(" | ").append(num(r, "fit_seconds", "%.1f")).append(" | ")
                    .append(num(r, "sample_seconds", "%.1f")).append(" | ")
                    .append(r.path("error").isNull() ? "" : r.path("error").asText().replace('|', '/'))
                    .append(" |\n");
        }
        return md.toString();
    }

    private static String pm(ObjectNode r, String key) {
        if (!r.path(key).isNumber()) {
            return "-";
        }
        double v = r.path(key).asDouble();
        return r.path(key + "_se").isNumber()
                ? String.format(Locale.ROOT, "%.4f +- %.4f", v, r.path(key + "_se").asDouble())
                : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String loglik(ObjectNode r) {
        if (!r.path("heldout_loglik").isNumber()) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.4f (%.4f)", r.path("heldout_loglik").asDouble(),
                r.path("heldout_loglik_truth").asDouble());
    }

    private static String num(ObjectNode r, String key, String format) {
        return r.path(key).isNumber() ? String.format(Locale.ROOT, format, r.path(key).asDouble()) : "-";
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException | RuntimeException e) {
            // keep the default
        }
        return String.format(Locale.ROOT, "%s, %d cores seen by the JVM, %.1f GiB max heap, %s %s", cpu,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() / 1073741824.0,
                System.getProperty("os.name"), System.getProperty("os.version"));
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
