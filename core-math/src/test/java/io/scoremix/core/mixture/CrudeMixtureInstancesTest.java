package io.scoremix.core.mixture;

import io.scoremix.core.metrics.Estimate;
import io.scoremix.core.mixture.CrudeMixtureConfig.Coordinates;
import io.scoremix.core.mixture.CrudeMixtureConfig.Initialisation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crude mixture on the benchmark instances (issue 3's must-show and ALGORITHM.md section 8): fit on
 * n rows drawn from the instance, then the exact TV of the fit to the truth by Monte Carlo.
 *
 * <p>Tolerances. The TV estimate uses {@value #N_MC} draws of the truth; its integrand lies in [0, 1],
 * so the standard error is at most {@code 0.5 / sqrt(N_MC) = 0.0011} (in practice about 1e-4 here). Each
 * bound is checked on the 3-standard-error upper confidence limit, so a pass means the true TV of this
 * fit is below the bound, not just its estimate. The bounds themselves are the issue's; the fits'
 * estimation error at these n is O(sqrt(parameters / n)), well inside them when EM lands in the right
 * basin, so a failure means a bad basin, not noise.
 *
 * <p>Cost. Candidates are the 3 initialisations x 2 coordinate systems with 1 restart (6 EM runs; the
 * default config's 2 restarts double that and gave the same TVs when measured); wide-50d, report-only,
 * runs one candidate. Tagged {@code heavy}: {@code -DexcludedGroups=heavy} skips them.
 */
@Tag("heavy")
class CrudeMixtureInstancesTest {

    private static final int N_MC = 200_000;
    private static final long DATA_SEED = 20261129L;
    private static final long TV_SEED = 99L;

    private static CrudeMixtureConfig sixCandidates(int k) {
        return CrudeMixtureConfig.builder(k).restarts(1).seed(1).build();
    }

    private record Outcome(GaussianMixture truth, CrudeMixtureResult result, Estimate tv) {
    }

    private static Outcome fit(String name, int n, CrudeMixtureConfig config) throws Exception {
        GaussianMixture truth = CrudeTestSupport.instance(name);
        double[] x = CrudeTestSupport.sample(truth, n, DATA_SEED, 1);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        CrudeMixtureResult r = CrudeMixture.fit(x, n, truth.dimension(), config);
        double cpu = (threads.getCurrentThreadCpuTime() - cpu0) * 1e-9;
        Estimate tv = CrudeTestSupport.tv(truth, r.mixture(), N_MC, TV_SEED);
        int iterations = 0;
        for (CrudeMixtureResult.Candidate c : r.candidates()) {
            if (c.sameStartAs() < 0) {
                iterations += c.iterations();
            }
        }
        System.out.printf("crude %s n=%d k=%d: TV %.4f +- %.4f, winner %s/%s, fit %.1f s wall, %.1f s cpu, %d EM iterations + %d final%n%s%n",
                name, n, truth.components(), tv.value(), tv.standardError(), r.winner().initialisation(),
                r.winner().coordinates(), r.seconds(), cpu, iterations, r.finalIterations(), r);
        return new Outcome(truth, r, tv);
    }

    private static void assertTvAtMost(Outcome o, double bound) {
        double upper = o.tv().value() + 3 * o.tv().standardError();
        assertTrue(upper <= bound, "crude TV " + o.tv() + " (3-SE upper limit " + upper + ") exceeds " + bound
                + "\n" + o.result());
    }

    /** Issue 3 must-show: the paper's hard family; sklearn / mclust / MLlib EM reach about 0.26. */
    @Test
    void pancakes8dCrudeTvAtMost005() throws Exception {
        assertTvAtMost(fit("pancakes-8d", 100_000, sixCandidates(3)), 0.05);
    }

    @Test
    void blobs2dCrudeTvAtMost002() throws Exception {
        assertTvAtMost(fit("blobs-2d", 50_000, sixCandidates(3)), 0.02);
    }

    @Test
    void general10dCrudeTvAtMost004() throws Exception {
        assertTvAtMost(fit("general-10d", 100_000, sixCandidates(4)), 0.04);
    }

    @Test
    void many5dCrudeTvAtMost0035() throws Exception {
        assertTvAtMost(fit("many-5d", 100_000, sixCandidates(12)), 0.035);
    }

    /** MLlib's initialisation leaves both components at the centre here (TV 0.76). */
    @Test
    void far1dCrudeTvAtMost001() throws Exception {
        assertTvAtMost(fit("far-1d", 100_000, sixCandidates(2)), 0.01);
    }

    /**
     * Report-only (prototype 0.098): one candidate, k-means++ seeding in whitened coordinates. Asserts
     * only that it is not MLlib's degenerate failure (equal posteriors, all five components identical,
     * TV 0.999).
     */
    @Test
    void wide50dIsReportedAndNotDegenerate() throws Exception {
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(5).restarts(1).seed(1)
                .initialisations(Initialisation.KMEANS_PP_SEEDING).coordinates(Coordinates.WHITENED).build();
        Outcome o = fit("wide-50d", 100_000, config);
        assertTrue(o.tv().value() < 0.5, "wide-50d crude TV " + o.tv());
        GaussianMixture m = o.result().mixture();
        double spread = 0;
        for (int i = 0; i < m.components(); i++) {
            for (int j = 0; j < i; j++) {
                double[] a = m.mean(i);
                double[] b = m.mean(j);
                double s = 0;
                for (int r = 0; r < a.length; r++) {
                    s += (a[r] - b[r]) * (a[r] - b[r]);
                }
                spread = Math.max(spread, Math.sqrt(s));
            }
        }
        assertTrue(spread > 1e-3, "all components have the same mean: " + m);
    }
}
