package io.scoremix.core.mixture;

import io.scoremix.core.linalg.PackedSymmetric;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link Moments}: split-then-merge equals one pass, weights equal replicated rows, agreement
 * with a naive two-pass computation, and stability under a large offset.
 *
 * <p>Tolerances. Every entry is a sum of at most n = 2000 terms of size O(1) (data standardised away
 * from the offset by the centring itself), so different summation orders differ by about
 * {@code n * eps} relative in the worst case and {@code sqrt(n) * eps ~ 1e-14} typically; 1e-12 relative
 * to the largest entry leaves a margin of 100 on the typical case and still catches any algebraic error
 * (which shows at 1e-3 or worse).
 */
class MomentsTest {

    private static final double REL = 1e-12;

    /** n x d correlated rows with an offset: x = offset + A g, g standard normal. */
    static double[] data(SplittableRandom rnd, int n, int d, double offset) {
        double[] a = new double[d * d];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextDouble() - 0.5 + (i % (d + 1) == 0 ? 1.0 : 0.0);
        }
        double[] x = new double[n * d];
        double[] g = new double[d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                g[r] = gaussian(rnd);
            }
            for (int r = 0; r < d; r++) {
                double s = offset + r;
                for (int c = 0; c < d; c++) {
                    s += a[r * d + c] * g[c];
                }
                x[j * d + r] = s;
            }
        }
        return x;
    }

    static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v);
    }

    static void assertClose(double[] expected, double[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            assertTrue(err <= rel * scale, what + "[" + i + "]: expected " + expected[i] + " got " + actual[i]
                    + " (error " + err + " > " + rel + " * " + scale + ")");
        }
    }

    /** Accumulates rows [from, to) with a random mix of single rows and blocks of random size. */
    private static Moments accumulate(double[] x, double[] w, int d, int from, int to, SplittableRandom rnd) {
        Moments m = new Moments(d);
        int j = from;
        while (j < to) {
            if (rnd.nextInt(3) == 0) {
                m.add(x, j * d, w == null ? 1.0 : w[j]);
                j++;
            } else {
                int len = Math.min(to - j, 1 + rnd.nextInt(700));
                double[] xb = java.util.Arrays.copyOfRange(x, j * d, (j + len) * d);
                double[] wb = w == null ? null : java.util.Arrays.copyOfRange(w, j, j + len);
                m.addBlock(xb, wb, len);
                j += len;
            }
        }
        return m;
    }

    /** Merges in a random binary tree: pick two at random, merge one into the other, repeat. */
    private static Moments mergeRandomTree(List<Moments> parts, SplittableRandom rnd) {
        List<Moments> pool = new ArrayList<>(parts);
        while (pool.size() > 1) {
            Moments a = pool.remove(rnd.nextInt(pool.size()));
            Moments b = pool.remove(rnd.nextInt(pool.size()));
            pool.add(a.merge(b));
        }
        return pool.get(0);
    }

    @Test
    void splitAndMergeEqualsOnePass() {
        int n = 2000;
        int d = 5;
        for (boolean weighted : new boolean[] {false, true}) {
            SplittableRandom rnd = new SplittableRandom(11);
            double[] x = data(rnd, n, d, 3.0);
            double[] w = null;
            if (weighted) {
                w = new double[n];
                for (int j = 0; j < n; j++) {
                    w[j] = rnd.nextInt(5) == 0 ? 0.0 : rnd.nextDouble() * 3;
                }
            }
            Moments one = new Moments(d).addBlock(x, w, n);
            for (int parts : new int[] {1, 2, 7}) {
                for (int trial = 0; trial < 3; trial++) {
                    int[] cuts = new int[parts + 1];
                    cuts[parts] = n;
                    for (int i = 1; i < parts; i++) {
                        cuts[i] = rnd.nextInt(n + 1);
                    }
                    java.util.Arrays.sort(cuts);
                    List<Moments> acc = new ArrayList<>();
                    for (int i = 0; i < parts; i++) {
                        acc.add(accumulate(x, w, d, cuts[i], cuts[i + 1], rnd));
                    }
                    Moments merged = mergeRandomTree(acc, rnd);
                    String what = (weighted ? "weighted, " : "") + parts + " parts";
                    assertEquals(n, merged.count(), what);
                    assertEquals(one.weight(), merged.weight(), REL * one.weight(), what);
                    assertClose(one.mean(), merged.mean(), REL, what + " mean");
                    assertClose(one.scatter(), merged.scatter(), REL, what + " scatter");
                }
            }
        }
    }

    @Test
    void emptyIsTheIdentityOnBothSides() {
        SplittableRandom rnd = new SplittableRandom(3);
        double[] x = data(rnd, 50, 3, 0);
        Moments a = new Moments(3).addBlock(x, 50);
        Moments left = new Moments(3).merge(a);
        Moments right = new Moments(3).addBlock(x, 50).merge(new Moments(3));
        assertClose(a.mean(), left.mean(), 0, "empty.merge(a)");
        assertClose(a.scatter(), left.scatter(), 0, "empty.merge(a)");
        assertClose(a.scatter(), right.scatter(), 0, "a.merge(empty)");
        assertEquals(50, left.count());
        Moments empty = new Moments(3).merge(new Moments(3));
        assertTrue(empty.isEmpty());
        assertThrows(IllegalStateException.class, empty::mean);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.merge(new Moments(4)));
        assertTrue(e.getMessage().contains("dimension 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Moments(2).add(new double[] {1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new Moments(1).addBlock(new double[] {1}, new double[] {-1}, 1));
    }

    @Test
    void integerWeightsEqualReplicatedRows() {
        int n = 300;
        int d = 4;
        SplittableRandom rnd = new SplittableRandom(5);
        double[] x = data(rnd, n, d, -2);
        double[] w = new double[n];
        List<Double> rep = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            w[j] = rnd.nextInt(4);
            for (int t = 0; t < w[j]; t++) {
                for (int r = 0; r < d; r++) {
                    rep.add(x[j * d + r]);
                }
            }
        }
        double[] xr = rep.stream().mapToDouble(Double::doubleValue).toArray();
        Moments weighted = new Moments(d).addBlock(x, w, n);
        Moments replicated = new Moments(d).addBlock(xr, xr.length / d);
        assertEquals(replicated.weight(), weighted.weight(), 0.0);
        assertClose(replicated.mean(), weighted.mean(), REL, "mean");
        assertClose(replicated.covariance(), weighted.covariance(), REL, "covariance");
    }

    @Test
    void agreesWithNaiveTwoPass() {
        int n = 1000;
        int d = 6;
        SplittableRandom rnd = new SplittableRandom(7);
        double[] x = data(rnd, n, d, 10);
        double[][] ref = twoPass(x, n, d);
        Moments blocks = new Moments(d).addBlock(x, n);
        Moments rows = new Moments(d);
        for (int j = 0; j < n; j++) {
            rows.add(x, j * d, 1.0);
        }
        for (Moments m : new Moments[] {blocks, rows}) {
            assertClose(ref[0], m.mean(), REL, "mean");
            assertClose(ref[1], m.covariance(), REL, "covariance");
        }
    }

    /** Textbook two-pass: mean, then the mean of centred outer products (biased), d x d. */
    static double[][] twoPass(double[] x, int n, int d) {
        double[] m = new double[d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                m[r] += x[j * d + r];
            }
        }
        for (int r = 0; r < d; r++) {
            m[r] /= n;
        }
        double[] c = new double[d * d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                for (int s = 0; s < d; s++) {
                    c[r * d + s] += (x[j * d + r] - m[r]) * (x[j * d + s] - m[s]);
                }
            }
        }
        for (int i = 0; i < c.length; i++) {
            c[i] /= n;
        }
        return new double[][] {m, c};
    }

    /**
     * Values 1e9 + O(1): the raw-moment formula E[x^2] - E[x]^2 subtracts numbers of size 1e18 whose
     * rounding is about 1e18 * eps ~ 100, so it loses the unit variance entirely; the centred accumulator
     * keeps it. The reference is the two-pass computation on x - 1e9, which is exact in floating point
     * (Sterbenz: x and 1e9 are within a factor 2), so the reference is the covariance of the stored values.
     * Tolerance 1e-9 relative: the accumulator's mean is off by about eps * 1e9 ~ 1e-7, which perturbs the
     * scatter only at second order (1e-14), and the centred values are then exact.
     */
    @Test
    void largeOffsetStaysAccurateWhereRawMomentsFail() {
        int n = 5000;
        int d = 3;
        double offset = 1e9;
        SplittableRandom rnd = new SplittableRandom(13);
        double[] small = data(rnd, n, d, 0);
        double[] x = new double[n * d];
        double[] shifted = new double[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = offset + small[i];
            shifted[i] = x[i] - offset;
        }
        double[] ref = twoPass(shifted, n, d)[1];
        Moments blocks = new Moments(d).addBlock(x, n);
        Moments rows = new Moments(d);
        for (int j = 0; j < n; j++) {
            rows.add(x, j * d, 1.0);
        }
        Moments split = new Moments(d).addBlock(x, 1234).merge(new Moments(d).addBlock(
                java.util.Arrays.copyOfRange(x, 1234 * d, n * d), n - 1234));
        assertClose(ref, blocks.covariance(), 1e-9, "blocks");
        assertClose(ref, rows.covariance(), 1e-9, "rows");
        assertClose(ref, split.covariance(), 1e-9, "split");
        // The raw-moment formula on the same data, to show the test is a real one.
        double[] raw = new double[d * d];
        double[] sum = new double[d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                sum[r] += x[j * d + r];
                for (int s = 0; s < d; s++) {
                    raw[r * d + s] += x[j * d + r] * x[j * d + s];
                }
            }
        }
        double worst = 0;
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < d; s++) {
                double naive = raw[r * d + s] / n - (sum[r] / n) * (sum[s] / n);
                worst = Math.max(worst, Math.abs(naive - ref[r * d + s]));
            }
        }
        assertTrue(worst > 1e-2, "the raw-moment formula should fail here, error " + worst);
    }

    @Test
    void javaSerializationKeepsTheStateAndTheZeroValueIsSmall() throws Exception {
        byte[] empty = serialize(new Moments(50));
        assertTrue(empty.length < 200, "zero value is " + empty.length + " bytes");
        SplittableRandom rnd = new SplittableRandom(17);
        double[] x = data(rnd, 100, 4, 1);
        Moments a = new Moments(4).addBlock(x, 100);
        Moments b = (Moments) new ObjectInputStream(new ByteArrayInputStream(serialize(a))).readObject();
        assertClose(a.scatter(), b.scatter(), 0, "scatter");
        assertClose(a.mean(), b.mean(), 0, "mean");
        // The deserialised copy keeps accepting blocks (its scratch is transient and re-created).
        b.addBlock(x, 100);
        assertEquals(200, b.count());
        assertEquals(PackedSymmetric.size(4), b.scatter().length);
    }

    static byte[] serialize(Object o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }
}
