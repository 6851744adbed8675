package io.scoremix.core.features;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The softmax and projected families: counts, prefixes, standardisation, divergence, spec round trip. */
class InnerFeaturesTest {

    static final GaussianMixture CELL3 = GaussianMixture.of(new double[] {0.5, 0.3, 0.2},
            new double[][] {{0.0, 0.0, 0.1}, {1.0, 0.9, -0.5}, {-1.2, 0.8, 0.4}},
            new double[][][] {
                    {{0.9, 0.25, 0.0}, {0.25, 0.4, 0.1}, {0.0, 0.1, 0.6}},
                    {{0.3, 0.1, 0.05}, {0.1, 0.5, 0.0}, {0.05, 0.0, 0.8}},
                    {{0.2, -0.05, 0.0}, {-0.05, 0.3, 0.02}, {0.0, 0.02, 0.25}}});

    private static long binomial(int n, int r) {
        long b = 1;
        for (int i = 1; i <= r; i++) {
            b = b * (n - r + i) / i;
        }
        return b;
    }

    private static GaussianMixture firstComponents(GaussianMixture g, int m) {
        double[] w = new double[m];
        double[][] mu = new double[m][];
        double[][][] q = new double[m][][];
        double total = 0;
        for (int i = 0; i < m; i++) {
            total += g.weight(i);
        }
        for (int i = 0; i < m; i++) {
            w[i] = g.weight(i) / total;
            mu[i] = g.mean(i);
            q[i] = g.covariance(i);
        }
        return GaussianMixture.of(w, mu, q);
    }

    private static FeatureMap softmax(GaussianMixture cell, int degree) {
        int d = cell.dimension();
        double[] cov = cell.overallCovariance();
        double[] scale = new double[d];
        for (int r = 0; r < d; r++) {
            scale[r] = Math.sqrt(cov[r * d + r]);
        }
        return FeatureMap.softmax(cell, cell.overallMean(), scale, degree);
    }

    private static FeatureMap projected(GaussianMixture cell, int rank, int degree) {
        int d = cell.dimension();
        double[] cov = cell.overallCovariance();
        double[] scale = new double[d];
        for (int r = 0; r < d; r++) {
            scale[r] = Math.sqrt(cov[r * d + r]);
        }
        return FeatureMap.projected(cell.overallMean(), scale, cov, rank, degree);
    }

    @Test
    void softmaxCountsAndPrefixesAreDPlusOneTimesBinomials() {
        int d = 3;
        for (int m = 1; m <= 3; m++) {
            GaussianMixture cell = firstComponents(CELL3, m);
            for (int deg = 0; deg <= 3; deg++) {
                FeatureMap f = softmax(cell, deg);
                assertEquals((d + 1) * binomial(m - 1 + deg, deg), f.size(), "m=" + m + " D=" + deg);
                assertEquals(deg, f.degree());
                for (int l = 0; l <= deg; l++) {
                    assertEquals((d + 1) * binomial(m - 1 + l, l), f.prefixSize(l), "m=" + m + " D=" + deg + " l=" + l);
                }
            }
        }
    }

    @Test
    void projectedCountsAndPrefixesAreDPlusOneTimesBinomials() {
        int d = 3;
        for (int r = 1; r <= 3; r++) {
            for (int deg = 0; deg <= 3; deg++) {
                FeatureMap f = projected(CELL3, r, deg);
                assertEquals((d + 1) * binomial(r + deg, deg), f.size(), "r=" + r + " l=" + deg);
                for (int l = 0; l <= deg; l++) {
                    assertEquals((d + 1) * binomial(r + l, l), f.prefixSize(l));
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> projected(CELL3, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> projected(CELL3, 0, 1));
    }

    @Test
    void lowerDegreeIsAPrefixOfHigherDegree() {
        int n = 5;
        double[] z = new double[n * 3];
        CounterRandom.of(3).fillGaussian(1, 0, z, 0, z.length);
        FeatureMap[][] pairs = {{softmax(CELL3, 1), softmax(CELL3, 3)}, {projected(CELL3, 2, 1), projected(CELL3, 2, 3)}};
        for (FeatureMap[] pair : pairs) {
            double[] a = new double[n * pair[0].size()];
            double[] b = new double[n * pair[1].size()];
            pair[0].evaluate(z, n, a);
            pair[1].evaluate(z, n, b);
            for (int j = 0; j < n; j++) {
                for (int t = 0; t < pair[0].size(); t++) {
                    assertEquals(a[j * pair[0].size() + t], b[j * pair[1].size() + t], 1e-13);
                }
            }
        }
    }

    /**
     * The inner variables have mean 0 and variance 1 under the cell's law (closed-form standardisation of
     * the ratios, principal scaling of the projections): checked on n draws with 6 standard errors
     * (the variance of a squared standardised quadratic form is below 40 here).
     */
    @Test
    void innerVariablesAreStandardisedUnderTheCellLaw() {
        int n = 200_000;
        int d = 3;
        double[] z = new double[n * d];
        CELL3.sample(CounterRandom.of(5), 1, 0, n, z);
        InnerTimesAffineFeatures[] maps = {(InnerTimesAffineFeatures) softmax(CELL3, 1),
                (InnerTimesAffineFeatures) projected(CELL3, 3, 1)};
        for (InnerTimesAffineFeatures f : maps) {
            int q = f.q;
            double[] v = new double[n * q];
            f.inner(z, n, v);
            for (int k = 0; k < q; k++) {
                double s = 0;
                double s2 = 0;
                for (int j = 0; j < n; j++) {
                    s += v[j * q + k];
                    s2 += v[j * q + k] * v[j * q + k];
                }
                double mean = s / n;
                double var = s2 / n - mean * mean;
                assertEquals(0.0, mean, 6 / Math.sqrt(n), f.getClass().getSimpleName() + " variable " + k + " mean");
                assertEquals(1.0, var, 6 * Math.sqrt(40.0 / n), f.getClass().getSimpleName() + " variable " + k + " var");
            }
        }
    }

    @Test
    void softmaxRatiosAreThePapersCentredLogLikelihoodRatios() {
        // r_j = log N_j - log N_0 + 1/2 log det(S_j / S_0) + 1/2 <S_0, P_j - P_0>: check through the mixture's
        // own component log-likelihoods at a point, undoing the standardisation.
        GaussianMixture cell = firstComponents(CELL3, 2);
        SoftmaxFeatures f = (SoftmaxFeatures) softmax(cell, 1);
        double[] z = {0.4, -0.3, 0.9};
        double[] v = new double[1];
        f.inner(z, 1, v);
        FeatureSpec spec = f.spec();
        double r = v[0] * spec.innerScale()[0] + spec.innerCenter()[0];
        double[] ll = new double[2];
        cell.componentLogLikelihoods(z, 1, ll);
        double[][] s0 = cell.covariance(0);
        double[][] s1 = cell.covariance(1);
        double[] p1 = new double[9];
        SoftmaxFeatures.invert(flat(s1), 3, p1, 0);
        double tr = 0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                tr += s0[a][b] * p1[b * 3 + a];
            }
        }
        double logDetRatio = Math.log(det3(s1) / det3(s0));
        double expected = (ll[1] - Math.log(cell.weight(1))) - (ll[0] - Math.log(cell.weight(0))) + 0.5 * logDetRatio
                + 0.5 * (tr - 3);
        assertEquals(expected, r, 1e-12);
    }

    private static double[] flat(double[][] a) {
        double[] f = new double[9];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(a[r], 0, f, r * 3, 3);
        }
        return f;
    }

