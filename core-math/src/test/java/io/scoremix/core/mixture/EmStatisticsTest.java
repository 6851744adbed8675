package io.scoremix.core.mixture;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Contract of the mergeable E-step accumulator: split-then-merge equals one pass, weights equal
 * replication, the empty value is the identity, and one EM step from the truth moves the parameters
 * only within sampling error.
 */
class EmStatisticsTest {

    /** Relative agreement of two accumulations of the same rows in different groupings: rounding only. */
    private static final double MERGE_TOLERANCE = 1e-12;

    private static GaussianMixture threeComponents() {
        return GaussianMixture.of(new double[] {0.5, 0.3, 0.2},
                new double[][] {{0, 0, 0}, {3, 1, -1}, {-2, 4, 1}},
                new double[][][] {
                        {{1, 0.3, 0}, {0.3, 1, 0.2}, {0, 0.2, 1}},
                        {{0.5, 0, 0}, {0, 2, -0.4}, {0, -0.4, 1}},
                        {{2, 0.5, 0.1}, {0.5, 1, 0}, {0.1, 0, 0.3}}});
    }

    // A deliberately wrong "current" mixture, so responsibilities are not the truth's.
    private static GaussianMixture current() {
        return GaussianMixture.of(new double[] {0.2, 0.4, 0.4},
                new double[][] {{0.5, 0, 0}, {2, 2, -1}, {-1, 3, 0}},
                new double[][][] {
                        {{2, 0, 0}, {0, 2, 0}, {0, 0, 2}},
                        {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
                        {{1, 0.2, 0}, {0.2, 1, 0}, {0, 0, 1}}});
    }

    private static void assertSameStatistics(EmStatistics a, EmStatistics b, double tol) {
        assertEquals(a.count(), b.count());
        assertClose(a.totalWeight(), b.totalWeight(), tol, "total weight");
        assertClose(a.meanLogLikelihood(), b.meanLogLikelihood(), tol, "mean log-likelihood");
        for (int i = 0; i < a.components(); i++) {
            assertClose(a.componentWeight(i), b.componentWeight(i), tol, "weight " + i);
            double[] ma = a.componentMean(i);
            double[] mb = b.componentMean(i);
            double scale = 0;
            for (double v : ma) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int r = 0; r < ma.length; r++) {
                assertEquals(ma[r], mb[r], tol * Math.max(1, scale), "mean " + i + "[" + r + "]");
            }
            double[] sa = a.componentScatter(i);
            double[] sb = b.componentScatter(i);
            double sscale = 0;
            for (double v : sa) {
                sscale = Math.max(sscale, Math.abs(v));
            }
            for (int r = 0; r < sa.length; r++) {
                assertEquals(sa[r], sb[r], tol * sscale, "scatter " + i + "[" + r + "]");
            }
        }
    }

    private static void assertClose(double a, double b, double rel, String what) {
        assertEquals(a, b, rel * Math.max(Math.abs(a), Math.abs(b)), what);
    }

