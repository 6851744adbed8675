package io.scoremix.spark;

import io.scoremix.core.mixture.CrudeMixtureResults;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.score.LearningPlan;
import java.io.Serializable;

/**
 * What the executors of {@code fit}'s second pass receive (as a broadcast) to rebuild the
 * {@link LearningPlan} the driver made: the settings, the chosen early-stopping time, the whitening and
 * the crude mixture's arrays. A few kilobytes however many levels and cells the plan has.
 *
 * <p>Why not broadcast the plan itself: it is a graph of core-math objects (cells, feature maps, noised
 * mixtures per level) that are deliberately not Java-serializable, and its size grows with levels x
 * cells. Rebuilding is deterministic and cheap (no data, no Monte Carlo: delta is fixed to the driver's
 * choice), and {@code GaussianMixture.of} keeps the arrays bit for bit, so every JVM holds an identical
 * plan. The plan is built once per JVM: Spark keeps one deserialized broadcast value per executor, and
 * this object caches the plan in a transient field.
 */
final class PlanShipment implements Serializable {

    private static final long serialVersionUID = 1L;

    private final FitConfig config;
    private final double delta;
    private final Whitening whitening;
    private final double[] weights;
    private final double[][] means;
    private final double[][][] covariances;
    private transient volatile LearningPlan plan;

    /** @param crude the crude mixture in the data's coordinates (as fitted) */
    PlanShipment(FitConfig config, double delta, Whitening whitening, GaussianMixture crude) {
        this.config = config;
        this.delta = delta;
        this.whitening = whitening;
        int k = crude.components();
        this.weights = crude.weights();
        this.means = new double[k][];
        this.covariances = new double[k][][];
        for (int i = 0; i < k; i++) {
            means[i] = crude.mean(i);
            covariances[i] = crude.covariance(i);
        }
    }

    /** The plan, built on first use in this JVM. */
    LearningPlan plan() {
        LearningPlan p = plan;
        if (p == null) {
            synchronized (this) {
                p = plan;
                if (p == null) {
                    GaussianMixture crude = GaussianMixture.of(weights, means, covariances);
                    p = LearningPlan.of(config.learnerConfig(delta), whitening, CrudeMixtureResults.of(crude));
                    plan = p;
                }
            }
        }
        return p;
    }
}
