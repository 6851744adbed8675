package io.scoremix.core.features;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureMapTest {

    private static long binomial(int n, int r) {
        long b = 1;
        for (int i = 1; i <= r; i++) {
            b = b * (n - r + i) / i;
        }
        return b;
    }

    private static double[] ones(int d) {
        double[] s = new double[d];
        java.util.Arrays.fill(s, 1.0);
        return s;
    }

    @Test
    void monomialCountsAndPrefixesFollowBinomials() {
        for (int d = 1; d <= 6; d++) {
            for (int l = 0; l <= 4; l++) {
                FeatureMap f = FeatureMap.monomial(new double[d], ones(d), l);
                assertEquals(binomial(d + l, l), f.size(), "d=" + d + " l=" + l);
                for (int m = 0; m <= l; m++) {
                    assertEquals(binomial(d + m, m), f.prefixSize(m));
                }
            }
        }
    }

    @Test
    void lowerDegreeIsAPrefixOfHigherDegree() {
        int d = 3;
        double[] z = {0.3, -1.2, 2.0, 0.7, 0.1, -0.4};
        FeatureMap f2 = FeatureMap.monomial(new double[d], ones(d), 2);
        FeatureMap f4 = FeatureMap.monomial(new double[d], ones(d), 4);
        double[] a = new double[2 * f2.size()];
        double[] b = new double[2 * f4.size()];
        f2.evaluate(z, 2, a);
        f4.evaluate(z, 2, b);
        for (int j = 0; j < 2; j++) {
            for (int t = 0; t < f2.size(); t++) {
                assertEquals(a[j * f2.size() + t], b[j * f4.size() + t], 1e-12);
            }
        }
    }

    @Test
    void hermiteFeaturesAreOrthogonalUnderStandardGaussian() {
        // E[He_a He_b] = a! delta_ab per coordinate; with n draws the empirical Gram entries have standard
        // error sqrt(Var(He_a He_b) / n). Degree <= 2 products have variance below 200 in d = 2, so
        // 6 * sqrt(200 / n) bounds the error at n = 400k with ample margin.
        int d = 2;
        int n = 400_000;
        FeatureMap f = FeatureMap.monomial(new double[d], ones(d), 2);
        int p = f.size();
        double[] z = new double[n * d];
        CounterRandom.of(11).fillGaussian(3, 0, z, 0, n * d);
        double[] phi = new double[n * p];
        f.evaluate(z, n, phi);
        double[] gram = new double[p * p];
        for (int j = 0; j < n; j++) {
            for (int a = 0; a < p; a++) {
                for (int b = 0; b < p; b++) {
                    gram[a * p + b] += phi[j * p + a] * phi[j * p + b] / n;
                }
            }
        }
        // Graded lexicographic order in d = 2: 1, u1, u2, He2(u1), u1 u2, He2(u2); norms 1,1,1,2,1,2.
        double[] norms = {1, 1, 1, 2, 1, 2};
        double tol = 6 * Math.sqrt(200.0 / n);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                assertEquals(a == b ? norms[a] : 0.0, gram[a * p + b], tol, "entry " + a + "," + b);
            }
        }
    }

    @Test
    void standardisationUsesCenterAndScale() {
        FeatureMap f = FeatureMap.monomial(new double[] {1.0}, new double[] {2.0}, 3);
        double[] out = new double[4];
        f.evaluate(new double[] {5.0}, 1, out);
        double u = 2.0;
        assertEquals(1.0, out[0], 0);
        assertEquals(u, out[1], 1e-15);
        assertEquals(u * u - 1, out[2], 1e-15);
        assertEquals(u * u * u - 3 * u, out[3], 1e-14);
    }

    @Test
    void monomialDivergenceMatchesFiniteDifferences() {
        int d = 3;
        FeatureMap f = FeatureMap.monomial(new double[] {0.1, -0.2, 0.3}, new double[] {1.5, 0.7, 1.1}, 3);
        checkDivergence(f, d, 5);
    }

    @Test
    void softGatedDivergenceMatchesFiniteDifferences() {
        int d = 2;
        GaussianMixture gates = GaussianMixture.of(new double[] {0.4, 0.6},
                new double[][] {{-1, 0}, {1, 0.5}},
                new double[][][] {{{1, 0.2}, {0.2, 0.5}}, {{0.7, -0.1}, {-0.1, 1.2}}});
        FeatureMap f = FeatureMap.softGated(FeatureMap.monomial(new double[d], ones(d), 2), gates);
        assertEquals(2 * 6, f.size());
        assertEquals(2 * 3, f.prefixSize(1));
        checkDivergence(f, d, 7);
    }

    /** Central differences of f = beta^T phi, step 1e-5: truncation O(h^2) ~ 1e-10 relative. */
    private static void checkDivergence(FeatureMap f, int d, long seed) {
        CounterRandom rng = CounterRandom.of(seed);
        int p = f.size();
        double[] beta = new double[p * d];
        rng.fillGaussian(1, 0, beta, 0, p * d);
        double[] z = new double[4 * d];
        rng.fillGaussian(2, 0, z, 0, z.length);
        double[] div = new double[4];
        f.divergence(z, 4, beta, p, div);
        double h = 1e-5;
        double[] phi = new double[p];
        for (int j = 0; j < 4; j++) {
            double fd = 0;
            for (int r = 0; r < d; r++) {
                double[] zp = java.util.Arrays.copyOfRange(z, j * d, (j + 1) * d);
                double[] zm = zp.clone();
                zp[r] += h;
                zm[r] -= h;
                f.evaluate(zp, 1, phi);
                double up = 0;
                for (int a = 0; a < p; a++) {
                    up += beta[a * d + r] * phi[a];
                }
                f.evaluate(zm, 1, phi);
                double down = 0;
                for (int a = 0; a < p; a++) {
                    down += beta[a * d + r] * phi[a];
                }
                fd += (up - down) / (2 * h);
            }
            assertEquals(fd, div[j], 1e-6 * Math.max(1, Math.abs(fd)), "point " + j);
        }
    }

    @Test
    void badArgumentsNameTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeatureMap.monomial(new double[2], new double[] {1, 0}, 2));
        assertTrue(e.getMessage().contains("scale[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FeatureMap.monomial(new double[2], ones(2), -1));
        assertTrue(e.getMessage().contains("degree"), e.getMessage());
    }
}
