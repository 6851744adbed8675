package io.scoremix.core.score;

import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;

/**
 * Fits a {@link ScoreModel} from an in-memory array in one JVM: moments and whitening, the crude
 * mixture, the plan (delta, levels, cells, features), one pass of noisy-sample moments for all levels,
 * and the ridge solves with lambda and degree chosen on validation moments. The Spark job runs the same
 * stages with the passes distributed.
 */
public final class Learner {

    /**
     * Stream tag of the crude sample's uniforms (the Spark job's driver-side sample uses the same tag and
     * rule, so both fit the crude mixture on the same rows).
     */
    public static final long CRUDE_SAMPLE_TAG = 0x6372756465736D70L;

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
        CrudeMixtureResult crude = fitCrude(x, n, d, weights, config);
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

    /**
     * The crude mixture on the deterministic sample of {@link LearnerConfig#crudeSample()}: all rows when
     * n is at most that, else row r is kept when the uniform of counter r is below crudeSample / n.
     */
    static CrudeMixtureResult fitCrude(double[] x, int n, int d, double[] weights, LearnerConfig config) {
        int limit = config.crudeSample();
        if (n <= limit) {
            return CrudeMixture.fit(x, n, d, weights, config.crude());
        }
        double fraction = (double) limit / n;
        double[] u = new double[n];
        CounterRandom.of(config.seed()).fillUniform(CounterRandom.stream(CRUDE_SAMPLE_TAG), 0, u, 0, n);
        int m = 0;
        for (int r = 0; r < n; r++) {
            if (u[r] < fraction) {
                m++;
            }
        }
        if (m < Math.max(2, config.k())) {
            throw new IllegalArgumentException("the crude sample of crudeSample = " + limit + " kept " + m + " of " + n
                    + " rows, fewer than k = " + config.k() + " (or 2): raise crudeSample");
        }
        double[] xs = new double[m * d];
        double[] ws = weights == null ? null : new double[m];
        int at = 0;
        for (int r = 0; r < n; r++) {
            if (u[r] < fraction) {
                System.arraycopy(x, r * d, xs, at * d, d);
                if (ws != null) {
                    ws[at] = weights[r];
                }
                at++;
            }
        }
        return CrudeMixture.fit(xs, m, d, ws, config.crude());
    }
}
