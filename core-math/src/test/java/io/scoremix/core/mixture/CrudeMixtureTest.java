package io.scoremix.core.mixture;

import io.scoremix.core.mixture.CrudeMixtureConfig.Coordinates;
import io.scoremix.core.mixture.CrudeMixtureConfig.Initialisation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour of the crude-mixture fitter on small inputs: recovery, determinism, the record, degenerate data. */
class CrudeMixtureTest {

    private static GaussianMixture twoBlobs() {
        return GaussianMixture.of(new double[] {0.6, 0.4},
                new double[][] {{0, 0}, {6, 2}},
                new double[][][] {{{1, 0.5}, {0.5, 2}}, {{0.5, 0}, {0, 0.5}}});
    }

    private static void assertFinite(GaussianMixture m) {
        for (int i = 0; i < m.components(); i++) {
            assertTrue(Double.isFinite(m.weight(i)) && m.weight(i) > 0);
            for (double v : m.mean(i)) {
                assertTrue(Double.isFinite(v));
            }
            for (double[] row : m.covariance(i)) {
                for (double v : row) {
                    assertTrue(Double.isFinite(v));
                }
            }
        }
    }

    // Smallest eigenvalue of W Q W for the data whitening: the floor acts in whitened units.
    private static double smallestWhitenedEigenvalue(GaussianMixture m, int i, double[] x, int n) {
        int d = m.dimension();
        Whitening w = Whitening.of(new Moments(d).addBlock(x, n));
        double[][] q = w.toWhitened(m).covariance(i);
        double[] a = new double[d * d];
        for (int r = 0; r < d; r++) {
            System.arraycopy(q[r], 0, a, r * d, d);
        }
        double[] values = new double[d];
        EigenFloor.decompose(a, d, values, new double[d * d]);
        return values[0];
    }

    @Test
    void recoversWellSeparatedComponentsAndRecordsEveryCandidate() {
        GaussianMixture truth = twoBlobs();
        int n = 20_000;
        double[] x = CrudeTestSupport.sample(truth, n, 3, 0);
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(2).seed(5).build();
        CrudeMixtureResult r = CrudeMixture.fit(x, n, 2, config);
        assertEquals(config.candidates(), r.candidates().size());
        assertTrue(r.winner().succeeded());
        assertEquals(n, r.trainingRows() + r.heldOutRows());
        // Held-out fraction 0.1 of 20,000: binomial standard deviation 42 rows.
        assertEquals(0.1 * n, r.heldOutRows(), 5 * Math.sqrt(n * 0.1 * 0.9));
        for (CrudeMixtureResult.Candidate c : r.candidates()) {
            assertTrue(c.succeeded(), c.toString());
            assertTrue(c.converged(), c.toString());
            assertTrue(Double.isFinite(c.heldOutMeanLogLik()), c.toString());
            assertTrue(c.heldOutMeanLogLik() <= r.winner().heldOutMeanLogLik(), c.toString());
        }
        double tv = CrudeTestSupport.tv(truth, r.mixture(), 100_000, 1).value();
        // Well-separated, 11 parameters, n = 20,000: estimation TV is O(sqrt(11 / n)) ~ 0.02 at most.
        assertTrue(tv < 0.02, "TV " + tv);
    }

    @Test
    void deterministicForAFixedSeed() {
        GaussianMixture truth = twoBlobs();
        int n = 5000;
        double[] x = CrudeTestSupport.sample(truth, n, 4, 0);
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(2).seed(11).restarts(1).build();
        GaussianMixture a = CrudeMixture.fit(x, n, 2, config).mixture();
        GaussianMixture b = CrudeMixture.fit(x, n, 2, config).mixture();
        for (int i = 0; i < 2; i++) {
            assertEquals(a.weight(i), b.weight(i), 0.0);
            assertEquals(a.mean(i)[0], b.mean(i)[0], 0.0);
            assertEquals(a.covariance(i)[0][1], b.covariance(i)[0][1], 0.0);
        }
    }

