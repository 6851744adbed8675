package io.scoremix.core.regression;

import io.scoremix.core.linalg.PackedSymmetric;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link NormalEquations}: agreement with the naive triple loop, split-then-merge equals one
 * pass, weights equal replicated rows, packed storage and serialization round trips, the empty identity.
 *
 * <p>Tolerance 1e-12 relative to the largest entry: each entry is a sum of at most 1000 products of
 * O(1) numbers; BLAS and the naive loop sum in different orders, which differ by about sqrt(n) eps ~ 1e-14
 * typically and n eps ~ 2e-13 at worst; any indexing error shows at O(1).
 */
class NormalEquationsTest {

    static final double REL = 1e-12;

    static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * v);
    }

    static double[] gaussians(SplittableRandom rnd, int len) {
        double[] a = new double[len];
        for (int i = 0; i < len; i++) {
            a[i] = gaussian(rnd);
        }
        return a;
    }

    /** n weights uniform on [0, 2). */
    static double[] weights(SplittableRandom rnd, int n) {
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = rnd.nextDouble() * 2;
        }
        return w;
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

    static void assertSame(NormalEquations.Snapshot e, NormalEquations.Snapshot a, double rel, String what) {
        assertEquals(e.count(), a.count(), what + " count");
        assertEquals(e.weight(), a.weight(), rel * e.weight(), what + " weight");
        assertEquals(e.sumSquaredTargets(), a.sumSquaredTargets(), rel * e.sumSquaredTargets(), what + " sum ||y||^2");
        assertClose(e.packedGram(), a.packedGram(), rel, what + " G");
        assertClose(e.rhs(), a.rhs(), rel, what + " B");
    }

    @Test
    void equalsTheNaiveTripleLoop() {
        SplittableRandom rnd = new SplittableRandom(31);
        int n = 1000;
        int p = 13;
        int d = 3;
        double[] phi = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        double[] w = weights(rnd, n);
        for (double[] weights : new double[][] {null, w}) {
            double[] g = new double[p * p];
            double[] b = new double[p * d];
            double ss = 0;
            double sw = 0;
            for (int j = 0; j < n; j++) {
                double wj = weights == null ? 1 : weights[j];
                for (int r = 0; r < p; r++) {
                    for (int c = 0; c < p; c++) {
                        g[r * p + c] += wj * phi[j * p + r] * phi[j * p + c];
                    }
                    for (int c = 0; c < d; c++) {
                        b[r * d + c] += wj * phi[j * p + r] * y[j * d + c];
                    }
                }
                for (int c = 0; c < d; c++) {
                    ss += wj * y[j * d + c] * y[j * d + c];
                }
                sw += wj;
            }
            NormalEquations.Snapshot s = new NormalEquations(p, d).addBlock(phi, y, weights, n).snapshot();
            String what = weights == null ? "unweighted" : "weighted";
            assertClose(g, s.gram(), REL, what + " G");
            assertClose(b, s.rhs(), REL, what + " B");
            assertEquals(ss, s.sumSquaredTargets(), REL * ss, what);
            assertEquals(sw, s.weight(), REL * sw, what);
            assertEquals(n, s.count());
        }
    }

    /**
     * Both Gram kernels (dsyrk, and dgemm on 128-wide column blocks) on p = 150, so that a full and a
     * partial block run, against the naive loop; both BLAS implementations; the feature-major block with a
     * leading dimension above n, whose padding must not be read.
     */
    @Test
    void bothGramKernelsEqualTheNaiveLoop() {
        SplittableRandom rnd = new SplittableRandom(37);
        int n = 40;
        int p = 150;
        double[] phi = gaussians(rnd, n * p);
        double[] ref = new double[p * p];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < p; r++) {
                for (int c = 0; c <= r; c++) {
                    ref[r * p + c] += phi[j * p + r] * phi[j * p + c];
                }
            }
        }
        double[] refLower = new double[PackedSymmetric.size(p)];
        PackedSymmetric.pack(ref, p, refLower);
        int ld = n + 3;
        double[] a = new double[p * ld];
        java.util.Arrays.fill(a, Double.NaN);
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < p; r++) {
                a[r * ld + j] = phi[j * p + r];
            }
        }
        for (dev.ludovic.netlib.blas.BLAS blas : new dev.ludovic.netlib.blas.BLAS[] {
                io.scoremix.core.linalg.Blas.get(), dev.ludovic.netlib.blas.JavaBLAS.getInstance()}) {
            for (boolean byGemm : new boolean[] {false, true}) {
                double[] g = new double[p * p];
                NormalEquations.updateGram(blas, byGemm, a, ld, p, n, g);
                NormalEquations.updateGram(blas, byGemm, a, ld, p, n, g);  // accumulates
                double[] lower = new double[PackedSymmetric.size(p)];
                PackedSymmetric.pack(g, p, lower);
                for (int i = 0; i < lower.length; i++) {
                    lower[i] *= 0.5;
                }
                assertClose(refLower, lower, REL, blas.getClass().getSimpleName() + (byGemm ? " gemm" : " syrk"));
            }
        }
    }

    /** Accumulates rows [from, to) in blocks of random sizes, sometimes through a serialization round trip. */
    private static NormalEquations accumulate(double[] phi, double[] y, double[] w, int p, int d, int from, int to,
                                              SplittableRandom rnd) throws Exception {
        NormalEquations ne = new NormalEquations(p, d);
        int j = from;
        while (j < to) {
            int len = Math.min(to - j, 1 + rnd.nextInt(300));
            ne.addBlock(Arrays.copyOfRange(phi, j * p, (j + len) * p), Arrays.copyOfRange(y, j * d, (j + len) * d),
                    w == null ? null : Arrays.copyOfRange(w, j, j + len), len);
            j += len;
            if (rnd.nextInt(4) == 0) {
                ne = roundTrip(ne);  // switches G to its packed representation
            }
        }
        return ne;
    }

    static NormalEquations roundTrip(NormalEquations ne) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(ne);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (NormalEquations) in.readObject();
        }
    }

    @Test
    void splitAndMergeEqualsOnePass() throws Exception {
        int n = 1000;
        int p = 17;
        int d = 2;
        for (boolean weighted : new boolean[] {false, true}) {
            SplittableRandom rnd = new SplittableRandom(weighted ? 33 : 32);
            double[] phi = gaussians(rnd, n * p);
            double[] y = gaussians(rnd, n * d);
            double[] w = null;
            if (weighted) {
                w = new double[n];
                for (int j = 0; j < n; j++) {
                    w[j] = rnd.nextInt(5) == 0 ? 0 : rnd.nextDouble() * 4;
                }
            }
            NormalEquations.Snapshot one = new NormalEquations(p, d).addBlock(phi, y, w, n).snapshot();
            for (int parts : new int[] {1, 2, 7}) {
                for (int trial = 0; trial < 3; trial++) {
                    int[] cuts = new int[parts + 1];
                    cuts[parts] = n;
                    for (int i = 1; i < parts; i++) {
                        cuts[i] = rnd.nextInt(n + 1);
                    }
                    Arrays.sort(cuts);
                    List<NormalEquations> pool = new ArrayList<>();
                    for (int i = 0; i < parts; i++) {
                        pool.add(accumulate(phi, y, w, p, d, cuts[i], cuts[i + 1], rnd));
                    }
                    while (pool.size() > 1) {
                        NormalEquations a = pool.remove(rnd.nextInt(pool.size()));
                        NormalEquations b = pool.remove(rnd.nextInt(pool.size()));
                        pool.add(a.merge(b));
                    }
                    assertSame(one, pool.get(0).snapshot(), REL, (weighted ? "weighted, " : "") + parts + " parts");
                }
            }
        }
    }

    @Test
    void integerWeightsEqualReplicatedRows() {
        SplittableRandom rnd = new SplittableRandom(34);
        int n = 200;
        int p = 9;
        int d = 3;
        double[] phi = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        double[] w = new double[n];
        int total = 0;
        for (int j = 0; j < n; j++) {
            w[j] = rnd.nextInt(4);
            total += (int) w[j];
        }
        double[] phiR = new double[total * p];
        double[] yR = new double[total * d];
        int k = 0;
        for (int j = 0; j < n; j++) {
            for (int t = 0; t < w[j]; t++) {
                System.arraycopy(phi, j * p, phiR, k * p, p);
                System.arraycopy(y, j * d, yR, k * d, d);
                k++;
            }
        }
        NormalEquations.Snapshot weighted = new NormalEquations(p, d).addBlock(phi, y, w, n).snapshot();
        NormalEquations.Snapshot replicated = new NormalEquations(p, d).addBlock(phiR, yR, null, total).snapshot();
        assertEquals(total, weighted.weight(), 0.0);
        assertClose(replicated.packedGram(), weighted.packedGram(), REL, "G");
        assertClose(replicated.rhs(), weighted.rhs(), REL, "B");
        assertEquals(replicated.sumSquaredTargets(), weighted.sumSquaredTargets(), REL * replicated.sumSquaredTargets());
    }

    @Test
    void packedStorageRoundTripsAndPrefixesArePackedPrefixes() throws Exception {
        SplittableRandom rnd = new SplittableRandom(35);
        int n = 50;
        int p = 7;
        int d = 2;
        double[] phi = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        NormalEquations ne = new NormalEquations(p, d).addBlock(phi, y, null, n);
        NormalEquations.Snapshot s = ne.snapshot();
        double[] full = s.gram();
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                assertEquals(full[i * p + j], full[j * p + i], 0.0);
                assertEquals(full[i * p + j], s.gram(i, j), 0.0);
            }
        }
        double[] packed = new double[PackedSymmetric.size(p)];
        PackedSymmetric.pack(full, p, packed);
        assertArrayEquals(s.packedGram(), packed, 0.0);
        for (int q = 1; q <= p; q++) {
            double[] lead = s.gram(q);
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    assertEquals(full[i * p + j], lead[i * q + j], 0.0);
                }
            }
            assertArrayEquals(Arrays.copyOf(s.rhs(), q * d), s.rhs(q), 0.0);
            double[] lp = new double[PackedSymmetric.size(q)];
            PackedSymmetric.pack(lead, q, lp);
            assertArrayEquals(Arrays.copyOf(packed, lp.length), lp, 0.0, "leading block = packed prefix");
        }
        // Serialization ships G packed and restores it bit for bit; the copy keeps accumulating.
        NormalEquations copy = roundTrip(ne);
        assertSame(s, copy.snapshot(), 0.0, "round trip");
        copy.addBlock(phi, y, null, n);
        ne.addBlock(phi, y, null, n);
        assertSame(ne.snapshot(), copy.snapshot(), 0.0, "after more rows");
        NormalEquations.Snapshot explicit = NormalEquations.Snapshot.of(p, d, s.count(), s.weight(),
                s.sumSquaredTargets(), s.packedGram(), s.rhs());
        assertSame(s, explicit, 0.0, "Snapshot.of");
    }

    @Test
    void emptyIsTheIdentityAndShapesAreChecked() throws Exception {
        SplittableRandom rnd = new SplittableRandom(36);
        int n = 30;
        double[] phi = gaussians(rnd, n * 4);
        double[] y = gaussians(rnd, n * 2);
        NormalEquations a = new NormalEquations(4, 2).addBlock(phi, y, null, n);
        NormalEquations.Snapshot s = a.snapshot();
        assertSame(s, new NormalEquations(4, 2).merge(a).snapshot(), 0.0, "empty.merge(a)");
        assertSame(s, a.merge(new NormalEquations(4, 2)).snapshot(), 0.0, "a.merge(empty)");
        assertSame(s, a.merge(roundTrip(new NormalEquations(4, 2))).snapshot(), 0.0, "a.merge(shipped empty)");
        NormalEquations empty = new NormalEquations(4, 2);
        assertTrue(empty.isEmpty());
        assertEquals(0.0, empty.snapshot().weight());
        assertTrue(SerializedSize.bytes(empty) < 200, "zero value is " + SerializedSize.bytes(empty) + " bytes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.merge(new NormalEquations(5, 2)));
        assertTrue(e.getMessage().contains("p = 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.merge(new NormalEquations(4, 3)));
        assertThrows(IllegalArgumentException.class, () -> a.addBlock(phi, y, null, n + 1));
        double[] bad = phi.clone();
        bad[4 * 7 + 2] = Double.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> new NormalEquations(4, 2).addBlock(bad, y, null, n));
        assertTrue(e.getMessage().contains("row 7"), e.getMessage());
        double[] w = new double[n];
        w[3] = -1;
        assertThrows(IllegalArgumentException.class, () -> new NormalEquations(4, 2).addBlock(phi, y, w, n));
        assertThrows(IllegalArgumentException.class, () -> s.gram(5));
    }

    /**
     * The learner's entry: a feature-major block with padding rows (ld > n, filled with NaN that must not be
     * read) and weights equals the row-major block; the columns are scaled by sqrt(w) in place. A block with a
     * non-finite target is refused naming its row and target, and leaves the sums and the block untouched.
     */
    @Test
    void featureMajorBlocksEqualRowMajorAndFailWhole() {
        SplittableRandom rnd = new SplittableRandom(38);
        int n = 25;
        int p = 6;
        int d = 3;
        int ld = 32;
        double[] phi = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        double[] w = weights(rnd, n);
        w[4] = 0;
        double[] a = new double[(p + d) * ld];
        Arrays.fill(a, Double.NaN);
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < p; c++) {
                a[c * ld + j] = phi[j * p + c];
            }
            for (int c = 0; c < d; c++) {
                a[(p + c) * ld + j] = y[j * d + c];
            }
        }
        double[] bad = a.clone();
        bad[(p + 1) * ld + 5] = Double.POSITIVE_INFINITY;
        double[] badCopy = bad.clone();
        NormalEquations.Snapshot rowMajor = new NormalEquations(p, d).addBlock(phi, y, w, n).snapshot();
        NormalEquations ne = new NormalEquations(p, d).addColumns(a, ld, w, n);
        assertSame(rowMajor, ne.snapshot(), REL, "feature-major");
        assertEquals(phi[3 * p + 2] * Math.sqrt(w[3]), a[2 * ld + 3], 0.0, "scaled in place");
        assertTrue(Double.isNaN(a[ld - 1]), "padding untouched");
        NormalEquations.Snapshot before = ne.snapshot();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ne.addColumns(bad, ld, w, n));
        assertTrue(e.getMessage().contains("row 5: target 1"), e.getMessage());
        assertSame(before, ne.snapshot(), 0.0, "nothing added by the failed block");
        assertEquals(before.count(), ne.count());
        assertArrayEquals(badCopy, bad, 0.0, "failed block not scaled");
        assertThrows(IllegalArgumentException.class, () -> ne.addColumns(a, n - 1, w, n), "ld < n");
    }

    /** Serialized size, for the zero-value check. */
    static final class SerializedSize {
        static int bytes(Object o) throws Exception {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(o);
            }
            return bytes.size();
        }
    }
}
