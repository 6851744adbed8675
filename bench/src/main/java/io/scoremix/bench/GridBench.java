package io.scoremix.bench;

import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.metrics.CertifiedBoundConfig;
import io.scoremix.core.metrics.CertifiedTvBound;
import io.scoremix.core.metrics.Divergences;
import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.core.score.ScoreModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench/run grid}: the certified TV bound of the SDE_RESIDUAL sampler for one fitted model under
 * several grids and step counts, with its parts, as markdown table rows on stdout. Fits once (same
 * training rows as {@code learn}: N points of the instance, seed S), then for each {@code grid:steps}
 * pair computes the bound with {@code max(500, P * 256 / steps)} paths per step (steps times paths is
 * held fixed, so every row has about the same relative standard error), the score-error split on.
 *
 * A step count {@code auto} is the one {@code sample} chooses for the model ({@link TimeGrid#autoSteps});
 * every row also shows the predicted discretisation integral of the curvature grid at its steps.
 *
 * <p>{@code --choose-only} skips the levels and the bounds: it fits the crude mixture and delta only (the
 * learner's plan, same rows) and prints the automatic step choice of the instance as one table row.
 *
 * <p>Usage: {@code GridBench --instance FILE [--n N] [--seed S] [--mode plugin|default|paper]
 * [--runs curvature:2048,benton:256,curvature:auto,..] [--paths P] [--choose-only]}.
 */
public final class GridBench {

    private GridBench() {
    }

    public static void main(String[] args) throws IOException {
        Path instance = null;
        int n = 100_000;
        long seed = 1;
        int pathsAt256 = 20_000;
        LearnerConfig.Mode mode = LearnerConfig.Mode.PLUGIN;
        String runs = "curvature:2048,benton:2048,benton:256,curvature:256,curvature:1024";
        boolean chooseOnly = false;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--instance" -> { instance = Path.of(v); i++; }
                case "--n" -> { n = Integer.parseInt(v); i++; }
                case "--seed" -> { seed = Long.parseLong(v); i++; }
                case "--paths" -> { pathsAt256 = Integer.parseInt(v); i++; }
                case "--mode" -> { mode = LearnerConfig.Mode.valueOf(v.toUpperCase(Locale.ROOT)); i++; }
                case "--runs" -> { runs = v; i++; }
                case "--choose-only" -> chooseOnly = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (instance == null) {
            throw new IllegalArgumentException("--instance is required");
        }
        MixtureSpec spec = MixtureSpec.read(instance);
        GaussianMixture truth = spec.mixture();
        int d = truth.dimension();
        double[] x = new double[n * d];
        truth.sample(CounterRandom.of(seed), 11, 0, n, x);
        LearnerConfig config = LearnerConfig.builder(truth.components()).mode(mode).seed(seed).build();
        if (chooseOnly) {
            chooseSteps(spec, x, n, config);
            return;
        }
        long t0 = System.nanoTime();
        Learner.Result fit = Learner.fit(x, n, d, null, config);
        ScoreModel model = fit.model();
        double delta = fit.plan().delta();
        double horizon = config.horizon();
        GaussianMixture truthZ = model.whitening().toWhitened(truth);
        System.err.printf(Locale.ROOT, "%s %s n=%d: fit %.1f s, delta %.3g%n", spec.name(), mode, n,
                (System.nanoTime() - t0) * 1e-9, delta);
        List<String> rows = new ArrayList<>();
        for (String run : runs.split(",")) {
            String[] gs = run.split(":");
            long t1 = System.nanoTime();
            TimeGrid.CurvatureProfile profile = TimeGrid.curvatureProfile(model.crude(), horizon, delta);
            int steps = "auto".equals(gs[1]) ? profile.autoSteps().steps() : Integer.parseInt(gs[1]);
            TimeGrid grid = switch (gs[0]) {
                case "curvature" -> profile.grid(steps);
                case "benton" -> TimeGrid.benton(horizon, delta, steps);
                default -> throw new IllegalArgumentException("grid must be curvature or benton, got " + gs[0]);
            };
            double gridSeconds = (System.nanoTime() - t1) * 1e-9;
            int paths = Math.max(500, (int) ((long) pathsAt256 * 256 / steps));
            CertifiedTvBound b = Divergences.certifiedTvUpperBound(truthZ, model, grid, CertifiedBoundConfig.defaults()
                    .withScheme(CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL).withPaths(paths)
                    .withScoreErrorSplit(true));
            Estimate err = b.scoreErrorIntegral().orElseThrow();
            Estimate integral = b.scoreIntegral();
            String row = String.format(Locale.ROOT,
                    "| %s | %s | %d | %s | %.4f +- %.4f | %.4f | %.1e | %.3e +- %.1e | %.3e +- %.1e | %.3e | %.3e | %d | %.0f |",
                    spec.name(), mode.name().toLowerCase(Locale.ROOT), steps, gs[0], b.total(), b.totalStandardError(),
                    b.earlyStoppingTv().value(), b.klTerminalBound(), integral.value(), integral.standardError(),
                    err.value(), err.standardError(), profile.unitIntegral() / steps, delta, paths,
                    gridSeconds + (System.nanoTime() - t1) * 1e-9);
            System.out.println(row);
            System.out.flush();
            rows.add(row);
        }
    }

    /**
     * Prints {@code | instance | d | delta | I_1 | N | N_max | predicted I | predicted sqrt(I/2) | seconds |}: the
     * automatic step choice for the crude mixture and delta of the learner's plan on these rows.
     */
    private static void chooseSteps(MixtureSpec spec, double[] x, int n, LearnerConfig config) {
        int d = spec.mixture().dimension();
        long t0 = System.nanoTime();
        Moments moments = new Moments(d);
        moments.addBlock(x, n);
        Whitening whitening = Whitening.of(moments);
        if (n > config.crudeSample()) {
            throw new IllegalArgumentException("--choose-only fits the crude mixture on all rows: n must be at most "
                    + config.crudeSample() + " (the learner's crudeSample), got " + n);
        }
        LearningPlan plan = LearningPlan.of(config, whitening, CrudeMixture.fit(x, n, d, null, config.crude()));
        long t1 = System.nanoTime();
        TimeGrid.StepChoice choice = TimeGrid.autoSteps(plan.crude(), config.horizon(), plan.delta());
        System.out.printf(Locale.ROOT, "| %s | %d | %.3e | %.3f | %d | %d | %.3e | %.4f | %.1f + %.1f |%n", spec.name(),
                d, plan.delta(), choice.unitIntegral(), choice.steps(), choice.maxSteps(), choice.predictedIntegral(),
                choice.predictedBoundTerm(), (t1 - t0) * 1e-9, (System.nanoTime() - t1) * 1e-9);
    }
}