    @Test
    void zeroWeightRowsAreIgnored() {
        GaussianMixture truth = twoBlobs();
        int n = 6000;
        double[] x = CrudeTestSupport.sample(truth, n, 6, 0);
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1.0);
        // Far outliers with weight zero must not move anything.
        for (int j = 0; j < n; j += 50) {
            x[2 * j] = 1e6;
            x[2 * j + 1] = -1e6;
            w[j] = 0.0;
        }
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(2).restarts(1).build();
        GaussianMixture m = CrudeMixture.fit(x, n, 2, w, config).mixture();
        for (int i = 0; i < 2; i++) {
            for (double v : m.mean(i)) {
                assertTrue(Math.abs(v) < 10, "mean " + v);
            }
        }
    }

    @Test
    void kLargerThanTheDistinctPointsIsAClearError() {
        int n = 300;
        double[] x = new double[n * 2];
        for (int j = 0; j < n; j++) {
            x[2 * j] = j % 3;
            x[2 * j + 1] = (j % 3) * (j % 3);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrudeMixture.fit(x, n, 2, CrudeMixtureConfig.of(4)));
        assertTrue(e.getMessage().contains("k = 4") && e.getMessage().contains("distinct"), e.getMessage());
        // k equal to the number of distinct points works: each component collapses onto its point and
        // the floor keeps it a proper Gaussian.
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(3).restarts(1).reg(1e-3).build();
        CrudeMixtureResult r = CrudeMixture.fit(x, n, 2, config);
        assertFinite(r.mixture());
        assertTrue(Double.isFinite(r.meanLogLikelihood()));
        for (int i = 0; i < 3; i++) {
            assertEquals(1e-3, smallestWhitenedEigenvalue(r.mixture(), i, x, n), 1e-9);
        }
    }

    @Test
    void identicalRowsAreAClearError() {
        int n = 100;
        double[] x = new double[n * 3];
        for (int j = 0; j < n; j++) {
            x[3 * j] = 1.5;
            x[3 * j + 1] = -2;
            x[3 * j + 2] = 7;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrudeMixture.fit(x, n, 3, CrudeMixtureConfig.of(1)));
        assertTrue(e.getMessage().contains("identical"), e.getMessage());
    }

    @Test
    void aComponentCollapsingOntoOnePointIsFloored() {
        // A Gaussian blob plus 5% of the rows stacked on one point away from it: one component takes
        // that point, where the likelihood is unbounded without the floor.
        int n = 4000;
        double[] x = CrudeTestSupport.sample(GaussianMixture.of(new double[] {1},
                new double[][] {{0, 0}}, new double[][][] {{{1, 0}, {0, 1}}}), n, 9, 0);
        for (int j = 0; j < n; j += 20) {
            x[2 * j] = 6.0;
            x[2 * j + 1] = -4.0;
        }
        double reg = 1e-4;
        CrudeMixtureConfig config = CrudeMixtureConfig.builder(2).reg(reg).restarts(1).build();
        CrudeMixtureResult r = CrudeMixture.fit(x, n, 2, config);
        GaussianMixture m = r.mixture();
        assertFinite(m);
        int spike = m.covariance(0)[0][0] < m.covariance(1)[0][0] ? 0 : 1;
        assertEquals(reg, smallestWhitenedEigenvalue(m, spike, x, n), 1e-9 * 1e3);
        assertEquals(0.05, m.weight(spike), 0.01);
        assertEquals(6.0, m.mean(spike)[0], 1e-9);
        assertEquals(-4.0, m.mean(spike)[1], 1e-9);
        assertTrue(Double.isFinite(r.meanLogLikelihood()));
    }

    @Test
    void badInputsNameTheRow() {
        double[] x = new double[20];
        x[13] = Double.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrudeMixture.fit(x, 10, 2, CrudeMixtureConfig.of(1)));
        assertTrue(e.getMessage().contains("row 6"), e.getMessage());
        double[] ok = CrudeTestSupport.sample(twoBlobs(), 10, 1, 0);
        double[] w = new double[10];
        w[4] = -1;
        e = assertThrows(IllegalArgumentException.class, () -> CrudeMixture.fit(ok, 10, 2, w, CrudeMixtureConfig.of(1)));
        assertTrue(e.getMessage().contains("row 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CrudeMixture.fit(ok, 10, 2, new double[10], CrudeMixtureConfig.of(1)));
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CrudeMixture.fit(ok, 11, 2, CrudeMixtureConfig.of(1)));
        assertTrue(e.getMessage().contains("n * d"), e.getMessage());
    }

    @Test
    void everyInitialisationAndCoordinateSystemRunsAlone() {
        GaussianMixture truth = twoBlobs();
        int n = 4000;
        double[] x = CrudeTestSupport.sample(truth, n, 12, 0);
        for (Initialisation init : Initialisation.values()) {
            for (Coordinates coords : Coordinates.values()) {
                CrudeMixtureConfig config = CrudeMixtureConfig.builder(2).initialisations(init).coordinates(coords)
                        .restarts(1).build();
                CrudeMixtureResult r = CrudeMixture.fit(x, n, 2, config);
                assertEquals(1, r.candidates().size());
                assertEquals(init, r.winner().initialisation());
                assertEquals(coords, r.winner().coordinates());
                assertFinite(r.mixture());
            }
        }
        // Nothing held out: chosen on the training log-likelihood.
        CrudeMixtureResult r = CrudeMixture.fit(x, n, 2, CrudeMixtureConfig.builder(2).heldOutFraction(0).restarts(1).build());
        assertEquals(0, r.heldOutRows());
        assertTrue(Double.isNaN(r.winner().heldOutMeanLogLik()));
    }
}
