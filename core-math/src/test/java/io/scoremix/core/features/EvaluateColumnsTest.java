package io.scoremix.core.features;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link FeatureMap#evaluateColumns} is {@link FeatureMap#evaluate(double[], int, double[], double[])}
 * transposed, bit for bit, for every family: several dimensions, degrees 0 to 3, blocks of 1, 7, 300 and
 * 512 rows (one, several and a partial run of {@link FeatureColumns#ROWS}), leading dimensions above n
 * (the entries beyond n and beyond the block untouched), with the gate posteriors given or computed.
 */
class EvaluateColumnsTest {

    private static final int[] ROWS = {1, 7, 300, 512};
    /** Written into out before the call: an entry still holding it was not touched. */
    private static final double UNTOUCHED = -12345.678;

    private static double[] ones(int d) {
        double[] s = new double[d];
        java.util.Arrays.fill(s, 1.0);
        return s;
    }

    /** k components in d dimensions: means N(0, 4 I), covariances A A^T / d + 0.3 I with A standard normal. */
    static GaussianMixture mixture(int d, int k, long seed) {
        CounterRandom rng = CounterRandom.of(seed);
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[][][] cov = new double[k][d][d];
        double[] a = new double[d * d];
        for (int i = 0; i < k; i++) {
            w[i] = 1.0 / k;
            rng.fillGaussian(2 * i, 0, mu[i], 0, d);
            for (int r = 0; r < d; r++) {
                mu[i][r] *= 2;
            }
            rng.fillGaussian(2 * i + 1, 0, a, 0, d * d);
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    double s = r == c ? 0.3 : 0.0;
                    for (int e = 0; e < d; e++) {
                        s += a[r * d + e] * a[c * d + e] / d;
                    }
                    cov[i][r][c] = s;
                }
            }
        }
        return GaussianMixture.of(w, mu, cov);
    }

    /** Standardisation of a mixture's coordinates: its mean and per-coordinate standard deviation. */
    private static double[][] standardisation(GaussianMixture g) {
        int d = g.dimension();
        double[] cov = g.overallCovariance();
        double[] scale = new double[d];
        for (int r = 0; r < d; r++) {
            scale[r] = Math.sqrt(cov[r * d + r]);
        }
        return new double[][] {g.overallMean(), scale};
    }

    /** Every family, in dimensions 1, 2, 3 and 10, degrees 0 to 3 (capped where the count explodes). */
    private static List<FeatureMap> families() {
        List<FeatureMap> maps = new ArrayList<>();
        for (int d : new int[] {1, 2, 3, 10}) {
            GaussianMixture g = mixture(d, 4, 100 + d);
            double[][] st = standardisation(g);
            for (int l = 0; l <= 3; l++) {
                FeatureMap mono = FeatureMap.monomial(st[0], st[1], l);
                maps.add(mono);
                maps.add(FeatureMap.softGated(mono, g));
                maps.add(FeatureMap.softGated(FeatureMap.monomial(st[0], ones(d), l), mixture(d, 3, 200 + d)));
                maps.add(FeatureMap.softmax(g, st[0], st[1], l));
                maps.add(FeatureMap.projected(st[0], st[1], g.overallCovariance(), Math.min(d, 2), l));
                // Soft gates over a family without its own column source.
                maps.add(FeatureMap.softGated(FeatureMap.projected(st[0], st[1], g.overallCovariance(), 1, l), g));
            }
            // Softmax with one component: no inner variables, the affine map (1, u).
            maps.add(FeatureMap.softmax(mixture(d, 1, 300 + d), st[0], st[1], 2));
        }
        return maps;
    }

    private static double[] points(int n, int d, long seed) {
        double[] z = new double[n * d];
        CounterRandom.of(seed).fillGaussian(0, 0, z, 0, z.length);
        for (int i = 0; i < z.length; i++) {
            z[i] *= 2.5;
        }
        return z;
    }

    /** Row-major n x p against column-major p columns of ld, bit for bit; the rest of out untouched. */
    private static void assertTransposed(double[] rows, double[] cols, int n, int p, int ld, String what) {
        for (int a = 0; a < p; a++) {
            for (int j = 0; j < ld; j++) {
                double got = cols[a * ld + j];
                if (j < n) {
                    double want = rows[j * p + a];
                    if (Double.doubleToLongBits(want) != Double.doubleToLongBits(got)) {
                        assertEquals(want, got, 0.0, what + ": feature " + a + " of point " + j);
                        throw new AssertionError(what + ": feature " + a + " of point " + j + " is " + got
                                + ", not bit for bit " + want);
                    }
                } else {
                    assertEquals(UNTOUCHED, got, 0.0, what + ": entry " + j + " >= n of column " + a + " was written");
                }
            }
        }
        for (int e = p * ld; e < cols.length; e++) {
            assertEquals(UNTOUCHED, cols[e], 0.0, what + ": entry " + e + " beyond the block was written");
        }
    }

    private static double[] filled(int len) {
        double[] a = new double[len];
        java.util.Arrays.fill(a, UNTOUCHED);
        return a;
    }

    @Test
    void columnsAreTheRowMajorFeaturesTransposedBitForBit() {
        long seed = 1;
        for (FeatureMap f : families()) {
            int d = f.inputDimension();
            int p = f.size();
            for (int n : ROWS) {
                double[] z = points(n, d, seed++);
                double[] rows = new double[n * p];
                f.evaluate(z, n, rows);
                for (int ld : new int[] {n, n + 5}) {
                    String what = f.spec().family() + " d=" + d + " degree=" + f.degree() + " p=" + p + " n=" + n
                            + " ld=" + ld;
                    double[] cols = filled(p * ld + 3);
                    f.evaluateColumns(z, n, null, cols, ld);
                    assertTransposed(rows, cols, n, p, ld, what);
                }
            }
        }
    }

    /**
     * Given posteriors are used as given, read row-major: arbitrary positive rows (not the gates' own
     * posteriors) give the row-major evaluation with the same rows, transposed.
     */
    @Test
    void givenPosteriorsAreReadRowMajorAndUsedAsGiven() {
        long seed = 50;
        for (FeatureMap f : families()) {
            GaussianMixture gates = f.gates();
            int d = f.inputDimension();
            int p = f.size();
            int k = gates == null ? 3 : gates.components();
            for (int n : ROWS) {
                double[] z = points(n, d, seed++);
                double[] post = new double[n * k];
                CounterRandom.of(seed++).fillGaussian(0, 0, post, 0, post.length);
                for (int i = 0; i < post.length; i++) {
                    post[i] = Math.abs(post[i]);
                }
                double[] postCopy = post.clone();
                double[] rows = new double[n * p];
                f.evaluate(z, n, post, rows);
                int ld = n + 2;
                double[] cols = filled(p * ld);
                f.evaluateColumns(z, n, post, cols, ld);
                assertTransposed(rows, cols, n, p, ld, f.spec().family() + " d=" + d + " degree=" + f.degree()
                        + " n=" + n + " given posteriors");
                assertEquals(java.util.Arrays.toString(postCopy), java.util.Arrays.toString(post),
                        "the posteriors were modified");
                if (gates != null) {
                    // The gates' own posteriors given equal them computed.
                    double[] own = new double[n * k];
                    gates.posteriors(z, n, own);
                    double[] computed = filled(p * ld);
                    f.evaluateColumns(z, n, null, computed, ld);
                    double[] given = filled(p * ld);
                    f.evaluateColumns(z, n, own, given, ld);
                    for (int e = 0; e < computed.length; e++) {
                        assertEquals(Double.doubleToLongBits(computed[e]), Double.doubleToLongBits(given[e]),
                                "entry " + e);
                    }
                }
            }
        }
    }

    @Test
    void pointsAreNotModifiedAndEmptyBlocksWriteNothing() {
        for (FeatureMap f : families()) {
            int d = f.inputDimension();
            double[] z = points(7, d, 9);
            double[] before = z.clone();
            f.evaluateColumns(z, 7, null, new double[f.size() * 7], 7);
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(z));
            double[] out = filled(4);
            f.evaluateColumns(z, 0, null, out, 0);
            for (double v : out) {
                assertEquals(UNTOUCHED, v, 0.0);
            }
        }
    }

    @Test
    void leadingDimensionBelowNIsRejected() {
        FeatureMap mono = FeatureMap.monomial(new double[2], ones(2), 2);
        FeatureMap gated = FeatureMap.softGated(mono, mixture(2, 2, 5));
        FeatureMap softmax = FeatureMap.softmax(mixture(2, 2, 6), new double[2], ones(2), 1);
        for (FeatureMap f : new FeatureMap[] {mono, gated, softmax}) {
            double[] z = points(4, 2, 1);
            assertThrows(IllegalArgumentException.class,
                    () -> f.evaluateColumns(z, 4, null, new double[f.size() * 4], 3));
        }
    }
}
