package io.scoremix.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

import org.junit.jupiter.api.Test;

/**
 * Monte Carlo TV and KL against closed forms and numeric integration. Statistical tolerances are 4
 * standard errors of the estimate itself (a two-sided normal tail of 6e-5 per check, at fixed seeds).
 */
class MonteCarloTvTest {

    private static final double Z = 4.0;
    private static final CounterRandom RNG = CounterRandom.of(20261129L);

    @Test
    void tvOfAMixtureWithItselfIsExactlyZero() {
        GaussianMixture p = TestMixtures.blobs2d();
        Estimate tv = Divergences.monteCarloTv(p, p, 10_000, RNG, 1);
        assertEquals(0.0, tv.value(), 0.0);
        assertEquals(0.0, tv.standardError(), 0.0);
        assertEquals(10_000, tv.samples());
    }

    @Test
    void tvBetweenShiftedNormalsMatchesClosedForm() {
        long n = 200_000;
        for (double a : new double[] {0.1, 1.0, 3.0}) {
            Estimate tv = Divergences.monteCarloTv(TestMixtures.gaussian1d(0, 1), TestMixtures.gaussian1d(a, 1), n,
                    RNG, 2);
            // TV(N(0,1), N(a,1)) = 2 Phi(a/2) - 1.
            double exact = 2 * Normal.cdf(a / 2) - 1;
            System.out.printf("MC TV N(0,1) vs N(%.1f,1): %s, exact %.6f%n", a, tv, exact);
            assertEquals(exact, tv.value(), Z * tv.standardError());
            assertTrue(tv.standardError() <= 0.5 / Math.sqrt(n));
            assertTrue(tv.standardError() > 0);
        }
    }

    @Test
    void tvBetweenOneDimensionalMixturesMatchesNumericIntegration() {
        double[] wp = {0.3, 0.7};
        double[] mp = {-1.0, 1.5};
        double[] vp = {0.5, 1.2};
        double[] wq = {0.5, 0.5};
        double[] mq = {-0.8, 1.2};
        double[] vq = {0.4, 1.5};
        GaussianMixture p = mixture1d(wp, mp, vp);
        GaussianMixture q = mixture1d(wq, mq, vq);
        // TV = 1/2 int |p - q| by composite Simpson on [-30, 30], h = 1e-4: the integrand is piecewise
        // smooth with a few kinks where p = q, so the error is O(h^2) at the kinks, far below 1e-6.
        int cells = 600_000;
        double lo = -30;
        double h = 60.0 / cells;
        double sum = 0;
        for (int i = 0; i <= cells; i++) {
            double x = lo + i * h;
            double f = Math.abs(density(wp, mp, vp, x) - density(wq, mq, vq, x));
            sum += (i == 0 || i == cells ? 1 : (i % 2 == 1 ? 4 : 2)) * f;
        }
        double exact = 0.5 * sum * h / 3;
        long n = 200_000;
        Estimate pq = Divergences.monteCarloTv(p, q, n, RNG, 3);
        Estimate qp = Divergences.monteCarloTv(q, p, n, RNG, 4);
        System.out.printf("MC TV of two 1-D mixtures: %s and (reversed) %s; numeric integration %.6f%n", pq, qp, exact);
        assertEquals(exact, pq.value(), Z * pq.standardError());
        assertEquals(exact, qp.value(), Z * qp.standardError());
        assertTrue(pq.standardError() <= 0.5 / Math.sqrt(n));
    }

