package io.scoremix.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.metrics.CertifiedBoundConfig;
import io.scoremix.core.metrics.CertifiedTvBound;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.metrics.ProjectionConfig;
import io.scoremix.core.metrics.ProjectionLowerBound;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.report.HtmlReport;
import io.scoremix.report.ReportSections;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code evaluate}: judges a model (or a folder of its samples) against a known mixture ({@code --truth})
 * or held-out data ({@code --test}) with the metrics of ALGORITHM.md section 7, and writes
 * {@code evaluation.json}, {@code report.html} and {@code _scoremix.json} into a new folder, atomically.
 *
 * <p>Metrics. Against a truth p: for a model, the Monte Carlo TV of its probability-flow ODE density q to p
 * ({@code E_p[max(0, 1 - q/p)]}, points drawn from p, log q by {@link io.scoremix.core.score.ModelDensity} on
 * the executors), {@code KL(p || q) = E_p[log p - log q]}, the held-out log-likelihood {@code E_p[log q]}
 * beside {@code E_p[log p]}, the crude mixture's exact TV, and the certified TV upper bound of the SDE
 * sampler that drew the samples; for model and samples alike, the projection TV lower bound of the samples
 * against p and the classifier two-sample lower bound against fresh draws of p. Against test data: the
 * held-out log-likelihood of the ODE model and of the crude mixture on a test subsample, and the projection
 * and classifier lower bounds of the samples against the test subsample. Every estimate has its standard
 * error; "conservative" values are shifted by 2 standard errors in the safe direction.
 */
public final class EvaluateJob {

    /** Format of evaluation.json. */
    public static final String FORMAT = "scoremix.evaluation/v1";
    public static final String RESULT_FILE = "evaluation.json";
    public static final String REPORT_FILE = "report.html";

    static final long SAMPLE_STREAM = CounterRandom.stream(0x6576616C2D73L);
    static final long TRUTH_STREAM = CounterRandom.stream(0x6576616C2D74L);
    static final long DENSITY_STREAM = CounterRandom.stream(0x6576616C2D64L);

    private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final double Z = 2.0;

    private final EvaluateConfig config;
    private final Map<String, Object> options;

    /** A job for these settings. */
    public EvaluateJob(EvaluateConfig config) {
        this(config, Map.of());
    }

    /**
     * A job for these settings; {@code options} (every command-line option with its effective value and
     * source) goes into the provenance record as given.
     */
    public EvaluateJob(EvaluateConfig config, Map<String, Object> options) {
        this.config = config;
        this.options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
    }

    /** What a run measured: the output folder, the evaluation.json content and the report's path. */
    public record Result(String output, Map<String, Object> evaluation, String report, double seconds) {

        /** A metric's field, e.g. {@code metric("classifier_tv_lower", "accuracy")}; NaN when absent. */
        public double metric(String name, String field) {
            Object m = ((Map<?, ?>) evaluation.get("metrics")).get(name);
            if (m instanceof Map<?, ?> map && map.get(field) instanceof Number v) {
                return v.doubleValue();
            }
            return Double.NaN;
        }
    }