    private static double det3(double[][] a) {
        return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    }

    @Test
    void divergenceMatchesFiniteDifferencesForFullAndPrefixCoefficients() {
        FeatureMap[] maps = {softmax(CELL3, 2), softmax(firstComponents(CELL3, 1), 2), projected(CELL3, 2, 3),
                projected(CELL3, 1, 0)};
        long seed = 1;
        for (FeatureMap f : maps) {
            for (int deg = 0; deg <= f.degree(); deg++) {
                checkDivergence(f, f.prefixSize(deg), seed++);
            }
        }
    }

    /** Central differences of f = beta^T phi (first rows features), step 1e-5: truncation ~1e-10 relative. */
    private static void checkDivergence(FeatureMap f, int rows, long seed) {
        int d = f.inputDimension();
        CounterRandom rng = CounterRandom.of(seed);
        int p = f.size();
        double[] beta = new double[rows * d];
        rng.fillGaussian(1, 0, beta, 0, rows * d);
        int n = 6;
        double[] z = new double[n * d];
        CELL3.sample(rng, 2, 0, n, z);
        double[] div = new double[n];
        f.divergence(z, n, beta, rows, div);
        double h = 1e-5;
        double[] phi = new double[p];
        for (int j = 0; j < n; j++) {
            double fd = 0;
            for (int r = 0; r < d; r++) {
                double[] zp = java.util.Arrays.copyOfRange(z, j * d, (j + 1) * d);
                double[] zm = zp.clone();
                zp[r] += h;
                zm[r] -= h;
                f.evaluate(zp, 1, phi);
                double up = 0;
                for (int a = 0; a < rows; a++) {
                    up += beta[a * d + r] * phi[a];
                }
                f.evaluate(zm, 1, phi);
                double down = 0;
                for (int a = 0; a < rows; a++) {
                    down += beta[a * d + r] * phi[a];
                }
                fd += (up - down) / (2 * h);
            }
            assertEquals(fd, div[j], 1e-6 * Math.max(1, Math.abs(fd)), f + " rows " + rows + " point " + j);
        }
    }

    @Test
    void specRebuildsAnIdenticalMap() {
        int n = 7;
        double[] z = new double[n * 3];
        CounterRandom.of(9).fillGaussian(1, 0, z, 0, z.length);
        FeatureMap[] maps = {softmax(CELL3, 2), projected(CELL3, 2, 2)};
        for (FeatureMap f : maps) {
            FeatureSpec spec = f.spec();
            FeatureMap g = spec.build(null, CELL3);
            assertEquals(f.size(), g.size());
            double[] a = new double[n * f.size()];
            double[] b = new double[n * g.size()];
            f.evaluate(z, n, a);
            g.evaluate(z, n, b);
            assertArrayEquals(a, b, 0.0);
            assertEquals(spec.family(), g.spec().family());
            assertArrayEquals(spec.innerScale(), g.spec().innerScale(), 0.0);
        }
        assertThrows(IllegalArgumentException.class, () -> softmax(CELL3, 1).spec().build(null));
        FeatureSpec s = softmax(CELL3, 1).spec();
        // Ratio standardisation of the wrong length for the cell (2 ratios for a 3-component cell needed).
        FeatureSpec wrong = new FeatureSpec(FeatureSpec.SOFTMAX, 1, s.center(), s.scale(), null, new double[1],
                new double[] {1.0});
        assertThrows(IllegalArgumentException.class, () -> wrong.build(null, CELL3));
        assertThrows(IllegalArgumentException.class, () -> new FeatureSpec("quadratic", 1, new double[1], new double[1]));
    }
}
