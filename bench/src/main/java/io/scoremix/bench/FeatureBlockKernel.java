package io.scoremix.bench;

import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;

/**
 * Issue 3's "moment accumulation (features plus dsyrk/dgemm into NormalEquations)" on one block of n
 * rows: the feature map of a plan's cell (its second level) evaluated feature-major on n noised points,
 * the targets appended as columns, and {@link NormalEquations#addColumns}, as
 * {@link LearningPlan#accumulate} adds each gathered block. Soft-gated features include their gates'
 * posteriors, so the map computes them here (the learner takes them from its one evaluation of the noised
 * crude mixture, which also gives the residual targets). Drawing the noise and the targets are not part of
 * this kernel; {@code accumulate} has them. Useful flops per call {@code n (p (p + 1) + 2 p d)}.
 */
final class FeatureBlockKernel {

    private final FeatureMap features;
    private final double[] points;
    private final double[] targets;
    private final double[] block;
    private final int n;

    private FeatureBlockKernel(FeatureMap features, double[] points, double[] targets, int n) {
        this.features = features;
        this.points = points;
        this.targets = targets;
        this.block = new double[n * (features.size() + features.inputDimension())];
        this.n = n;
    }

    static FeatureBlockKernel of(LearningPlan plan, int n) {
        int d = plan.crude().dimension();
        double t = plan.times()[Math.min(1, plan.times().length - 1)];
        GaussianMixture gates = plan.crude().noised(t);
        double[] center = gates.overallMean();
        double[] cov = gates.overallCovariance();
        double[] scale = new double[d];
        for (int r = 0; r < d; r++) {
            scale[r] = Math.sqrt(cov[r * d + r]);
        }
        FeatureMap base = FeatureMap.monomial(center, scale, plan.config().degree());
        boolean soft = plan.config().features() == LearnerConfig.Features.SOFT_GATED;
        FeatureMap f = soft ? FeatureMap.softGated(base, gates) : base;
        double[] points = new double[n * d];
        gates.sample(CounterRandom.of(9), 1, 0, n, points);
        double[] targets = new double[d * n];
        CounterRandom.of(9).fillGaussian(2, 0, targets, 0, targets.length);
        return new FeatureBlockKernel(f, points, targets, n);
    }

    /** Number of features p. */
    int features() {
        return features.size();
    }

    /** Useful flops of one {@link #add}. */
    double flops() {
        double p = features.size();
        return n * (p * (p + 1) + 2.0 * p * features.inputDimension());
    }

    /** Evaluates the block's features, appends the targets and adds the block to {@code into}. */
    NormalEquations add(NormalEquations into) {
        int p = features.size();
        features.evaluateColumns(points, n, null, block, n);
        System.arraycopy(targets, 0, block, p * n, targets.length);
        return into.addColumns(block, n, null, n);
    }
}