    @Test
    void splitBlocksThenMergeEqualsOnePass() {
        GaussianMixture truth = threeComponents();
        int n = 5000;
        double[] x = CrudeTestSupport.sample(truth, n, 11, 0);
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = 0.25 + (j % 7) * 0.5;
        }
        EmStatistics one = EmStatistics.empty(3, 3).add(current(), x, w, n);
        // Uneven parts, merged in a tree with an empty value in the middle.
        int[] cuts = {0, 1, 700, 2100, 2101, 4999, 5000};
        EmStatistics left = EmStatistics.empty(3, 3);
        EmStatistics right = EmStatistics.empty(3, 3);
        for (int c = 0; c + 1 < cuts.length; c++) {
            int a = cuts[c];
            int m = cuts[c + 1] - a;
            double[] xs = java.util.Arrays.copyOfRange(x, a * 3, (a + m) * 3);
            double[] ws = java.util.Arrays.copyOfRange(w, a, a + m);
            EmStatistics part = EmStatistics.empty(3, 3).add(current(), xs, ws, m);
            (c < 3 ? left : right).merge(part);
        }
        EmStatistics merged = EmStatistics.empty(3, 3).merge(left).merge(EmStatistics.empty(3, 3)).merge(right);
        assertSameStatistics(one, merged, MERGE_TOLERANCE);
        // M-steps agree too.
        GaussianMixture a = one.mStep(1e-6);
        GaussianMixture b = merged.mStep(1e-6);
        for (int i = 0; i < 3; i++) {
            assertClose(a.weight(i), b.weight(i), MERGE_TOLERANCE, "M-step weight");
        }
    }

    // d = 20, correlated covariances, data far from the origin (the centred scatter must not cancel).
    private static GaussianMixture wide(double shift) {
        int d = 20;
        double[][] m0 = new double[d][];
        double[][] m1 = new double[d][];
        double[][][] q = new double[2][d][d];
        double[][] mu = new double[2][d];
        for (int r = 0; r < d; r++) {
            mu[0][r] = shift + Math.sin(r);
            mu[1][r] = shift - Math.cos(r) + 1;
            for (int c = 0; c < d; c++) {
                q[0][r][c] = (r == c ? 1.0 : 0.0) + 0.3 * Math.pow(0.5, Math.abs(r - c));
                q[1][r][c] = (r == c ? 0.5 : 0.0) + 0.1 * Math.pow(-0.6, Math.abs(r - c));
            }
        }
        return GaussianMixture.of(new double[] {0.45, 0.55}, mu, q);
    }

    @Test
    void splitThenMergeEqualsOnePassInTwentyDimensionsFarFromTheOrigin() {
        GaussianMixture truth = wide(100.0);
        GaussianMixture cur = wide(100.3);
        int n = 3000;
        int d = 20;
        double[] x = CrudeTestSupport.sample(truth, n, 17, 0);
        EmStatistics one = EmStatistics.empty(2, d).add(cur, x, null, n);
        EmStatistics merged = EmStatistics.empty(2, d);
        for (int a = 0; a < n; a += 777) {
            int m = Math.min(777, n - a);
            merged.merge(EmStatistics.empty(2, d).add(cur, java.util.Arrays.copyOfRange(x, a * d, (a + m) * d), null, m));
        }
        assertSameStatistics(one, merged, MERGE_TOLERANCE);
        // The centred scatter keeps full relative accuracy although the data sit 100 away from 0.
        GaussianMixture next = one.mStep(1e-9);
        assertEquals(truth.covariance(0)[0][0], next.covariance(0)[0][0], 0.15);
    }

    @Test
    void emptyIsTheIdentityAndShapesAreChecked() {
        GaussianMixture truth = threeComponents();
        double[] x = CrudeTestSupport.sample(truth, 100, 3, 0);
        EmStatistics s = EmStatistics.empty(3, 3).add(truth, x, null, 100);
        EmStatistics before = EmStatistics.empty(3, 3).merge(s);
        s.merge(EmStatistics.empty(3, 3));
        assertSameStatistics(before, s, 0.0);
        EmStatistics fromEmpty = EmStatistics.empty(3, 3).merge(s);
        assertSameStatistics(s, fromEmpty, 0.0);
        assertTrue(EmStatistics.empty(3, 3).isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.merge(EmStatistics.empty(2, 3)));
        assertTrue(e.getMessage().contains("k = 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmStatistics.empty(2, 3).add(truth, x, null, 100));
        assertThrows(IllegalStateException.class, () -> EmStatistics.empty(3, 3).mStep(1e-6));
        assertThrows(IllegalStateException.class, () -> EmStatistics.empty(3, 3).meanLogLikelihood());
        assertThrows(IllegalArgumentException.class, () -> s.mStep(0.0));
        assertThrows(IllegalArgumentException.class, () -> EmStatistics.empty(0, 3));
        double[] bad = x.clone();
        bad[3 * 17 + 1] = Double.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> EmStatistics.empty(3, 3).add(truth, bad, null, 100));
        assertTrue(nan.getMessage().contains("row 17"), nan.getMessage());
        double[] negative = new double[100];
        negative[5] = -1;
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                () -> EmStatistics.empty(3, 3).add(truth, x, negative, 100));
        assertTrue(neg.getMessage().contains("row 5"), neg.getMessage());
    }

    @Test
    void integerWeightsEqualReplicatedRows() {
        GaussianMixture truth = threeComponents();
        int n = 3000;
        double[] x = CrudeTestSupport.sample(truth, n, 5, 0);
        double[] w = new double[n];
        int total = 0;
        for (int j = 0; j < n; j++) {
            w[j] = j % 4; // 0, 1, 2, 3: zero weights included
            total += (int) w[j];
        }
        double[] rep = new double[total * 3];
        int at = 0;
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < (int) w[j]; c++) {
                System.arraycopy(x, j * 3, rep, at * 3, 3);
                at++;
            }
        }
        EmStatistics weighted = EmStatistics.empty(3, 3).add(current(), x, w, n);
        EmStatistics replicated = EmStatistics.empty(3, 3).add(current(), rep, null, total);
        assertClose(weighted.totalWeight(), total, 1e-15, "total weight");
        assertClose(weighted.meanLogLikelihood(), replicated.meanLogLikelihood(), MERGE_TOLERANCE, "log-likelihood");
        for (int i = 0; i < 3; i++) {
            assertClose(weighted.componentWeight(i), replicated.componentWeight(i), MERGE_TOLERANCE, "weight");
            double[] a = weighted.componentScatter(i);
            double[] b = replicated.componentScatter(i);
            for (int r = 0; r < 9; r++) {
                assertEquals(a[r], b[r], MERGE_TOLERANCE * Math.abs(a[0]) * 10, "scatter");
            }
        }
    }

    @Test
    void oneStepFromTheTruthMovesOnlyWithinSamplingError() {
        GaussianMixture truth = threeComponents();
        int n = 200_000;
        double[] x = CrudeTestSupport.sample(truth, n, 21, 0);
        GaussianMixture next = EmStatistics.empty(3, 3).add(truth, x, null, n).mStep(1e-9);
        // The true parameters are a fixed point of population EM, so the step is an average of n
        // i.i.d. terms: each estimate's standard error is O(1/sqrt(n lambda_i)) in units of the
        // component scale; 5 standard errors with the worst component (lambda = 0.2, largest
        // variance 2) give the bounds below. The weights' standard error is sqrt(lambda(1-lambda)/n).
        for (int i = 0; i < 3; i++) {
            double lambda = truth.weight(i);
            double se = Math.sqrt(lambda * (1 - lambda) / n);
            assertEquals(lambda, next.weight(i), 5 * se, "weight " + i);
            double[] mu = truth.mean(i);
            double[] muHat = next.mean(i);
            double[][] q = truth.covariance(i);
            double[][] qHat = next.covariance(i);
            for (int r = 0; r < 3; r++) {
                double meanSe = Math.sqrt(q[r][r] / (n * lambda));
                // EM responsibilities overlap other components a little: allow 6 standard errors.
                assertEquals(mu[r], muHat[r], 6 * meanSe, "mean " + i + "[" + r + "]");
                for (int c = 0; c < 3; c++) {
                    double covSe = Math.sqrt((q[r][r] * q[c][c] + q[r][c] * q[r][c]) / (n * lambda));
                    assertEquals(q[r][c], qHat[r][c], 6 * covSe, "covariance " + i + "[" + r + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void serialisationRoundTripKeepsTheStatistics() throws Exception {
        GaussianMixture truth = threeComponents();
        double[] x = CrudeTestSupport.sample(truth, 2000, 8, 0);
        EmStatistics s = EmStatistics.empty(3, 3).add(truth, x, null, 2000);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
            out.writeObject(EmStatistics.empty(3, 3));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            EmStatistics back = (EmStatistics) in.readObject();
            EmStatistics empty = (EmStatistics) in.readObject();
            assertSameStatistics(s, back, 0.0);
            assertTrue(empty.isEmpty());
            // Scratch space is transient: a deserialised value still accumulates.
            back.add(truth, x, null, 2000);
            assertEquals(4000, back.count());
            empty.merge(s);
            assertFalse(empty.isEmpty());
        }
    }

    @Test
    void collapsedAndDeadComponentsAreFlooredWithoutNaN() {
        // Component 1 owns a single repeated point: its scatter is 0 and the floor must apply.
        int n = 400;
        double[] x = new double[n * 2];
        for (int j = 0; j < n; j++) {
            x[2 * j] = j < 300 ? Math.sin(j) : 5.0;
            x[2 * j + 1] = j < 300 ? Math.cos(3 * j) : 5.0;
        }
        int[] labels = new int[n];
        for (int j = 300; j < n; j++) {
            labels[j] = 1;
        }
        EmStatistics s = EmStatistics.empty(3, 2).addAssigned(x, null, labels, n);
        GaussianMixture m = s.mStep(1e-4);
        double[][] q1 = m.covariance(1);
        assertEquals(1e-4, q1[0][0], 1e-12);
        assertEquals(1e-4, q1[1][1], 1e-12);
        assertEquals(0.0, q1[0][1], 1e-12);
        // Component 2 got nothing: dead, tiny weight, overall mean, finite.
        assertTrue(m.weight(2) < 1e-11);
        double[] mean2 = m.mean(2);
        assertTrue(Double.isFinite(mean2[0]) && Double.isFinite(mean2[1]));
        double[] ld = new double[n];
        m.logDensity(x, n, ld);
        for (double v : ld) {
            assertTrue(Double.isFinite(v));
        }
        // And EM continues from it without NaN.
        GaussianMixture next = EmStatistics.empty(3, 2).add(m, x, null, n).mStep(1e-4);
        for (int i = 0; i < 3; i++) {
            assertTrue(Double.isFinite(next.weight(i)));
        }
    }
}
