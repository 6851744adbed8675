package io.scoremix.bench;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code bench/run score-error --instance FILE [--sizes 10000,100000,1000000] [--mode default]
 * [--crude-sample N] [--plugin true|false]}: the L2 score
 * error {@code E||s_hat(x_t, t) - grad log q_t(x_t)||^2} of the learned model on fresh points of the true
 * noised law (whitened coordinates), at a few noise levels, as n grows; printed as a Markdown table with
 * the crude mixture's exact TV and the fit time.
 */
public final class ScoreErrorTable {

    private ScoreErrorTable() {
    }

    public static void main(String[] args) throws IOException {
        Path instance = null;
        long[] sizes = {10_000, 100_000, 1_000_000};
        LearnerConfig.Mode mode = LearnerConfig.Mode.DEFAULT;
        long seed = 1;
        int crudeSample = LearnerConfig.DEFAULT_CRUDE_SAMPLE;
        boolean withPlugin = true;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--instance" -> instance = Path.of(args[i + 1]);
                case "--sizes" -> sizes = java.util.Arrays.stream(args[i + 1].split(",")).mapToLong(Long::parseLong).toArray();
                case "--mode" -> mode = LearnerConfig.Mode.valueOf(args[i + 1].toUpperCase(Locale.ROOT));
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--crude-sample" -> crudeSample = Integer.parseInt(args[i + 1]);
                case "--plugin" -> withPlugin = Boolean.parseBoolean(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (instance == null) {
            throw new IllegalArgumentException("--instance is required");
        }
        MixtureSpec spec = MixtureSpec.read(instance);
        GaussianMixture truth = spec.mixture();
        int d = truth.dimension();
        double[] times = {0.003, 0.01, 0.03, 0.1, 0.3, 1.0};
        StringBuilder header = new StringBuilder("| n | crude rows | mode | fit s |");
        StringBuilder rule = new StringBuilder("|---|---|---|---|");
        for (double t : times) {
            header.append(String.format(Locale.ROOT, " err t=%s |", t));
            rule.append("---|");
        }
        System.out.println("Score error E||s_hat - s||^2 on " + spec.name() + " (whitened coordinates, 20,000 fresh points"
                + " per level; relative error in parentheses)");
        System.out.println(header);
        System.out.println(rule);
        for (long n : sizes) {
            int rows = Math.toIntExact(n);
            double[] x = new double[rows * d];
            truth.sample(CounterRandom.of(seed), 11, 0, rows, x);
            LearnerConfig.Mode[] modes = withPlugin && mode != LearnerConfig.Mode.PLUGIN
                    ? new LearnerConfig.Mode[] {LearnerConfig.Mode.PLUGIN, mode} : new LearnerConfig.Mode[] {mode};
            for (LearnerConfig.Mode m : modes) {
                LearnerConfig config = LearnerConfig.builder(truth.components()).mode(m).seed(seed)
                        .crudeSample(crudeSample).build();
                long t0 = System.nanoTime();
                Learner.Result fit = Learner.fit(x, rows, d, null, config);
                double seconds = (System.nanoTime() - t0) * 1e-9;
                ScoreModel model = fit.model();
                GaussianMixture truthZ = model.whitening().toWhitened(truth);
                int crudeRows = fit.plan().crudeResult().trainingRows() + fit.plan().crudeResult().heldOutRows();
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %d | %d | %s | %.1f |", n,
                        crudeRows, m.name().toLowerCase(Locale.ROOT), seconds));
                for (double t : times) {
                    double[] e = error(model, truthZ, t, 20_000, seed + 7);
                    line.append(String.format(Locale.ROOT, " %.3g (%.2g) |", e[0], e[0] / e[1]));
                }
                System.out.println(line);
            }
        }
    }

    /** {mean squared error, mean squared exact score} over m points of q_t. */
    static double[] error(ScoreModel model, GaussianMixture truthZ, double t, int m, long seed) {
        int d = truthZ.dimension();
        GaussianMixture qt = truthZ.noised(t);
        double[] x = new double[m * d];
        qt.sample(CounterRandom.of(seed), 3, 0, m, x);
        double[] exact = new double[m * d];
        double[] learned = new double[m * d];
        qt.score(x, m, exact);
        model.score(t, x, m, learned);
        double err = 0;
        double norm = 0;
        for (int j = 0; j < m * d; j++) {
            double e = learned[j] - exact[j];
            err += e * e;
            norm += exact[j] * exact[j];
        }
        return new double[] {err / m, norm / m};
    }
}
