package io.scoremix.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.metrics.CertifiedBoundConfig;
import io.scoremix.core.metrics.CertifiedTvBound;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.core.score.ScoreModel;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code bench/run learn}: generates N training points from a known mixture, fits the score learner in
 * one JVM, draws M samples with the reverse SDE, and writes DIR/samples.csv and DIR/result.json with the
 * certified TV upper bound and its parts, the crude mixture's exact TV to the truth, per-level validation
 * losses of the fit and of the plug-in, and timings.
 */
public final class LearnBench {

    private LearnBench() {
    }

    public static void main(String[] args) throws IOException {
        Path instance = null;
        Path out = null;
        int n = 50_000;
        int samples = -1;
        int steps = CompareBench.AUTO;
        String gridKind = "curvature";
        int paths = 0;
        long seed = 1;
        LearnerConfig.Mode mode = LearnerConfig.Mode.DEFAULT;
        Integer degree = null;
        Integer levels = null;
        LearnerConfig.Features features = null;
        SamplerConfig.Method method = SamplerConfig.Method.SDE_RESIDUAL;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--instance" -> { instance = Path.of(v); i++; }
                case "--out" -> { out = Path.of(v); i++; }
                case "--n" -> { n = Integer.parseInt(v); i++; }
                case "--samples" -> { samples = Integer.parseInt(v); i++; }
                case "--steps" -> { steps = CompareBench.parseSteps(v); i++; }
                case "--grid" -> { gridKind = v; i++; }
                case "--paths" -> { paths = Integer.parseInt(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--mode" -> { mode = LearnerConfig.Mode.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
                case "--degree" -> { degree = Integer.parseInt(v); i++; }
                case "--levels" -> { levels = Integer.parseInt(v); i++; }
                case "--sampler" -> { method = SamplerConfig.Method.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
                case "--features" -> { features = LearnerConfig.Features.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
                default -> usage("unknown argument " + a);
            }
        }
        if (instance == null || out == null) {
            usage("--instance and --out are required");
        }
        if (samples < 0) {
            samples = n;
        }
        MixtureSpec spec = MixtureSpec.read(instance);
        GaussianMixture truth = spec.mixture();
        int d = truth.dimension();
        int k = truth.components();

        double[] x = new double[n * d];
        truth.sample(CounterRandom.of(seed), 11, 0, n, x);
        LearnerConfig.Builder b = LearnerConfig.builder(k).mode(mode).seed(seed);
        if (degree != null) {
            b.degree(degree);
        }
        if (levels != null) {
            b.levels(levels);
        }
        if (features != null) {
            b.features(features);
        }
        LearnerConfig config = b.build();
        long t0 = System.nanoTime();
        Learner.Result fit = Learner.fit(x, n, d, null, config);
        double fitSeconds = (System.nanoTime() - t0) * 1e-9;
        ScoreModel model = fit.model();
        LearningPlan plan = fit.plan();
        System.err.printf("%s %s: fit in %.1f s (crude %.1f, moments %.1f, solve %.1f), delta %.3g%n", spec.name(),
                mode, fitSeconds, fit.crudeSeconds(), fit.momentsSeconds(), fit.solveSeconds(), plan.delta());

        // --steps auto (the default): the count `sample` would choose for this model, whatever the grid kind.
        // One Monte Carlo of the crude mixture's curvature serves both the step choice and the curvature grid.
        String requestedSteps = CompareBench.stepsName(steps);
        TimeGrid.CurvatureProfile profile = steps == CompareBench.AUTO || gridKind.equals("curvature")
                ? TimeGrid.curvatureProfile(model.crude(), config.horizon(), plan.delta()) : null;
        if (steps == CompareBench.AUTO) {
            steps = profile.autoSteps().steps();
        }
        TimeGrid grid = switch (gridKind) {
            case "curvature" -> profile.grid(steps);
            case "benton" -> TimeGrid.benton(config.horizon(), plan.delta(), steps);
            default -> throw new IllegalArgumentException("--grid must be curvature or benton, got " + gridKind);
        };
        if (paths <= 0) {
            // Step variances add: N x paths fixed keeps the bound's relative standard error (20,000 at 256 steps).
            paths = Math.max(500, 20_000 * 256 / steps);
        }
        if (method == SamplerConfig.Method.ODE) {
            usage("--sampler must be sde or sde_residual: the certified bound covers the SDE samplers only");
        }
        ReverseSampler sampler = ReverseSampler.of(SamplerConfig.builder(grid).method(method).build());
        double[] z = new double[samples * d];
        long t1 = System.nanoTime();
        sampler.sample(model, CounterRandom.of(seed + 1), 21, 0, samples, z);
        double sampleSeconds = (System.nanoTime() - t1) * 1e-9;
        double[] y = new double[samples * d];
        model.whitening().invert(z, samples, y);

        GaussianMixture truthZ = model.whitening().toWhitened(truth);
        long t2 = System.nanoTime();
        CertifiedBoundConfig.Scheme scheme = method == SamplerConfig.Method.SDE
                ? CertifiedBoundConfig.Scheme.EXPONENTIAL : CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL;
        CertifiedTvBound bound = Divergences.certifiedTvUpperBound(truthZ, model, grid,
                CertifiedBoundConfig.defaults().withScheme(scheme).withPaths(paths).withScoreErrorSplit(true));
        // The same bound for the continuous-time reverse SDE driven by the learned score (steps -> infinity):
        // only the matched-time score error remains under the square root.
        Estimate scoreError = bound.scoreErrorIntegral().orElseThrow();
        double continuous = bound.earlyStoppingTv().value()
                + Math.sqrt((bound.klTerminalBound() + scoreError.value()) / 2);
        double boundSeconds = (System.nanoTime() - t2) * 1e-9;
        Estimate crudeTv = Divergences.monteCarloTv(truth, plan.crudeResult().mixture(), 200_000,
                CounterRandom.of(seed + 2), 31);
        System.err.printf("certified TV <= %.4f (conservative %.4f; continuous-time %.4f), crude exact TV %.4f +- %.4f,"
                + " sampling %.1f s%n", bound.total(), bound.conservative(), continuous, crudeTv.value(),
                crudeTv.standardError(), sampleSeconds);

        Files.createDirectories(out);
        writeCsv(out.resolve("samples.csv"), y, samples, d);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode r = json.createObjectNode();
        r.put("instance", spec.name());
        r.put("mode", mode.name().toLowerCase(Locale.ROOT));
        r.put("n", n);
        r.put("samples", samples);
        r.put("seed", seed);
        r.put("config", config.toString());
        r.put("delta", plan.delta());
        r.put("steps_requested", requestedSteps);
        r.put("steps", steps);
        r.put("grid", gridKind);
        r.put("bound_paths_per_step", paths);
        r.put("sampler", method.name().toLowerCase(Locale.ROOT));
        r.put("certified_tv_upper", bound.total());
        r.put("certified_tv_upper_conservative", bound.conservative());
        r.put("certified_tv_upper_standard_error", bound.totalStandardError());
        r.put("certified_tv_upper_continuous_time", continuous);
        ObjectNode parts = r.putObject("certified_parts");
        parts.put("score_error_integral", scoreError.value());
        parts.put("score_error_integral_standard_error", scoreError.standardError());
        parts.put("kl_terminal_bound", bound.klTerminalBound());
        parts.put("kl_terminal_monte_carlo", bound.klTerminalMonteCarlo().value());
        parts.put("score_integral", bound.scoreIntegral().value());
        parts.put("score_integral_standard_error", bound.scoreIntegral().standardError());
        parts.put("early_stopping_tv", bound.earlyStoppingTv().value());
        parts.put("early_stopping_tv_standard_error", bound.earlyStoppingTv().standardError());
        parts.put("pinsker_term", bound.pinskerTerm());
        r.put("crude_tv_exact", crudeTv.value());
        r.put("crude_tv_exact_standard_error", crudeTv.standardError());
        r.put("crude_winner", String.valueOf(plan.crudeResult().winner()));
        ArrayNode lv = r.putArray("levels");
        for (LearningPlan.LevelReport l : fit.levels()) {
            ObjectNode o = lv.addObject();
            o.put("t", l.time());
            o.put("sigma2", l.sigma2());
            o.put("cells", l.cells());
            o.put("fitted_cells", l.fittedCells());
            o.put("validation_loss_fit", l.fitLoss());
            o.put("validation_loss_plugin", l.pluginLoss());
        }
        r.put("fit_seconds", fitSeconds);
        r.put("crude_seconds", fit.crudeSeconds());
        r.put("moments_seconds", fit.momentsSeconds());
        r.put("solve_seconds", fit.solveSeconds());
        r.put("sampling_seconds", sampleSeconds);
        r.put("bound_seconds", boundSeconds);
        json.writeValue(out.resolve("result.json").toFile(), r);
        System.out.println(out.resolve("result.json"));
    }

    private static void writeCsv(Path file, double[] y, int n, int d) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int r = 0; r < d; r++) {
                w.write(r == 0 ? "x0" : ",x" + r);
            }
            w.newLine();
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < n; j++) {
                sb.setLength(0);
                for (int r = 0; r < d; r++) {
                    if (r > 0) {
                        sb.append(',');
                    }
                    sb.append(y[j * d + r]);
                }
                w.write(sb.toString());
                w.newLine();
            }
        }
    }

    private static void usage(String problem) {
        System.err.println("bench/run learn: " + problem);
        System.err.println("usage: bench/run learn --instance FILE --n N --mode default|paper|plugin --seed S --out DIR"
                + " [--samples M] [--steps N|auto] [--grid curvature|benton] [--paths P] [--sampler sde|sde_residual] [--degree L] [--levels L]"
                + " [--features monomial|soft_gated]");
        System.exit(2);
    }
}