    /**
     * Evaluates and writes the results.
     *
     * @throws BadInputException on a missing or invalid model, samples or test input, a dimension mismatch,
     *                           or an existing output without overwrite (nothing is written)
     */
    public Result run(SparkSession spark) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        AtomicOutput output;
        try {
            output = AtomicOutput.prepare(sc.hadoopConfiguration(), config.output(), config.overwrite());
        } catch (IOException e) {
            throw new UncheckedIOException("evaluate: cannot check the output " + config.output() + ": " + e.getMessage(), e);
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        Map<String, Object> metrics = new LinkedHashMap<>();
        ModelOnSpark model = config.model() == null ? null : ModelOnSpark.read(spark, config.model(), "evaluate");
        GaussianMixture truth = config.truth() == null ? null : config.truth().mixture();
        // The sampler grid, resolved once: the draws and the certified bound use the same one.
        SamplerSteps.Resolved steps = model == null ? null : model.samplerSteps(config.steps());

        // The points judged: drawn from the model, or read.
        long t = System.nanoTime();
        List<String> features;
        double[] y;
        int n;
        String samplesSource;
        if (model != null) {
            features = model.featureNames();
            requireDimension(truth, features, "model has");
            n = config.n();
            y = model.sample(spark, config.seed(), SAMPLE_STREAM, n, config.method(), steps.grid());
            samplesSource = model.source() + " (" + config.method().name().toLowerCase(Locale.ROOT) + ", "
                    + steps.describe() + ")";
        } else {
            DataSample s = DataSample.read(spark, config.samples(), config.samplesFormat(), config.features(),
                    config.n(), config.seed());
            features = s.features();
            n = s.rows();
            y = s.x();
            samplesSource = s.source() + " (" + n + " of " + s.total() + " rows)";
        }
        int d = features.size();
        requireDimension(truth, features, model != null ? "model has" : "samples have");
        seconds.put("samples", lap(t));

        // The reference points: fresh truth draws, or a test subsample in the samples' columns.
        t = System.nanoTime();
        double[] x;
        int m;
        String referenceLabel;
        if (truth != null) {
            m = config.n();
            x = new double[m * d];
            truth.sample(CounterRandom.of(config.seed()), TRUTH_STREAM, 0, m, x);
            referenceLabel = "truth";
        } else {
            List<String> cols = config.features().isEmpty() ? (model != null ? features : List.of()) : config.features();
            DataSample s = DataSample.read(spark, config.test(), config.testFormat(), cols, config.n(),
                    config.seed() + 1);
            if (s.features().size() != d) {
                throw new BadInputException("the test data " + config.test() + " have " + s.features().size()
                        + " feature columns " + s.features() + " but the samples have " + d + " " + features);
            }
            m = s.rows();
            x = s.x();
            referenceLabel = "test data";
            metrics.put("test_rows", Map.of("used", m, "total", s.total()));
        }
        seconds.put("reference", lap(t));

        // Lower bounds from samples.
        t = System.nanoTime();
        LOG.info("evaluate: lower bounds from {} samples against {} {} points", n, m, referenceLabel);
        ProjectionConfig pc = ProjectionConfig.defaults().withSeed(config.seed()).withZ(Z);
        ProjectionLowerBound proj = truth != null ? Divergences.projectionTvLowerBound(truth, y, n, pc)
                : Divergences.projectionTvLowerBound(x, m, y, n, d, pc);
        Map<String, Object> pm = estimate(proj.estimate());
        pm.put("conservative", proj.conservative());
        pm.put("direction", proj.directionLabel());
        pm.put("directions_tried", proj.directionsTried());
        metrics.put("projection_tv_lower", pm);
        ClassifierTwoSample.Result c2 = ClassifierTwoSample.test(x, m, y, n, d);
        Map<String, Object> cm = new LinkedHashMap<>();
        cm.put("accuracy", c2.accuracy());
        cm.put("standard_error", c2.standardError());
        cm.put("value", c2.tvLowerBound());
        cm.put("conservative", c2.conservative(Z));
        cm.put("held_out", List.of(c2.testP(), c2.testQ()));
        cm.put("features", c2.features());
        metrics.put("classifier_tv_lower", cm);
        seconds.put("lower_bounds", lap(t));

        // Densities: the ODE model and the crude mixture.
        if (model != null && config.densityPoints() > 0) {
            t = System.nanoTime();
            LOG.info("evaluate: ODE log-density at {} points ({} steps)", config.densityPoints(), config.densitySteps());
            ScoreModel sm = model.model();
            GaussianMixture crude = sm.whitening().fromWhitened(sm.crude());
            int k = config.densityPoints();
            double[] pts;
            double[] logP = null;
            if (truth != null) {
                pts = new double[k * d];
                truth.sample(CounterRandom.of(config.seed()), DENSITY_STREAM, 0, k, pts);
                logP = new double[k];
                truth.logDensity(pts, k, logP);
            } else {
                k = Math.min(k, m);
                pts = Arrays.copyOf(x, k * d);
            }
            double[] logQ = model.logDensity(spark, pts, k, config.densitySteps());
            double[] logC = new double[k];
            crude.logDensity(pts, k, logC);
            metrics.put("heldout_log_likelihood", estimate(mean(logQ, k)));
            metrics.put("crude_heldout_log_likelihood", estimate(mean(logC, k)));
            if (truth != null) {
                metrics.put("truth_log_likelihood", estimate(mean(logP, k)));
                metrics.put("tv_exact", estimate(tv(logP, logQ, k)));
                metrics.put("kl_truth_to_model", estimate(meanDifference(logP, logQ, k)));
                metrics.put("crude_tv_exact", estimate(tv(logP, logC, k)));
            }
            seconds.put("density", lap(t));
        }

        // The certified upper bound of the sampler that drew the samples.
        if (model != null && truth != null && config.boundPaths() > 0) {
            t = System.nanoTime();
            if (config.method() == SamplerConfig.Method.ODE) {
                metrics.put("certified_tv_upper", Map.of("skipped", "the certified bound covers the SDE samplers only"));
            } else {
                LOG.info("evaluate: certified bound, {} paths x {}", config.boundPaths(), steps.describe());
                ScoreModel sm = model.model();
                TimeGrid grid = steps.grid();
                CertifiedBoundConfig bc = CertifiedBoundConfig.defaults()
                        .withScheme(config.method() == SamplerConfig.Method.SDE ? CertifiedBoundConfig.Scheme.EXPONENTIAL
                                : CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL)
                        .withPaths(config.boundPaths()).withTvSamples(50_000).withKlSamples(20_000)
                        .withSeed(config.seed()).withZ(Z);
                CertifiedTvBound b = Divergences.certifiedTvUpperBound(sm.whitening().toWhitened(truth), sm, grid, bc);
                Map<String, Object> bm = new LinkedHashMap<>();
                bm.put("value", b.total());
                bm.put("standard_error", b.totalStandardError());
                bm.put("conservative", b.conservative());
                bm.put("early_stopping_tv", b.earlyStoppingTv().value());
                bm.put("kl_terminal_bound", b.klTerminalBound());
                bm.put("score_integral", b.scoreIntegral().value());
                bm.put("score_integral_standard_error", b.scoreIntegral().standardError());
                bm.put("paths_per_step", config.boundPaths());
                bm.putAll(steps.fields());
                bm.put("scheme", b.scheme().name().toLowerCase(Locale.ROOT));
                metrics.put("certified_tv_upper", bm);
            }
            seconds.put("certified_bound", lap(t));
        }

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("format", FORMAT);
        result.put("config", config.describe());
        result.put("dimension", d);
        result.put("features", features);
        Map<String, Object> samplesFields = new LinkedHashMap<>();
        samplesFields.put("source", samplesSource);
        samplesFields.put("rows", n);
        if (steps != null) {
            samplesFields.put("sampler", steps.fields());
        }
        result.put("samples", samplesFields);
        result.put("reference", Map.of("kind", truth != null ? "truth" : "test",
                "source", truth != null ? config.truthSource() : config.test(), "rows", m));
        result.put("metrics", metrics);
        result.put("seconds", seconds);

        HtmlReport report = new HtmlReport("scoremix evaluation");
        report.paragraph((model != null ? "Model " + model.source() : "Samples " + samplesSource) + " against the "
                + (truth != null ? "truth " + config.truthSource() : "test data " + config.test()) + ".");
        report.heading("Metrics");
        report.table(List.of("metric", "value", "standard error", "conservative"), metricRows(metrics));
        report.note("TV lower bounds hold up to Monte Carlo error; 'conservative' subtracts 2 standard errors "
                + "(adds them for the upper bound). Exact TV and log-likelihoods use the model's probability-flow ODE "
                + "density at delta; the certified bound covers the SDE sampler that drew the samples (ALGORITHM.md section 7).");
        if (model != null) {
            ReportSections.levelLosses(report, model.json());
        }
        ReportSections.dataVersusSamples(report, x, m, y, n, features, referenceLabel, "samples");
        report.heading("Settings");
        report.keyValues(config.describe());
        try {
            write(output, RESULT_FILE, JSON.writeValueAsBytes(result));
            report.write(output.fileSystem(), new Path(output.temp(), REPORT_FILE));
            Provenance prov = new Provenance("evaluate", started).put("options", options).put("settings", config.describe())
                    .put("spark", Map.of("master", sc.master(), "applicationId", sc.applicationId()));
            if (config.truth() != null) {
                prov.putJson("truth", config.truth().toJson());
            }
            prov.write(output.fileSystem(), output.temp(), spark.version(), started);
            output.commit();
        } catch (IOException e) {
            output.abort();
            throw new UncheckedIOException("evaluate: writing " + output.target() + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            output.abort();
            throw e;
        }
        double secs = lap(t0);
        LOG.info(String.format(Locale.ROOT, "evaluate: wrote %s in %.1f s", output.target(), secs));
        return new Result(output.target().toString(), result, new Path(output.target(), REPORT_FILE).toString(), secs);
    }

    private void requireDimension(GaussianMixture truth, List<String> features, String what) {
        if (truth != null && truth.dimension() != features.size()) {
            throw new BadInputException("the truth " + config.truthSource() + " has dimension " + truth.dimension()
                    + " but the " + what + " " + features.size() + " columns " + features);
        }
    }

    private static List<List<String>> metricRows(Map<String, Object> metrics) {
        List<List<String>> rows = new ArrayList<>();
        metrics.forEach((name, v) -> {
            if (v instanceof Map<?, ?> map && map.containsKey("value")) {
                rows.add(List.of(name, num(map.get("value")), num(map.get("standard_error")), num(map.get("conservative"))));
            } else {
                rows.add(List.of(name, String.valueOf(v), "", ""));
            }
        });
        return rows;
    }

    private static String num(Object v) {
        return v instanceof Number x ? String.format(Locale.ROOT, "%.4g", x.doubleValue()) : "";
    }

    static Map<String, Object> estimate(Estimate e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", e.value());
        m.put("standard_error", e.standardError());
        m.put("samples", e.samples());
        return m;
    }

    /** Mean and standard error of v[0 .. n). */
    static Estimate mean(double[] v, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += v[i];
        }
        double mu = s / n;
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (v[i] - mu) * (v[i] - mu);
        }
        return new Estimate(mu, Math.sqrt(ss / (n - 1) / n), n);
    }

    private static Estimate meanDifference(double[] a, double[] b, int n) {
        double[] diff = new double[n];
        for (int i = 0; i < n; i++) {
            diff[i] = a[i] - b[i];
        }
        return mean(diff, n);
    }

    /** {@code E_p[1 - exp(min(0, log q - log p))]} (ALGORITHM.md section 7), standard error capped at 0.5/sqrt(n). */
    static Estimate tv(double[] logP, double[] logQ, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double r = logQ[i] - logP[i];
            v[i] = Double.isNaN(r) ? 1 : -Math.expm1(Math.min(0, r));
        }
        Estimate e = mean(v, n);
        return new Estimate(e.value(), Math.min(e.standardError(), 0.5 / Math.sqrt(n)), n);
    }

    private static void write(AtomicOutput output, String name, byte[] bytes) throws IOException {
        try (OutputStream out = output.fileSystem().create(new Path(output.temp(), name), false)) {
            out.write(bytes);
        }
    }

    private static double lap(long since) {
        return (System.nanoTime() - since) * 1e-9;
    }
}
