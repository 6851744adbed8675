package io.scoremix.core.mixture;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GaussianMixture against independent computations (explicit inverse and determinant by Gauss-Jordan
 * elimination, closed forms), finite differences, Monte Carlo identities and sampling statistics whose
 * tolerances come from the sample size (5 standard errors).
 */
class GaussianMixtureTest {

    /** Standard errors allowed in Monte Carlo checks (two-sided false-alarm rate about 6e-7 per check). */
    private static final double Z = 5.0;
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    // --- helpers ------------------------------------------------------------------------------------------------

    static GaussianMixture instance(String name) {
        try {
            return MixtureSpec.read(Path.of(GaussianMixtureTest.class.getResource("/instances/" + name + ".json").toURI()))
                    .mixture();
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A random mixture: weights uniform in [0.2, 1.2) normalised, means N(0, 1.5^2 I), covariances
     * A A^T / d + 0.2 I with A standard Gaussian (well conditioned, anisotropic).
     */
    static GaussianMixture randomMixture(long seed, int d, int k) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] w = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            w[i] = 0.2 + r.nextDouble();
            sum += w[i];
        }
        double[][] mu = new double[k][d];
        double[][][] q = new double[k][d][d];
        for (int i = 0; i < k; i++) {
            w[i] /= sum;
            double[][] a = new double[d][d];
            for (int p = 0; p < d; p++) {
                mu[i][p] = 1.5 * gaussian(r);
                for (int c = 0; c < d; c++) {
                    a[p][c] = gaussian(r);
                }
            }
            for (int p = 0; p < d; p++) {
                for (int c = 0; c <= p; c++) {
                    double s = 0;
                    for (int m = 0; m < d; m++) {
                        s += a[p][m] * a[c][m];
                    }
                    s /= d;
                    q[i][p][c] = s;
                    q[i][c][p] = s;
                }
                q[i][p][p] += 0.2;
            }
        }
        return GaussianMixture.of(w, mu, q);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller with java.util's generator, independent of CounterRandom.
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** Inverse and log-determinant of a small dense matrix by Gauss-Jordan with partial pivoting. */
    private static double invertAndLogDet(double[][] a, double[][] inv) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int r = 0; r < n; r++) {
            System.arraycopy(a[r], 0, m[r], 0, n);
            m[r][n + r] = 1;
        }
        double logDet = 0;
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int r = c + 1; r < n; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
                    p = r;
                }
            }
            double[] t = m[p];
            m[p] = m[c];
            m[c] = t;
            double pivot = m[c][c];
            // det changes sign on a swap; a covariance's det is positive, so only |pivot| matters.
            logDet += Math.log(Math.abs(pivot));
            for (int j = 0; j < 2 * n; j++) {
                m[c][j] /= pivot;
            }
            for (int r = 0; r < n; r++) {
                if (r != c && m[r][c] != 0) {
                    double f = m[r][c];
                    for (int j = 0; j < 2 * n; j++) {
                        m[r][j] -= f * m[c][j];
                    }
                }
            }
        }
        for (int r = 0; r < n; r++) {
            System.arraycopy(m[r], n, inv[r], 0, n);
        }
        return logDet;
    }

    /** Per-component log(lambda_i N(x; mu_i, Q_i)) from an explicit inverse and determinant. */
    private static double[] referenceLogTerms(GaussianMixture g, double[] x) {
        int d = g.dimension();
        double[] terms = new double[g.components()];
        for (int i = 0; i < g.components(); i++) {
            double[][] inv = new double[d][d];
            double logDet = invertAndLogDet(g.covariance(i), inv);
            double[] mu = g.mean(i);
            double quad = 0;
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    quad += (x[r] - mu[r]) * inv[r][c] * (x[c] - mu[c]);
                }
            }
            terms[i] = Math.log(g.weight(i)) - 0.5 * d * LOG_2PI - 0.5 * logDet - 0.5 * quad;
        }
        return terms;
    }

    private static double[] samplePoints(GaussianMixture g, long stream, int n) {
        double[] x = new double[n * g.dimension()];
        g.sample(CounterRandom.of(12345), stream, 0, n, x);
        return x;
    }

    private static double[] row(double[] x, int j, int d) {
        return Arrays.copyOfRange(x, j * d, (j + 1) * d);
    }

    private static void assertThrowsWith(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "expected '" + f + "' in: " + e.getMessage());
        }
    }

    // --- validation -------------------------------------------------------------------------------------------------

    private static final double[][] I2 = {{1, 0}, {0, 1}};

    @Test
    void ofRejectsMissingOrMismatchedArrays() {
        assertThrowsWith(() -> GaussianMixture.of(null, new double[][]{{0}}, new double[][][]{{{1}}}), "must all be given");
        assertThrowsWith(() -> GaussianMixture.of(new double[0], new double[0][], new double[0][][]), "at least one component");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{0.5, 0.5}, new double[][]{{0, 0}}, new double[][][]{I2, I2}),
                "2 weights, 1 means and 2 covariances");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{1}, new double[][]{{}}, new double[][][]{{}}),
                "component 0", "mean is empty");
    }

    @Test
    void ofRejectsBadWeights() {
        double[][] mu = {{0, 0}, {1, 1}};
        double[][][] q = {I2, I2};
        assertThrowsWith(() -> GaussianMixture.of(new double[]{0.5, Double.NaN}, mu, q), "component 1", "weight is not finite", "NaN");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{Double.POSITIVE_INFINITY, 0.5}, mu, q), "component 0",
                "weight is not finite", "Infinity");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{1, 0}, mu, q), "component 1", "weight must be positive", "0.0");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{1.5, -0.5}, mu, q), "component 1", "weight must be positive", "-0.5");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{0.5, 0.6}, mu, q), "weights sum to 1.1", "not 1");
        assertThrowsWith(() -> GaussianMixture.of(new double[]{0.5, 0.5 + 2e-9}, mu, q), "weights sum to");
        // Within tolerance: accepted and renormalised exactly.
        GaussianMixture g = GaussianMixture.of(new double[]{0.5, 0.5 + 5e-10}, mu, q);
        assertEquals(1.0, g.weight(0) + g.weight(1), 1e-16);
    }

    @Test
    void ofRejectsBadMeans() {
        double[] w = {0.5, 0.5};
        double[][][] q = {I2, I2};
        assertThrowsWith(() -> GaussianMixture.of(w, new double[][]{{0, 0}, {1, 1, 1}}, q), "component 1",
                "mean has dimension 3, expected 2");
        assertThrowsWith(() -> GaussianMixture.of(w, new double[][]{{0, 0}, null}, q), "component 1",
                "mean has dimension 0, expected 2");
        assertThrowsWith(() -> GaussianMixture.of(w, new double[][]{{0, 0}, {1, Double.NaN}}, q), "component 1",
                "mean[1] is not finite (NaN)");
        assertThrowsWith(() -> GaussianMixture.of(w, new double[][]{{Double.NEGATIVE_INFINITY, 0}, {1, 1}}, q),
                "component 0", "mean[0] is not finite (-Infinity)");
    }

    @Test
    void ofRejectsBadCovariances() {
        double[] w = {0.5, 0.5};
        double[][] mu = {{0, 0}, {1, 1}};
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{I2, {{1, 0}}}), "component 1",
                "covariance has 1 rows, expected 2");
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{I2, {{1, 0}, {0, 1, 0}}}), "component 1",
                "covariance row 1 has length 3, expected 2");
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{I2, {{1, Double.NaN}, {0, 1}}}), "component 1",
                "covariance[0][1] is not finite (NaN)");
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{{{1, 0.3}, {0.2, 1}}, I2}), "component 0",
                "covariance is not symmetric", "[1][0] = 0.2", "[0][1] = 0.3");
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{I2, {{1, 2}, {2, 1}}}), "component 1",
                "not positive definite", "pivot 1");
        assertThrowsWith(() -> GaussianMixture.of(w, mu, new double[][][]{I2, {{0, 0}, {0, 1}}}), "component 1",
                "not positive definite", "pivot 0");
        // Asymmetry within 1e-9 relative to the largest entry is accepted and symmetrised.
        GaussianMixture g = GaussianMixture.of(w, mu, new double[][][]{I2, {{2, 0.5 + 1e-10}, {0.5, 1}}});
        double[][] c = g.covariance(1);
        assertEquals(c[0][1], c[1][0], 0.0);
        assertEquals(0.5 + 0.5e-10, c[0][1], 1e-16);
    }

    @Test
    void ofKeepsAlreadyNormalisedWeightsBitForBit() {
        // Rebuilding a mixture from its own weights must not move them: otherwise a spec written and read
        // back differs in the last bit (dividing by a sum that rounds to 1 - 2^-53 is not idempotent).
        SplittableRandom r = new SplittableRandom(17);
        for (int rep = 0; rep < 2000; rep++) {
            int k = 2 + r.nextInt(30);
            double[] w = new double[k];
            double[][] mu = new double[k][1];
            double[][][] q = new double[k][][];
            double sum = 0;
            for (int i = 0; i < k; i++) {
                w[i] = r.nextDouble() + 1e-3;
                sum += w[i];
                q[i] = new double[][]{{1}};
            }
            for (int i = 0; i < k; i++) {
                w[i] /= sum;
            }
            GaussianMixture g = GaussianMixture.of(w, mu, q);
            GaussianMixture again = GaussianMixture.of(g.weights(), mu, q);
            assertArrayEquals(g.weights(), again.weights(), 0.0, "rep " + rep);
            double total = 0;
            for (double v : g.weights()) {
                total += v;
            }
            assertEquals(1.0, total, 4 * k * Math.ulp(1.0));
        }
    }

    @Test
    void ofCopiesItsArguments() {
        double[] w = {1};
        double[][] mu = {{1, 2}};
        double[][][] q = {{{1, 0}, {0, 1}}};
        GaussianMixture g = GaussianMixture.of(w, mu, q);
        mu[0][0] = 99;
        q[0][0][0] = 99;
        assertEquals(1.0, g.mean(0)[0]);
        assertEquals(1.0, g.covariance(0)[0][0]);
        g.mean(0)[1] = 99;
        assertEquals(2.0, g.mean(0)[1]);
    }

    @Test
    void noisedRejectsBadTimes() {
        GaussianMixture g = randomMixture(1, 2, 2);
        assertThrowsWith(() -> g.noised(-0.1), "non-negative", "-0.1");
        assertThrowsWith(() -> g.noised(Double.NaN), "NaN");
        assertThrowsWith(() -> g.noised(Double.POSITIVE_INFINITY), "Infinity");
        assertSame(g, g.noised(0));
    }

    // --- log-density and posteriors against independent computations ----------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5})
    void logDensityMatchesExplicitInverseAndDeterminant(int d) {
        GaussianMixture g = randomMixture(100 + d, d, 3);
        int n = 300; // more than one internal chunk of 256 points
        double[] x = samplePoints(g, 1, n);
        double[] got = new double[n];
        g.logDensity(x, n, got);
        for (int j = 0; j < n; j++) {
            double[] terms = referenceLogTerms(g, row(x, j, d));
            double lin = 0;
            for (double t : terms) {
                lin += Math.exp(t); // linear space is safe at these points in small d
            }
            assertEquals(Math.log(lin), got[j], 1e-12 * Math.max(1, Math.abs(got[j])), "point " + j);
            // The BLAS may order sums differently for one column than for a block: allow a few ulps.
            assertEquals(got[j], g.logDensity(row(x, j, d)), 4 * Math.ulp(got[j]), "block and single-point evaluation agree");
        }
    }

    @Test
    void singleGaussianLogDensityIsTheTextbookFormula() {
        // d = 2 with Q = [[4, 1.2], [1.2, 1]]: det = 2.56, Q^{-1} = [[1, -1.2], [-1.2, 4]] / 2.56.
        double[][] mu = {{1, -2}};
        GaussianMixture g = GaussianMixture.of(new double[]{1}, mu, new double[][][]{{{4, 1.2}, {1.2, 1}}});
        double[][] pts = {{1, -2}, {0, 0}, {3.5, -7}, {-10, 10}};
        for (double[] p : pts) {
            double a = p[0] - 1;
            double b = p[1] + 2;
            double quad = (a * a - 2.4 * a * b + 4 * b * b) / 2.56;
            double expected = -LOG_2PI - 0.5 * Math.log(2.56) - 0.5 * quad;
            assertEquals(expected, g.logDensity(p), 1e-13 * Math.max(1, Math.abs(expected)));
        }
        // d = 1: log N(x; m, v).
        GaussianMixture one = GaussianMixture.of(new double[]{1}, new double[][]{{3}}, new double[][][]{{{0.25}}});
        assertEquals(-0.5 * LOG_2PI - 0.5 * Math.log(0.25) - 0.5 * 4 / 0.25, one.logDensity(new double[]{5}), 1e-14);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5})
    void posteriorsSumToOneAndMatchTheLinearFormula(int d) {
        GaussianMixture g = randomMixture(200 + d, d, 4);
        int n = 300;
        double[] x = samplePoints(g, 2, n);
        double[] post = new double[n * 4];
        g.posteriors(x, n, post);
        for (int j = 0; j < n; j++) {
            double[] terms = referenceLogTerms(g, row(x, j, d));
            double sum = 0;
            double lin = 0;
            for (int i = 0; i < 4; i++) {
                sum += post[j * 4 + i];
                lin += Math.exp(terms[i]);
            }
            assertEquals(1.0, sum, 1e-14);
            for (int i = 0; i < 4; i++) {
                assertEquals(Math.exp(terms[i]) / lin, post[j * 4 + i], 1e-12, "point " + j + " component " + i);
            }
        }
    }

    @Test
    void posteriorsStayFiniteAndInformativeWhereDensitiesUnderflow() {
        // d = 50, N(0, I) and N(mu, I) with mu = 0.01 * 1: the posterior log-odds are exactly
        // log(w1/w0) + x.mu - |mu|^2/2, while each linear-space density underflows to 0 far out.
        int d = 50;
        double[][] mu = new double[2][d];
        Arrays.fill(mu[1], 0.01);
        double[][][] q = new double[2][d][d];
        for (int i = 0; i < 2; i++) {
            for (int r = 0; r < d; r++) {
                q[i][r][r] = 1;
            }
        }
        double w0 = 0.7;
        double w1 = 0.3;
        GaussianMixture g = GaussianMixture.of(new double[]{w0, w1}, mu, q);
        SplittableRandom r = new SplittableRandom(5);
        for (int rep = 0; rep < 20; rep++) {
            double[] x = new double[d];
            double dot = 0;
            double norm2 = 0;
            for (int c = 0; c < d; c++) {
                x[c] = 6 + 0.5 * gaussian(r) + 0.05 * rep;
                dot += 0.01 * x[c];
                norm2 += x[c] * x[c];
            }
            double logOdds = Math.log(w1 / w0) + dot - 0.5 * d * 1e-4;
            double p1 = 1 / (1 + Math.exp(-logOdds));
            double[] post = new double[2];
            g.posteriors(x, 1, post);
            double logDens = g.logDensity(x);
            // The regime under test: each component's linear density is 0 in double precision.
            assertEquals(0.0, Math.exp(Math.log(w0) - 0.5 * d * LOG_2PI - 0.5 * norm2), 0.0);
            assertTrue(Double.isFinite(logDens) && logDens < -745, "log-density " + logDens);
            assertTrue(Double.isFinite(post[0]) && Double.isFinite(post[1]));
            assertEquals(p1, post[1], 1e-12);
            assertEquals(1 - p1, post[0], 1e-12);
            assertTrue(Math.abs(post[1] - 0.5) > 0.1, "non-uniform");
            // log p = log w0 + log N0 + log(1 + e^{logOdds}), N0 = N(x; 0, I).
            double expected = Math.log(w0) - 0.5 * d * LOG_2PI - 0.5 * norm2 + Math.log1p(Math.exp(logOdds));
            assertEquals(expected, logDens, 1e-13 * Math.abs(expected));
        }
    }

    // --- score and Hessian --------------------------------------------------------------------------------------------

    /** Central-difference step: error h^2 |f'''| / 6 ~ 1e-10 plus rounding eps |f| / h ~ 1e-10. */
    private static final double H = 1e-5;
    /** Relative tolerance of the finite-difference checks, scaled by max(1, |value|). */
    private static final double FD_TOL = 1e-6;

    private static void assertScoreMatchesFiniteDifferences(GaussianMixture g, double[] x, int n, String label) {
        int d = g.dimension();
        double[] s = new double[n * d];
        g.score(x, n, s);
        for (int j = 0; j < n; j++) {
            double[] p = row(x, j, d);
            double scale = 1;
            for (int r = 0; r < d; r++) {
                scale = Math.max(scale, Math.abs(s[j * d + r]));
            }
            for (int r = 0; r < d; r++) {
                double keep = p[r];
                p[r] = keep + H;
                double up = g.logDensity(p);
                p[r] = keep - H;
                double down = g.logDensity(p);
                p[r] = keep;
                double fd = (up - down) / (2 * H);
                assertEquals(fd, s[j * d + r], FD_TOL * scale, label + " point " + j + " coordinate " + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5, 10})
    void scoreEqualsFiniteDifferencesOfLogDensity(int d) {
        GaussianMixture g = randomMixture(300 + d, d, 3);
        int n = 40;
        double[] x = samplePoints(g, 3, n);
        // A few points far out in the tails as well.
        for (int c = 0; c < 5 * d; c++) {
            x[c] *= 3;
        }
        assertScoreMatchesFiniteDifferences(g, x, n, "t=0");
        for (double t : new double[]{0.01, 0.1, 0.5, 1, 3}) {
            GaussianMixture gt = g.noised(t);
            assertScoreMatchesFiniteDifferences(gt, samplePoints(gt, 4, n), n, "t=" + t);
        }
    }

    @Test
    void scoreOfBlockEqualsScoreOfSinglePoints() {
        GaussianMixture g = randomMixture(7, 3, 3);
        int n = 600; // three internal chunks
        double[] x = samplePoints(g, 5, n);
        double[] s = new double[n * 3];
        g.score(x, n, s);
        double[] one = new double[3];
        for (int j = 0; j < n; j++) {
            g.score(row(x, j, 3), 1, one);
            for (int r = 0; r < 3; r++) {
                assertEquals(one[r], s[j * 3 + r], 4 * Math.ulp(one[r]) + 1e-300, "point " + j);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5})
    void hessianEqualsFiniteDifferencesOfTheScore(int d) {
        for (double t : new double[]{0, 0.2, 1.5}) {
            GaussianMixture g = randomMixture(400 + d, d, 3).noised(t);
            double[] x = samplePoints(g, 6, 20);
            double[] h = new double[d * d];
            double[] up = new double[d];
            double[] down = new double[d];
            for (int j = 0; j < 20; j++) {
                double[] p = row(x, j, d);
                g.hessian(p, h);
                double scale = 1;
                for (double v : h) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int c = 0; c < d; c++) {
                    double keep = p[c];
                    p[c] = keep + H;
                    g.score(p, 1, up);
                    p[c] = keep - H;
                    g.score(p, 1, down);
                    p[c] = keep;
                    for (int r = 0; r < d; r++) {
                        double fd = (up[r] - down[r]) / (2 * H);
                        assertEquals(fd, h[r * d + c], FD_TOL * scale, "t=" + t + " point " + j + " entry " + r + "," + c);
                        assertEquals(h[r * d + c], h[c * d + r], 1e-12 * scale, "symmetric");
                    }
                }
            }
        }
    }

    @Test
    void singleGaussianScoreIsAffine() {
        // ALGORITHM.md / PAPER-NOTES T3: the score of N(mu, Q) noised to t is -(e^{-2t} Q + sigma_t^2 I)^{-1}(x - e^{-t} mu).
        GaussianMixture g = randomMixture(9, 4, 1);
        double t = 0.7;
        GaussianMixture gt = g.noised(t);
        double a = Math.exp(-t);
        double[][] s = new double[4][4];
        double[][] q = g.covariance(0);
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                s[r][c] = a * a * q[r][c] + (r == c ? 1 - a * a : 0);
            }
        }
        double[][] inv = new double[4][4];
        invertAndLogDet(s, inv);
        double[] mu = g.mean(0);
        double[] x = samplePoints(gt, 7, 10);
        double[] score = new double[40];
        gt.score(x, 10, score);
        for (int j = 0; j < 10; j++) {
            for (int r = 0; r < 4; r++) {
                double e = 0;
                for (int c = 0; c < 4; c++) {
                    e -= inv[r][c] * (x[j * 4 + c] - a * mu[c]);
                }
                assertEquals(e, score[j * 4 + r], 1e-12 * Math.max(1, Math.abs(e)));
            }
        }
    }

    // --- the noised mixture ---------------------------------------------------------------------------------------------

    @Test
    void noisedParametersAreTheClosedForm() {
        GaussianMixture g = randomMixture(11, 4, 3);
        for (double t : new double[]{1e-6, 0.05, 0.5, 2, 8}) {
            GaussianMixture gt = g.noised(t);
            double a = Math.exp(-t);
            double s2 = 1 - Math.exp(-2 * t);
            for (int i = 0; i < 3; i++) {
                assertEquals(g.weight(i), gt.weight(i), 0.0);
                double[] mu = g.mean(i);
                double[] mt = gt.mean(i);
                double[][] q = g.covariance(i);
                double[][] qt = gt.covariance(i);
                for (int r = 0; r < 4; r++) {
                    assertEquals(a * mu[r], mt[r], 1e-15 * Math.abs(mu[r]));
                    for (int c = 0; c < 4; c++) {
                        double e = a * a * q[r][c] + (r == c ? s2 : 0);
                        // 1 - e^{-2t} loses relative precision for tiny t; compare on the entry's scale.
                        assertEquals(e, qt[r][c], 1e-14 * Math.max(Math.abs(e), Math.abs(q[r][c])), "t=" + t);
                    }
                }
            }
        }
    }

    @Test
    void noisingComposes() {
        GaussianMixture g = randomMixture(12, 3, 2);
        double[][] ts = {{0.1, 0.2}, {1, 0.5}, {0.01, 3}};
        for (double[] ts2 : ts) {
            GaussianMixture twice = g.noised(ts2[0]).noised(ts2[1]);
            GaussianMixture once = g.noised(ts2[0] + ts2[1]);
            for (int i = 0; i < 2; i++) {
                double[] m1 = twice.mean(i);
                double[] m2 = once.mean(i);
                double[][] c1 = twice.covariance(i);
                double[][] c2 = once.covariance(i);
                for (int r = 0; r < 3; r++) {
                    assertEquals(m2[r], m1[r], 1e-14 * Math.max(1, Math.abs(m2[r])));
                    for (int c = 0; c < 3; c++) {
                        assertEquals(c2[r][c], c1[r][c], 1e-14 * Math.max(1, Math.abs(c2[r][c])));
                    }
                }
            }
            double[] x = samplePoints(once, 8, 50);
            double[] l1 = new double[50];
            double[] l2 = new double[50];
            twice.logDensity(x, 50, l1);
            once.logDensity(x, 50, l2);
            for (int j = 0; j < 50; j++) {
                assertEquals(l2[j], l1[j], 1e-12 * Math.max(1, Math.abs(l2[j])));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.05, 0.3, 1.0, 3.0})
    void denoisingScoreMatchingIdentityHoldsByMonteCarlo(double t) {
        // With x_t = e^{-t} x_0 + sigma_t z and s = grad log q_t:
        // E||s(x_t) + z/sigma_t||^2 = d/sigma_t^2 - E||s(x_t)||^2, i.e. E[A + B] = d/sigma_t^2 with
        // A = ||s + z/sigma||^2 and B = ||s||^2 per draw. Tolerance: 5 Monte Carlo standard errors of the mean
        // of A + B (sample standard deviation / sqrt(n)).
        GaussianMixture g = instance("general-10d");
        int d = g.dimension();
        int n = 100_000;
        double[] x0 = new double[n * d];
        g.sample(CounterRandom.of(2024), 1, 0, n, x0);
        double[] z = new double[n * d];
        CounterRandom.of(2024).fillGaussian(CounterRandom.stream(99), 0, z, 0, n * d);
        double a = Math.exp(-t);
        double sigma = Math.sqrt(1 - Math.exp(-2 * t));
        double[] xt = new double[n * d];
        for (int j = 0; j < n * d; j++) {
            xt[j] = a * x0[j] + sigma * z[j];
        }
        double[] s = new double[n * d];
        g.noised(t).score(xt, n, s);
        double sum = 0;
        double sumSq = 0;
        double sumB = 0;
        for (int j = 0; j < n; j++) {
            double aj = 0;
            double bj = 0;
            for (int r = 0; r < d; r++) {
                double sr = s[j * d + r];
                double e = sr + z[j * d + r] / sigma;
                aj += e * e;
                bj += sr * sr;
            }
            sum += aj + bj;
            sumSq += (aj + bj) * (aj + bj);
            sumB += bj;
        }
        double mean = sum / n;
        double se = Math.sqrt((sumSq / n - mean * mean) / (n - 1));
        double expected = d / (sigma * sigma);
        assertEquals(expected, mean, Z * se, "t=" + t + ", E||s||^2=" + sumB / n + ", se=" + se);
    }

    // --- sampling ------------------------------------------------------------------------------------------------------

    @Test
    void samplingIsDeterministicAndAddressable() {
        GaussianMixture g = instance("general-10d");
        int d = 10;
        int n = 1000;
        CounterRandom rng = CounterRandom.of(8);
        double[] all = new double[n * d];
        g.sample(rng, 42, 500, n, all);
        double[] again = new double[n * d];
        g.sample(CounterRandom.of(8), 42, 500, n, again);
        assertArrayEquals(all, again, 0.0);
        for (int cut : new int[]{1, 333, 999}) {
            double[] head = new double[cut * d];
            double[] tail = new double[(n - cut) * d];
            g.sample(rng, 42, 500, cut, head);
            g.sample(rng, 42, 500 + cut, n - cut, tail);
            assertArrayEquals(Arrays.copyOfRange(all, 0, cut * d), head, 0.0);
            assertArrayEquals(Arrays.copyOfRange(all, cut * d, n * d), tail, 0.0);
        }
        double[] other = new double[n * d];
        g.sample(rng, 43, 500, n, other);
        assertTrue(!Arrays.equals(all, other), "another stream gives other points");
    }

    @Test
    void sampleMeanAndCovarianceMatchTheMixture() {
        GaussianMixture g = instance("general-10d");
        int d = g.dimension();
        int k = g.components();
        int n = 200_000;
        double[] x = new double[n * d];
        g.sample(CounterRandom.of(31337), 0, 0, n, x);

        // True moments, computed here from the parameters: m = sum w mu; for the centred component mean
        // delta_i = mu_i - m, Sigma = sum w (Q + delta delta^T) and, by Isserlis on Y = delta + eps,
        // E[Y_r^2 Y_s^2] = sum_i w_i (delta_r^2 delta_s^2 + delta_r^2 Q_ss + delta_s^2 Q_rr + 4 delta_r delta_s Q_rs
        //                             + Q_rr Q_ss + 2 Q_rs^2).
        double[] m = new double[d];
        for (int i = 0; i < k; i++) {
            double[] mu = g.mean(i);
            for (int r = 0; r < d; r++) {
                m[r] += g.weight(i) * mu[r];
            }
        }
        double[][] sigma = new double[d][d];
        double[][] fourth = new double[d][d];
        for (int i = 0; i < k; i++) {
            double w = g.weight(i);
            double[] mu = g.mean(i);
            double[][] q = g.covariance(i);
            for (int r = 0; r < d; r++) {
                double dr = mu[r] - m[r];
                for (int c = 0; c < d; c++) {
                    double dc = mu[c] - m[c];
                    sigma[r][c] += w * (q[r][c] + dr * dc);
                    fourth[r][c] += w * (dr * dr * dc * dc + dr * dr * q[c][c] + dc * dc * q[r][r]
                            + 4 * dr * dc * q[r][c] + q[r][r] * q[c][c] + 2 * q[r][c] * q[r][c]);
                }
            }
        }

        double[] mean = new double[d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                mean[r] += x[j * d + r];
            }
        }
        for (int r = 0; r < d; r++) {
            mean[r] /= n;
            // SE of a sample mean: sqrt(Sigma_rr / n).
            assertEquals(m[r], mean[r], Z * Math.sqrt(sigma[r][r] / n), "mean " + r);
        }
        double[][] cov = new double[d][d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                double a = x[j * d + r] - mean[r];
                for (int c = 0; c <= r; c++) {
                    cov[r][c] += a * (x[j * d + c] - mean[c]);
                }
            }
        }
        for (int r = 0; r < d; r++) {
            for (int c = 0; c <= r; c++) {
                double est = cov[r][c] / (n - 1);
                // SE of the mean of Y_r Y_s: sqrt((E[Y_r^2 Y_s^2] - Sigma_rs^2) / n); centring on the sample mean
                // changes the estimate by O(1/n), far below it.
                double se = Math.sqrt((fourth[r][c] - sigma[r][c] * sigma[r][c]) / n);
                assertEquals(sigma[r][c], est, Z * se, "covariance " + r + "," + c);
            }
        }
        // The mixture's own summaries agree with the independent formulas.
        double[] om = g.overallMean();
        double[] oc = g.overallCovariance();
        for (int r = 0; r < d; r++) {
            assertEquals(m[r], om[r], 1e-14);
            for (int c = 0; c < d; c++) {
                assertEquals(sigma[r][c], oc[r * d + c], 1e-14);
            }
        }
    }

    @Test
    void componentFrequenciesMatchTheWeights() {
        // far-1d: components at -10 and +10 with unit variance, so the sign of a draw is its component
        // (misassignment probability Phi(-10) ~ 8e-24). Binomial SE sqrt(w(1-w)/n).
        GaussianMixture far = instance("far-1d");
        int n = 200_000;
        double[] x = new double[n];
        far.sample(CounterRandom.of(4), 0, 0, n, x);
        int positive = 0;
        for (double v : x) {
            if (v > 0) {
                positive++;
            }
        }
        assertEquals(far.weight(1), (double) positive / n, Z * Math.sqrt(0.25 / n));

        // many-5d (12 overlapping components): labels are hidden, but E[pi_i(x)] = w_i for x ~ M, and
        // pi_i in [0, 1] with mean w_i has variance <= w_i (1 - w_i): at most the binomial SE.
        GaussianMixture many = instance("many-5d");
        int k = many.components();
        int d = many.dimension();
        double[] y = new double[n * d];
        many.sample(CounterRandom.of(5), 0, 0, n, y);
        double[] post = new double[n * k];
        many.posteriors(y, n, post);
        for (int i = 0; i < k; i++) {
            double f = 0;
            for (int j = 0; j < n; j++) {
                f += post[j * k + i];
            }
            f /= n;
            double w = many.weight(i);
            assertEquals(w, f, Z * Math.sqrt(w * (1 - w) / n), "component " + i);
        }
    }

    // --- groupScores --------------------------------------------------------------------------------------------

    /** Relative tolerance between groupScores and the explicit-inverse reference (different rounding paths). */
    private static final double GROUP_TOL = 1e-10;

    /**
     * groupScores of one point from an explicit inverse: the group of the most likely component, the smallest
     * Mahalanobis distance within it, the posteriors within it (softmax of the reference log terms) and the
     * score {@code -sum_{i in group} pi_i Q_i^{-1} (x - mu_i)}; out holds group, minMaha2, k posteriors, d scores.
     * Returns the margin between the two largest log terms (a near tie may pick either component).
     */
    private static double referenceGroupScores(GaussianMixture g, int[] group, double[] x, double[] out) {
        int d = g.dimension();
        int k = g.components();
        double[] terms = referenceLogTerms(g, x);
        int best = 0;
        for (int i = 1; i < k; i++) {
            if (terms[i] > terms[best]) {
                best = i;
            }
        }
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) {
            if (i != best) {
                second = Math.max(second, terms[i]);
            }
        }
        int grp = group[best];
        Arrays.fill(out, 0.0);
        out[0] = grp;
        out[1] = Double.POSITIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            if (group[i] == grp) {
                sum += Math.exp(terms[i] - terms[best]);
            }
        }
        for (int i = 0; i < k; i++) {
            if (group[i] != grp) {
                continue;
            }
            double p = Math.exp(terms[i] - terms[best]) / sum;
            out[2 + i] = p;
            double[][] inv = new double[d][d];
            invertAndLogDet(g.covariance(i), inv);
            double[] mu = g.mean(i);
            double quad = 0;
            for (int r = 0; r < d; r++) {
                double v = 0;
                for (int c = 0; c < d; c++) {
                    v += inv[r][c] * (x[c] - mu[c]);
                }
                quad += (x[r] - mu[r]) * v;
                out[2 + k + r] -= p * v;
            }
            out[1] = Math.min(out[1], quad);
        }
        return terms[best] - second;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 10, 20})
    void groupScoresMatchTheExplicitInverseFormulas(int d) {
        int[][] groupings = {{0}, {0, 0, 0, 0}, {0, 1, 2, 3}, {3, 7, 3, 7}, {0, 0, 5}};
        for (int[] group : groupings) {
            int k = group.length;
            GaussianMixture g = randomMixture(100 + d * 10L + k, d, k);
            // Sizes around the internal chunk of 256 points, and a far-out tail of small posteriors.
            for (int n : new int[] {1, 255, 256, 257, 700}) {
                double[] x = samplePoints(g, n, n);
                for (int j = 0; j < n * d; j += 5) {
                    x[j] *= 3;
                }
                int[] groupOut = new int[n];
                double[] maha = new double[n];
                double[] post = new double[n * k];
                double[] score = new double[n * d];
                g.groupScores(x, n, group, groupOut, maha, post, score);
                double[] ref = new double[2 + k + d];
                String label = "d=" + d + " groups " + Arrays.toString(group) + " n=" + n;
                for (int j = 0; j < n; j++) {
                    double margin = referenceGroupScores(g, group, row(x, j, d), ref);
                    if (margin < 1e-8) {
                        continue;
                    }
                    String at = label + " point " + j;
                    assertEquals((int) ref[0], groupOut[j], at);
                    assertEquals(ref[1], maha[j], GROUP_TOL * Math.max(1, ref[1]), at);
                    for (int i = 0; i < k; i++) {
                        assertEquals(ref[2 + i], post[j * k + i], GROUP_TOL, at + " posterior " + i);
                    }
                    double scale = 1e-300;
                    for (int r = 0; r < d; r++) {
                        scale = Math.max(scale, Math.abs(ref[2 + k + r]));
                    }
                    for (int r = 0; r < d; r++) {
                        assertEquals(ref[2 + k + r], score[j * d + r], GROUP_TOL * scale, at + " score " + r);
                    }
                }
                // The optional outputs do not change the others.
                int[] groupOut2 = new int[n];
                double[] score2 = new double[n * d];
                g.groupScores(x, n, group, groupOut2, null, null, score2);
                assertArrayEquals(groupOut, groupOut2, label);
                assertArrayEquals(score, score2, 0.0, label);
            }
        }
    }

    @Test
    void groupScoresSkipComponentsWithoutPointsAndReuseScratchAcrossShapes() {
        // Every point drawn from one far component: in a chunk, the other components' groups hold no point.
        GaussianMixture far = GaussianMixture.of(new double[] {0.5, 0.25, 0.25},
                new double[][] {{0, 0}, {40, 0}, {0, 40}}, new double[][][] {I2, I2, I2});
        GaussianMixture one = GaussianMixture.of(new double[] {1}, new double[][] {{0, 0}}, new double[][][] {I2});
        GaussianMixture other = randomMixture(7, 5, 3);
        int n = 300;
        double[] x = new double[n * 2];
        one.sample(CounterRandom.of(2), 0, 0, n, x);
        int[] groups = {0, 1, 2};
        int[] cell = new int[n];
        double[] post = new double[n * 3];
        double[] score = new double[n * 2];
        far.groupScores(x, n, groups, cell, null, post, score);
        for (int j = 0; j < n; j++) {
            // Alone in its group, component 0's score is -(x - 0).
            assertEquals(0, cell[j]);
            assertEquals(1.0, post[j * 3]);
            assertEquals(-x[j * 2], score[j * 2], 1e-14 * (1 + Math.abs(x[j * 2])));
            assertEquals(-x[j * 2 + 1], score[j * 2 + 1], 1e-14 * (1 + Math.abs(x[j * 2 + 1])));
        }
        // Another shape in between (the per-thread scratch is rebuilt), then the same call again: identical.
        double[] y = samplePoints(other, 3, n);
        other.groupScores(y, n, new int[3], new int[n], null, new double[n * 3], new double[n * 5]);
        int[] cellAgain = new int[n];
        double[] scoreAgain = new double[n * 2];
        far.groupScores(x, n, groups, cellAgain, null, null, scoreAgain);
        assertArrayEquals(cell, cellAgain);
        assertArrayEquals(score, scoreAgain, 0.0);
        assertThrowsWith(() -> far.groupScores(x, n, new int[2], cell, null, null, score), "group has 2 entries");
    }
}
