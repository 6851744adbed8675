package io.scoremix.core.score;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;

/**
 * Fits a {@link ScoreModel} from an in-memory array in one JVM: moments and whitening, the crude
 * mixture, the plan (delta, levels, cells, features), one pass of noisy-sample moments for all levels,
 * and the ridge solves with lambda and degree chosen on validation moments. The Spark job runs the same
 * stages with the passes distributed.
 */
public final class Learner {

    private Learner() {
    }

    /** The fitted model with its plan, per-level report and stage timings. */
    public record Result(ScoreModel model, LearningPlan plan, java.util.List<LearningPlan.LevelReport> levels,
                         double crudeSeconds, double momentsSeconds, double solveSeconds) {
    }

    /**
     * Fits the score of the data's OU-noised law.
     *
     * @param x       n x d rows, row-major, finite; not modified
     * @param weights n non-negative row weights, or null
     * @throws IllegalArgumentException on bad input or knobs, naming them
     */
    public static Result fit(double[] x, int n, int d, double[] weights, LearnerConfig config) {
        if (n < 2 || x.length < (long) n * d) {
            throw new IllegalArgumentException("need at least 2 rows of dimension " + d + ", got " + n
                    + " rows in an array of length " + x.length);
        }
        if (config.k() > n) {
            throw new IllegalArgumentException("k = " + config.k() + " exceeds the number of rows " + n);
        }
        long t0 = System.nanoTime();
        Moments moments = new Moments(d);
        if (weights == null) {
            moments.addBlock(x, n);
        } else {
            moments.addBlock(x, weights, n);
        }
        Whitening whitening = Whitening.of(moments);
        CrudeMixtureResult crude = CrudeMixture.fit(x, n, d, weights, config.crude());
        long t1 = System.nanoTime();
        LearningPlan plan = LearningPlan.of(config, whitening, crude);
        double[] z = new double[n * d];
        whitening.apply(x, n, z);
        ScoreMoments acc = plan.emptyMoments();
        plan.accumulate(z, weights, n, 0, acc);
        long t2 = System.nanoTime();
        LearningPlan.Solution solution = plan.solve(acc);
        long t3 = System.nanoTime();
        return new Result(solution.model(), plan, solution.levels(), (t1 - t0) * 1e-9, (t2 - t1) * 1e-9,
                (t3 - t2) * 1e-9);
    }
}