    @Test
    void runsAreReproducibleAndIndependentOfBlockBoundaries() {
        GaussianMixture p = TestMixtures.blobs2d();
        GaussianMixture q = p.noised(0.05);
        long n = 3 * MonteCarloTv.BLOCK + 17;
        Estimate a = Divergences.monteCarloTv(p, q, n, RNG, 5);
        Estimate b = Divergences.monteCarloTv(p, q, n, CounterRandom.of(RNG.seed()), 5);
        assertEquals(a, b);
        // The same draws one at a time through the integrand.
        double[] x = new double[(int) n * 2];
        p.sample(RNG, 5, 0, (int) n, x);
        double[] lp = new double[(int) n];
        double[] lq = new double[(int) n];
        p.logDensity(x, (int) n, lp);
        q.logDensity(x, (int) n, lq);
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += Math.max(0, 1 - Math.exp(lq[j] - lp[j]));
        }
        assertEquals(s / n, a.value(), 1e-12);
        Estimate other = Divergences.monteCarloTv(p, q, n, RNG, 6);
        assertTrue(other.value() != a.value());
    }

    @Test
    void integrandHandlesVanishingDensities() {
        assertEquals(1.0, MonteCarloTv.tvIntegrand(-1.0, Double.NEGATIVE_INFINITY), 0.0);
        assertEquals(0.0, MonteCarloTv.tvIntegrand(-1.0, 5.0), 0.0);
        assertEquals(1.0, MonteCarloTv.tvIntegrand(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY), 0.0);
        assertEquals(-Math.expm1(-1e-3), MonteCarloTv.tvIntegrand(0.0, -1e-3), 0.0);
    }

    @Test
    void klBoundEqualsClosedFormForASingleGaussian() {
        double[] m = {0.7, -1.3};
        double[][] s = {{1.8, 0.4}, {0.4, 0.6}};
        GaussianMixture g = GaussianMixture.of(new double[] {1.0}, new double[][] {m}, new double[][][] {s});
        for (double t : new double[] {0.0, 0.3, 2.0, 6.0}) {
            GaussianMixture gt = g.noised(t);
            double[][] st = gt.covariance(0);
            double[] mt = gt.mean(0);
            double det = st[0][0] * st[1][1] - st[0][1] * st[1][0];
            // KL(N(m, S) || N(0, I)) = 1/2 (tr S - d - log det S + ||m||^2).
            double exact = 0.5 * (st[0][0] + st[1][1] - 2 - Math.log(det) + mt[0] * mt[0] + mt[1] * mt[1]);
            // Absolute: the reference formula itself cancels terms of size 1.
            assertEquals(exact, Divergences.klBoundToStandardNormal(gt), 1e-14, "t = " + t);
        }
        // Far from I the relative agreement is tight too.
        assertEquals(0.5 * (1.8 + 0.6 - 2 - Math.log(1.8 * 0.6 - 0.16) + 0.49 + 1.69),
                Divergences.klBoundToStandardNormal(g), 1e-15);
        // And the Monte Carlo estimate agrees with it (the bound is exact for k = 1).
        Estimate mc = Divergences.monteCarloKlToStandardNormal(g, 200_000, RNG, 7);
        assertEquals(Divergences.klBoundToStandardNormal(g), mc.value(), Z * mc.standardError());
    }

    @Test
    void klBoundDominatesMonteCarloKlOfNoisedMixtures() {
        GaussianMixture p = TestMixtures.blobs2d();
        for (double t : new double[] {0.0, 0.25, 1.0, 3.0, 6.0}) {
            GaussianMixture q = p.noised(t);
            double bound = Divergences.klBoundToStandardNormal(q);
            Estimate mc = Divergences.monteCarloKlToStandardNormal(q, 200_000, RNG, 8);
            System.out.printf("KL(q_%.2f || N(0,I)): convexity bound %.6e, Monte Carlo %s%n", t, bound, mc);
            assertTrue(bound >= mc.lower(Z), "t = " + t + ": bound " + bound + " < MC " + mc);
            assertTrue(mc.upper(Z) >= 0, "t = " + t + ": MC KL significantly negative: " + mc);
        }
    }

    private static GaussianMixture mixture1d(double[] w, double[] m, double[] v) {
        double[][] means = new double[w.length][];
        double[][][] covs = new double[w.length][][];
        for (int i = 0; i < w.length; i++) {
            means[i] = new double[] {m[i]};
            covs[i] = new double[][] {{v[i]}};
        }
        return GaussianMixture.of(w, means, covs);
    }

    private static double density(double[] w, double[] m, double[] v, double x) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            double u = x - m[i];
            s += w[i] * Math.exp(-0.5 * u * u / v[i]) / Math.sqrt(2 * Math.PI * v[i]);
        }
        return s;
    }
}
