package io.scoremix.bench;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.scoremix.core.mixture.DensityModel;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ModelDensity;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.report.Plots;
import io.scoremix.spark.ClassifierTwoSample;
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
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code bench/run compare --instances DIR --n N --out DIR [--seed S] [--samples M] [--steps K|auto] [--ode-draws D]
 * [--loglik-points L] [--mixture-draws R] [--master local[2]] [--only name,..]}: issue 6's comparison. For
 * every {@code scoremix.gmm/v1} file in DIR, the same N training points (seed S) go through scoremix in
 * default, paper and plugin modes (the in-memory {@link Learner}), the crude mixture sampled directly, and
 * Spark MLlib's GaussianMixture (same k, maxIter 100, seed S) in one local Spark session. Per (instance,
 * method) one row:
 * <ul>
 *   <li>{@code tv_exact}: Monte Carlo TV to the truth where the method has a density: the crude mixture and
 *       MLlib's (R draws of the truth, default 200,000), the learned model's probability-flow ODE density
 *       ({@link ModelDensity}, D draws, default 2,000: its log-density integrates an ODE per point);</li>
 *   <li>{@code certified_tv_upper}: the certified bound of the default sampler of {@code sample} (SDE_RESIDUAL on
 *       the crude mixture's curvature grid) on K steps, by default {@code auto}: chosen per model from its crude
 *       mixture as {@code sample} does (the row's {@code steps}), for the three scoremix modes;</li>
 *   <li>{@code tv_lower}: the larger of two held-out lower bounds from M samples of the method (default
 *       min(N, 20,000)) against the truth, named in {@code tv_lower_from}: the projection bound
 *       ({@code tv_lower_projection}) and the classifier two-sample bound {@code 2 a - 1}
 *       ({@code tv_lower_classifier}, {@link ClassifierTwoSample} against M fresh truth points, trained on
 *       even rows and scored on odd ones);</li>
 *   <li>{@code heldout_loglik}: mean log-density of the same L fresh truth points (default 2,000) for every
 *       method with a density (the ODE model for scoremix modes), with the truth's own on those points and
 *       the paired standard error of the difference;</li>
 *   <li>{@code fit_seconds}, {@code sample_seconds}, and {@code error}: an exception or a non-finite figure
 *       becomes the row's error message; no row crashes the run.</li>
 * </ul>
 * Every field except the {@code *_seconds} ones is a deterministic function of the options and the instance
 * files. Writes {@code compare.json} (an object whose {@code rows} list holds the rows), {@code compare.md}
 * and the SVG plots of each instance into the out folder after every instance, so an interrupted run keeps
 * what it measured; a {@code ## Notes} section of an existing compare.md is carried over.
 */
public final class CompareBench {

    static final String[] METHODS = {"default", "paper", "plugin", "crude", "mllib"};
    /**
     * The order the methods are run in: MLlib and the default first (crude needs the default's fit), so a run
     * stopped part-way has the most telling rows; rows are reported in {@link #METHODS} order.
     */
    static final String[] RUN_ORDER = {"mllib", "default", "crude", "plugin", "paper"};
    /** Methods whose samples are drawn against the truth in a scatter plot. */
    static final List<String> SCATTER_METHODS = List.of("default", "paper", "mllib");
    /** Spark ML's {@code Utils.EPSILON}, the machine epsilon 2^-52, which its GaussianMixture adds to densities. */
    static final double MLLIB_EPSILON = Math.ulp(1.0);
    /** Points of each set in a scatter plot. */
    static final int SCATTER_POINTS = 1_000;
    static final String NOTES = "## Notes";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CompareBench() {
    }

    public static void main(String[] args) throws IOException {
        Path instances = Path.of("core-math/src/test/resources/instances");
        Path out = Path.of("bench/results");
        int n = 100_000;
        long seed = 1;
        int samples = -1;
        int steps = AUTO;
        int odeDraws = 2_000;
        int loglikPoints = 2_000;
        int mixtureDraws = 200_000;
        String master = "local[2]";
        List<String> only = null;
        List<String> methods = List.of(RUN_ORDER);
        List<Path> from = null;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--instances" -> { instances = Path.of(v); i++; }
                case "--out" -> { out = Path.of(v); i++; }
                case "--n" -> { n = (int) Double.parseDouble(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--samples" -> { samples = Integer.parseInt(v); i++; }
                case "--steps" -> { steps = parseSteps(v); i++; }
                case "--ode-draws" -> { odeDraws = Integer.parseInt(v); i++; }
                case "--loglik-points" -> { loglikPoints = Integer.parseInt(v); i++; }
                case "--mixture-draws" -> { mixtureDraws = Integer.parseInt(v); i++; }
                case "--master" -> { master = v; i++; }
                case "--only" -> { only = List.of(v.split(",")); i++; }
                case "--methods" -> { methods = methods(v); i++; }
                case "--from" -> { from = Arrays.stream(v.split(",")).map(Path::of).toList(); i++; }
                default -> {
                    System.err.println("usage: bench/run compare --instances DIR --n N --out DIR [--seed S] [--samples M]"
                            + " [--steps K|auto] [--ode-draws D] [--loglik-points L] [--mixture-draws R] [--master local[2]]"
                            + " [--only name,..] [--methods default,paper,plugin,crude,mllib]\n       bench/run compare --from DIR,DIR,.. --out DIR   (assemble runs)");
                    System.exit(2);
                }
            }
        }
        if (from != null) {
            assemble(from, out);
            return;
        }
        if (samples < 0) {
            samples = Math.min(n, 20_000);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(instances)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        String command = String.format(Locale.ROOT, "bench/run compare --instances %s --n %d --out %s --seed %d --samples %d"
                + " --steps %s --ode-draws %d --loglik-points %d --mixture-draws %d --master %s%s", instances, n, out,
                seed, samples, stepsName(steps), odeDraws, loglikPoints, mixtureDraws, master,
                only == null ? "" : " --only " + String.join(",", only))
                + (methods.size() == RUN_ORDER.length ? "" : " --methods " + String.join(",", methods));
        Run run = new Run(command, Instant.now().toString(), loadAverage());
        SparkSession spark = SparkSessions.getOrCreate("scoremix compare",
                new SparkConf().setMaster(master).set("spark.ui.enabled", "false"));
        Map<String, String> versions = new LinkedHashMap<>(Versions.all(spark.version()));
        versions.put("blas", Blas.name());
        Settings settings = new Settings(n, seed, samples, steps, odeDraws, loglikPoints, mixtureDraws);
        List<ObjectNode> rows = new ArrayList<>();
        Files.createDirectories(out);
        String notes = notes(out.resolve("compare.md"));
        for (Path file : files) {
            MixtureSpec spec;
            try {
                spec = MixtureSpec.read(file);
            } catch (IOException | RuntimeException e) {
                ObjectNode r = JSON.createObjectNode();
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
            List<ObjectNode> done = List.copyOf(rows);
            Path target = out;
            String machine = machine();
            List<ObjectNode> measured = compare(spark, spec, settings, out, methods, part -> {
                List<ObjectNode> all = new ArrayList<>(done);
                all.addAll(part);
                try {
                    write(target, List.of(run), machine, versions, settings, all, notes);
                } catch (IOException e) {
                    System.err.println("compare: cannot write the rows so far: " + e);
                }
            });
            rows.addAll(measured);
        }
        write(out, List.of(run), machine(), versions, settings, rows, notes);
        spark.stop();
    }

    /**
     * Options of a run.
     *
     * @param samples      samples drawn from each method (lower bounds, plots)
     * @param steps        steps of the scoremix sampler whose output is certified, or {@link #AUTO}: chosen per
     *                     model from its crude mixture ({@code TimeGrid.autoSteps}, as {@code sample} does)
     * @param odeDraws     truth draws of the Monte Carlo TV of the ODE model
     * @param loglikPoints fresh truth points of the held-out log-likelihood
     * @param mixtureDraws truth draws of the Monte Carlo TV of the crude and MLlib mixtures
     */
    /** The methods named in a comma-separated list, checked against {@link #METHODS}. */
    static List<String> methods(String list) {
        List<String> named = List.of(list.split(","));
        for (String m : named) {
            if (!List.of(METHODS).contains(m)) {
                throw new IllegalArgumentException("--methods: unknown method " + m + "; known: "
                        + String.join(", ", METHODS));
            }
        }
        return named;
    }

    record Settings(int n, long seed, int samples, int steps, int odeDraws, int loglikPoints, int mixtureDraws) {

        ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("n", n).put("seed", seed).put("samples", samples);
            if (steps == AUTO) {
                o.put("steps", "auto");
            } else {
                o.put("steps", steps);
            }
            o.put("ode_draws", odeDraws).put("loglik_points", loglikPoints).put("mixture_draws", mixtureDraws);
            return o;
        }

        Settings withSteps(int k) {
            return new Settings(n, seed, samples, k, odeDraws, loglikPoints, mixtureDraws);
        }

        static Settings of(JsonNode o) {
            return new Settings(o.path("n").asInt(), o.path("seed").asLong(), o.path("samples").asInt(),
                    o.path("steps").isTextual() ? parseSteps(o.path("steps").asText()) : o.path("steps").asInt(),
                    o.path("ode_draws").asInt(), o.path("loglik_points").asInt(),
                    o.path("mixture_draws").asInt());
        }
    }

    /** One invocation: its command line, start time and load average at the start. */
    record Run(String command, String started, String load) {
    }

    /**
     * {@code --from DIR,..}: the rows, runs and plots of earlier invocations (e.g. one {@code --only NAME} each,
     * with the same options) written together into out, rows in instance order. Refuses runs with different
     * options.
     */
    static void assemble(List<Path> from, Path out) throws IOException {
        List<Run> runs = new ArrayList<>();
        List<ObjectNode> rows = new ArrayList<>();
        Settings settings = null;
        String machine = null;
        Map<String, String> versions = new LinkedHashMap<>();
        Files.createDirectories(out);
        String notes = notes(out.resolve("compare.md"));
        for (Path dir : from) {
            JsonNode root = JSON.readTree(dir.resolve("compare.json").toFile());
            Settings s = Settings.of(root.path("settings"));
            // Runs may differ in their step count (e.g. fixed 2048 before `auto`); each row records its own.
            if (settings != null && !settings.withSteps(AUTO).equals(s.withSteps(AUTO))) {
                throw new IllegalArgumentException(dir + " was run with " + s + ", not " + settings);
            }
            settings = settings == null || settings.steps() == s.steps() ? s : s.withSteps(AUTO);
            machine = machine == null ? root.path("machine").asText() : machine;
            root.path("versions").fields().forEachRemaining(e -> versions.putIfAbsent(e.getKey(), e.getValue().asText()));
            for (JsonNode r : root.path("runs")) {
                runs.add(new Run(r.path("command").asText(), r.path("started").asText(),
                        r.path("load_average_at_start").asText()));
            }
            for (JsonNode r : root.path("rows")) {
                ObjectNode row = (ObjectNode) r;
                if (s.steps() != AUTO && !row.has("steps") && row.hasNonNull("certified_tv_upper")) {
                    row.put("steps", s.steps());
                }
                rows.add(row);
            }
            try (Stream<Path> svgs = Files.list(dir)) {
                for (Path svg : svgs.filter(f -> f.getFileName().toString().endsWith(".svg")).toList()) {
                    if (!Files.isSameFile(svg.getParent(), out)) {
                        Files.copy(svg, out.resolve(svg.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        rows.sort(Comparator.comparing(r -> r.path("instance").asText()));
        // A stopped invocation leaves methods without a row: each gets one that says so.
        for (String name : rows.stream().map(r -> r.path("instance").asText()).distinct().toList()) {
            for (String method : METHODS) {
                if (rows.stream().noneMatch(r -> r.path("instance").asText().equals(name)
                        && r.path("method").asText().equals(method))) {
                    ObjectNode r = JSON.createObjectNode();
                    r.put("instance", name);
                    r.put("method", method);
                    r.put("error", "not measured: the invocation was stopped before this method ran");
                    rows.add(r);
                }
            }
        }
        rows.sort(Comparator.comparing((ObjectNode r) -> r.path("instance").asText())
                .thenComparing(r -> List.of(METHODS).indexOf(r.path("method").asText())));
        // The bounds charts again from the rows, so a chart reflects the current drawing code.
        for (String name : rows.stream().map(r -> r.path("instance").asText()).distinct().toList()) {
            Files.writeString(out.resolve(plotName(name, "bounds")), CompareCharts.bounds(name,
                    rows.stream().filter(r -> r.path("instance").asText().equals(name)).toList()), StandardCharsets.UTF_8);
        }
        write(out, runs, machine, versions, settings, rows, notes);
    }

    /**
     * The five rows of one instance, and its plots written into {@code plots} (skipped if null).
     */
    static List<ObjectNode> compare(SparkSession spark, MixtureSpec spec, Settings s, Path plots) {
        return compare(spark, spec, s, plots, List.of(RUN_ORDER), rows -> { });
    }

    /**
     * As above for the given methods only, run in {@link #RUN_ORDER} (crude takes the default's crude mixture,
     * so it needs the default too), handing the rows measured so far (in {@link #METHODS} order) to progress
     * after every method.
     */
    static List<ObjectNode> compare(SparkSession spark, MixtureSpec spec, Settings s, Path plots, List<String> methods,
                                    Consumer<List<ObjectNode>> progress) {
        Instance instance = new Instance(spec, s, methods);
        return instance.run(spark, part -> {
            if (plots != null) {
                try {
                    instance.writePlots(plots, part);
                } catch (IOException | RuntimeException e) {
                    System.err.println("compare: plots of " + spec.name() + " not written: " + e);
                }
            }
            progress.accept(part);
        });
    }

    /** The five rows of one instance. */
    static final class Instance {
        private final MixtureSpec spec;
        private final Settings s;
        private final GaussianMixture truth;
        private final int d;
        private final int k;
        /** n x d training points. */
        private final double[] x;
        /** loglikPoints x d fresh truth points and their true log-densities. */
        private final double[] test;
        private final double[] testTruth;
        /** samples x d fresh truth points: the classifier's reference and the scatter plots' truth. */
        private final double[] reference;
        private final Map<String, double[]> plotted = new LinkedHashMap<>();
        private final List<String> methods;
        private CrudeMixtureResult crude;
        private double crudeSeconds = Double.NaN;

        Instance(MixtureSpec spec, Settings s, List<String> methods) {
            this.spec = spec;
            this.s = s;
            this.methods = List.copyOf(methods);
            this.truth = spec.mixture();
            this.d = truth.dimension();
            this.k = truth.components();
            this.x = new double[s.n() * d];
            truth.sample(CounterRandom.of(s.seed()), 11, 0, s.n(), x);
            this.test = new double[s.loglikPoints() * d];
            truth.sample(CounterRandom.of(s.seed() + 100), 13, 0, s.loglikPoints(), test);
            this.testTruth = new double[s.loglikPoints()];
            truth.logDensity(test, s.loglikPoints(), testTruth);
            this.reference = new double[s.samples() * d];
            truth.sample(CounterRandom.of(s.seed() + 3), 41, 0, s.samples(), reference);
        }

        List<ObjectNode> run(SparkSession spark, Consumer<List<ObjectNode>> progress) {
            List<ObjectNode> rows = new ArrayList<>();
            for (String method : RUN_ORDER) {
                if (!methods.contains(method)) {
                    continue;
                }
                ObjectNode r = JSON.createObjectNode();
                r.put("instance", spec.name());
                r.put("method", method);
                r.put("n", s.n());
                r.put("d", d);
                r.put("k", k);
                for (String f : new String[] {"certified_tv_upper", "tv_exact", "tv_lower", "tv_lower_from",
                        "heldout_loglik", "fit_seconds", "sample_seconds"}) {
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
                rows.sort(Comparator.comparing(row -> List.of(METHODS).indexOf(row.path("method").asText())));
                progress.accept(rows);
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
            // The default sampler of `sample`: SDE_RESIDUAL on the crude mixture's curvature grid.
            TimeGrid.CurvatureProfile profile = TimeGrid.curvatureProfile(model.crude(), config.horizon(),
                    fit.plan().delta());
            int steps = s.steps() == AUTO ? profile.autoSteps().steps() : s.steps();
            r.put("steps", steps);
            r.put("predicted_discretisation_integral", profile.unitIntegral() / steps);
            TimeGrid grid = profile.grid(steps);
            ReverseSampler sampler = ReverseSampler.of(SamplerConfig.builder(grid)
                    .method(SamplerConfig.Method.SDE_RESIDUAL).build());
            int m = s.samples();
            double[] z = new double[m * d];
            long t1 = System.nanoTime();
            sampler.sample(model, CounterRandom.of(s.seed() + 1), 21, 0, m, z);
            r.put("sample_seconds", (System.nanoTime() - t1) * 1e-9);
            double[] y = new double[m * d];
            model.whitening().invert(z, m, y);
            GaussianMixture truthZ = model.whitening().toWhitened(truth);
            CertifiedTvBound bound = Divergences.certifiedTvUpperBound(truthZ, model, grid,
                    CertifiedBoundConfig.defaults().withScheme(CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL)
                            .withPaths(boundPaths(steps)));
            r.put("certified_tv_upper", bound.total());
            r.put("certified_tv_upper_se", bound.totalStandardError());
            // The ODE model's density (data coordinates) is the exact law of the deterministic sampler.
            ModelDensity density = ModelDensity.of(model, ModelDensity.DEFAULT_STEPS);
            Estimate tv = Divergences.monteCarloTv(truth, density, s.odeDraws(), CounterRandom.of(s.seed() + 2), 31);
            r.put("tv_exact", tv.value());
            r.put("tv_exact_se", tv.standardError());
            String of = "probability-flow ODE model, " + ModelDensity.DEFAULT_STEPS + " steps";
            r.put("tv_exact_of", of + ", " + s.odeDraws() + " draws of the truth");
            putLoglik(r, density, of);
            putLower(r, y, m);
            keepForPlot(r, y);
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
                list.add(RowFactory.create(Vectors.dense(Arrays.copyOfRange(x, j * d, (j + 1) * d))));
            }
            Dataset<Row> frame = spark.createDataFrame(list, new StructType().add("features", SQLDataTypes.VectorType()))
                    .repartition(2).cache();
            frame.count();
            long t0 = System.nanoTime();
            GaussianMixtureModel model;
            try {
                model = new org.apache.spark.ml.clustering.GaussianMixture().setK(k).setSeed(s.seed()).setMaxIter(100)
                        .fit(frame);
            } finally {
                r.put("fit_seconds", (System.nanoTime() - t0) * 1e-9);
                frame.unpersist();
            }
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
                        + Arrays.toString(w) + "): " + e.getMessage(), e);
            }
            double[] theirLogDensity = mixtureFigures(theirs, r);
            r.put("mllib_epsilon_share", epsilonShare(theirLogDensity, k));
            r.put("mllib_epsilon_share_at_truth", epsilonShare(testTruth, k));
        }

        /**
         * Exact TV, held-out log-likelihood and the lower bounds of a mixture's own samples; returns its
         * log-densities at the held-out points.
         */
        private double[] mixtureFigures(GaussianMixture q, ObjectNode r) {
            Estimate tv = Divergences.monteCarloTv(truth, q, s.mixtureDraws(), CounterRandom.of(s.seed() + 2), 31);
            r.put("tv_exact", tv.value());
            r.put("tv_exact_se", tv.standardError());
            r.put("tv_exact_of", "the mixture, " + s.mixtureDraws() + " draws of the truth");
            double[] logDensity = putLoglik(r, q, "the mixture");
            int m = s.samples();
            double[] y = new double[m * d];
            long t0 = System.nanoTime();
            q.sample(CounterRandom.of(s.seed() + 1), 21, 0, m, y);
            r.put("sample_seconds", (System.nanoTime() - t0) * 1e-9);
            putLower(r, y, m);
            keepForPlot(r, y);
            return logDensity;
        }

        /** Mean log-density of the held-out truth points, the truth's own, and the paired standard error. */
        private double[] putLoglik(ObjectNode r, DensityModel q, String of) {
            int l = s.loglikPoints();
            double[] ll = new double[l];
            q.logDensity(test, l, ll);
            double sum = 0;
            double sumTruth = 0;
            double gapSum = 0;
            double gapSq = 0;
            for (int j = 0; j < l; j++) {
                sum += ll[j];
                sumTruth += testTruth[j];
                double gap = testTruth[j] - ll[j];
                gapSum += gap;
                gapSq += gap * gap;
            }
            double gapMean = gapSum / l;
            double gapVar = Math.max(0, gapSq / l - gapMean * gapMean) * l / Math.max(1, l - 1);
            r.put("heldout_loglik", sum / l);
            r.put("heldout_loglik_truth", sumTruth / l);
            r.put("heldout_loglik_gap_se", Math.sqrt(gapVar / l));
            r.put("heldout_loglik_points", l);
            r.put("heldout_loglik_of", of);
            return ll;
        }

        /**
         * The projection and classifier lower bounds of m samples y; {@code tv_lower} is the larger. A failed
         * classifier (e.g. non-finite samples) leaves the projection bound and records its message.
         */
        private void putLower(ObjectNode r, double[] y, int m) {
            ProjectionLowerBound p = Divergences.projectionTvLowerBound(truth, y, m, ProjectionConfig.defaults());
            r.put("tv_lower_projection", p.value());
            r.put("tv_lower_projection_se", p.standardError());
            r.put("tv_lower_projection_direction", p.directionLabel());
            double best = p.value();
            double bestSe = p.standardError();
            String from = "projection";
            try {
                ClassifierTwoSample.Result c = ClassifierTwoSample.test(reference, m, y, m, d);
                double v = 2 * c.accuracy() - 1;
                r.put("tv_lower_classifier", v);
                r.put("tv_lower_classifier_se", 2 * c.standardError());
                r.put("classifier_accuracy", c.accuracy());
                r.put("classifier_features", c.features());
                if (v > best) {
                    best = v;
                    bestSe = 2 * c.standardError();
                    from = "classifier";
                }
            } catch (RuntimeException e) {
                r.put("tv_lower_classifier_error", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            r.put("tv_lower", best);
            r.put("tv_lower_se", bestSe);
            r.put("tv_lower_from", from);
        }

        private void keepForPlot(ObjectNode r, double[] y) {
            String method = r.path("method").asText();
            if (SCATTER_METHODS.contains(method)) {
                plotted.put(method, Arrays.copyOf(y, Math.min(SCATTER_POINTS, s.samples()) * d));
            }
        }

        /** The bounds chart and the scatter plots of this instance, as {@code compare-NAME-*.svg} in dir. */
        void writePlots(Path dir, List<ObjectNode> rows) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(plotName(spec.name(), "bounds")), CompareCharts.bounds(spec.name(), rows),
                    StandardCharsets.UTF_8);
            int shown = Math.min(SCATTER_POINTS, s.samples());
            for (Map.Entry<String, double[]> e : plotted.entrySet()) {
                Files.writeString(dir.resolve(plotName(spec.name(), e.getKey())), Plots.principalScatter(reference,
                        shown, e.getValue(), shown, d, "truth", e.getKey() + " samples"), StandardCharsets.UTF_8);
            }
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

    /** {@code --steps auto}: the sampler's step count is chosen per model from its crude mixture. */
    static final int AUTO = 0;

    /** A step count of at least 2, or "auto" ({@link #AUTO}). */
    static int parseSteps(String v) {
        if ("auto".equalsIgnoreCase(v.trim())) {
            return AUTO;
        }
        int steps = Integer.parseInt(v.trim());
        if (steps < 2) {
            throw new IllegalArgumentException("--steps must be at least 2 or auto, got " + v);
        }
        return steps;
    }

    static String stepsName(int steps) {
        return steps == AUTO ? "auto" : Integer.toString(steps);
    }

    /** Paths per step of the certified bound: steps x paths fixed at 256 x 20,000 keeps its relative error. */
    static int boundPaths(int steps) {
        return Math.max(500, 20_000 * 256 / steps);
    }

    static String plotName(String instance, String what) {
        return "compare-" + instance + "-" + what + ".svg";
    }

    /** The hand-written {@code ## Notes} section of an existing compare.md (to its end), or "". */
    static String notes(Path md) throws IOException {
        if (!Files.isRegularFile(md)) {
            return "";
        }
        String text = Files.readString(md, StandardCharsets.UTF_8);
        int at = text.indexOf("\n" + NOTES);
        return at < 0 ? "" : text.substring(at + 1);
    }

    private static void write(Path out, List<Run> runs, String machine, Map<String, String> versions, Settings s,
                              List<ObjectNode> rows, String notes) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (runs.size() == 1) {
            root.put("command", runs.get(0).command());
            root.put("started", runs.get(0).started());
        }
        ArrayNode r = root.putArray("runs");
        for (Run run : runs) {
            r.addObject().put("command", run.command()).put("started", run.started())
                    .put("load_average_at_start", run.load());
        }
        root.put("written", Instant.now().toString());
        root.put("machine", machine);
        ObjectNode v = root.putObject("versions");
        versions.forEach(v::put);
        root.set("settings", s.toJson());
        ArrayNode list = root.putArray("rows");
        rows.forEach(list::add);
        JSON.writeValue(out.resolve("compare.json").toFile(), root);
        Files.writeString(out.resolve("compare.md"), markdown(runs, machine, versions, s, rows)
                + (notes.isEmpty() ? "" : "\n" + notes), StandardCharsets.UTF_8);
    }

    static String markdown(List<Run> runs, String machine, Map<String, String> versions, Settings s,
                           List<ObjectNode> rows) {
        List<String> instances = rows.stream().map(r -> r.path("instance").asText()).distinct().toList();
        StringBuilder md = new StringBuilder("# scoremix against Spark MLlib on the benchmark instances\n\n");
        if (runs.size() > 1) {
            md.append("Run one instance per invocation with the same options, then put together with "
                    + "`bench/run compare --from DIR,.. --out DIR`:\n\n");
        }
        for (Run run : runs) {
            md.append("    ").append(run.command()).append("\n");
        }
        md.append("\n");
        StringBuilder starts = new StringBuilder();
        for (Run run : runs) {
            starts.append(starts.length() == 0 ? "" : ", ").append(run.started()).append(" (load average ")
                    .append(run.load()).append(")");
        }
        md.append(String.format(Locale.ROOT, "Started %s on %s. Versions: %s.%n%n", starts, machine, versions));
        md.append(String.format(Locale.ROOT, "Training rows n = %d per instance (seed %d). Samplers: SDE_RESIDUAL on the "
                + "crude mixture's curvature grid (`sample`'s default), %s, %d samples; its bound with %s paths "
                + "per step. `certified` is the certified TV upper bound of the sampler's output; `exact` the "
                + "Monte Carlo TV to the truth of a density (crude and MLlib mixtures, %d draws; for scoremix modes the "
                + "probability-flow ODE model, %d draws); `lower` the larger of two held-out lower bounds from the "
                + "%d samples, named in `from`: the projection bound, and the classifier two-sample bound 2 a - 1 "
                + "(quadratic logistic regression against %d fresh truth points, trained on half of each and scored "
                + "on the other half); `loglik` the mean log-density of the same %d fresh truth points for every "
                + "method (for scoremix modes the ODE model's, which approximates the law noised to delta), the "
                + "truth's own in parentheses. Values +- one standard error.%n%n", s.n(), s.seed(),
                s.steps() == AUTO ? "steps in the `steps` column (`--steps auto` chooses them per model from its "
                        + "crude mixture: the fewest predicting a discretisation term of at most 0.01, 2048 to 20,480 / d)"
                        : s.steps() + " steps",
                s.samples(), s.steps() == AUTO ? "max(500, 20,000 x 256 / steps)" : Integer.toString(boundPaths(s.steps())),
                s.mixtureDraws(), s.odeDraws(), s.samples(), s.samples(), s.loglikPoints()));
        md.append("Every figure except the `fit s` and `sample s` columns (`*_seconds` in compare.json) is a "
                + "deterministic function of the seed, the options and the instance files: rerunning the command "
                + "reproduces them (CompareBenchReproducibilityTest runs the comparison twice on two instances and "
                + "checks every metric field is identical). Timing is not reproducible.\n\n");
        md.append("| instance | method | certified | steps | exact | lower | from | loglik (truth) | fit s | sample s | error |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (ObjectNode r : rows) {
            md.append("| ").append(r.path("instance").asText()).append(" | ").append(r.path("method").asText())
                    .append(" | ").append(pm(r, "certified_tv_upper")).append(" | ")
                    .append(r.path("steps").isInt() ? Integer.toString(r.path("steps").asInt()) : "-")
                    .append(" | ").append(pm(r, "tv_exact"))
                    .append(" | ").append(pm(r, "tv_lower")).append(" | ")
                    .append(r.path("tv_lower_from").isTextual() ? r.path("tv_lower_from").asText() : "-")
                    .append(" | ").append(loglik(r))
                    .append(" | ").append(num(r, "fit_seconds", "%.1f")).append(" | ")
                    .append(num(r, "sample_seconds", "%.1f")).append(" | ")
                    .append(r.path("error").isNull() ? "" : r.path("error").asText().replace('|', '/').replace('\n', ' '))
                    .append(" |\n");
        }
        mllibTable(md, rows);
        if (!instances.isEmpty()) {
            md.append("\nPlots (SVG, next to this file): per instance, `certified`, `exact` and `lower` by method, and ")
                    .append(String.join(", ", SCATTER_METHODS)).append(" samples against fresh truth points in the ")
                    .append("truth sample's top two principal directions (").append(SCATTER_POINTS)
                    .append(" points each; a histogram of the coordinate in one dimension).\n\n");
            for (String name : instances) {
                md.append("- ").append(name).append(": [bounds](").append(plotName(name, "bounds")).append(")");
                for (String m : SCATTER_METHODS) {
                    md.append(", [").append(m).append(" samples](").append(plotName(name, m)).append(")");
                }
                md.append("\n");
            }
        }
        return md.toString();
    }

    /**
     * MLlib's E-step floor. {@code ml.clustering.ExpectationAggregator} adds {@link #MLLIB_EPSILON} to every
     * weighted component density, so its posteriors are {@code s / k + (1 - s) pi_i(x)} with
     * {@code s = k eps / (k eps + q(x))}: where the mixture density q(x) is not well above 1e-16, as in
     * moderate dimensions, its EM sees nearly uniform posteriors. Returns the mean of s over points with the
     * given log-densities log q(x).
     */
    static double epsilonShare(double[] logDensity, int k) {
        double logFloor = Math.log(k * MLLIB_EPSILON);
        double sum = 0;
        for (double l : logDensity) {
            sum += 1 / (1 + Math.exp(l - logFloor));
        }
        return sum / logDensity.length;
    }

    /** Where and why MLlib fails: its iterations, its held-out log-likelihood and its E-step floor. */
    private static void mllibTable(StringBuilder md, List<ObjectNode> rows) {
        List<ObjectNode> mllib = rows.stream().filter(r -> r.path("method").asText().equals("mllib")
                && r.path("mllib_iterations").isNumber()).toList();
        if (mllib.isEmpty()) {
            return;
        }
        md.append("\nMLlib's fits. `floor share` is the mean, over the held-out truth points, of s = k eps / (k eps + "
                + "q(x)), where eps = 2^-52 is what Spark ML's GaussianMixture adds to every weighted component "
                + "density in its E-step (`ExpectationAggregator`): its posteriors are s / k + (1 - s) times the exact "
                + "ones, so near 1 its EM sees nearly uniform posteriors and its log-likelihood barely moves. At "
                + "MLlib's own model q and at the truth.\n\n");
        md.append("| instance | iterations (max 100) | loglik (truth) | exact TV | floor share, MLlib's model | "
                + "floor share, truth |\n|---|---|---|---|---|---|\n");
        for (ObjectNode r : mllib) {
            md.append("| ").append(r.path("instance").asText()).append(" | ").append(r.path("mllib_iterations").asInt())
                    .append(" | ").append(loglik(r)).append(" | ").append(pm(r, "tv_exact")).append(" | ")
                    .append(share(r, "mllib_epsilon_share")).append(" | ")
                    .append(share(r, "mllib_epsilon_share_at_truth")).append(" |\n");
        }
    }

    /** A share in [0, 1]: four decimals, or two significant digits below 0.001 so that tiny ones still show. */
    private static String share(ObjectNode r, String key) {
        return num(r, key, r.path(key).asDouble() < 1e-3 ? "%.1e" : "%.4f");
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
