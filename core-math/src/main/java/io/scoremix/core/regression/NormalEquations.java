package io.scoremix.core.regression;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.linalg.PackedSymmetric;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/**
 * A mergeable accumulator of the weighted least-squares normal equations of ALGORITHM.md section 4.6,
 * for p features and d outputs: {@code G = sum w phi phi^T} (p x p), {@code B = sum w phi y^T} (p x d),
 * {@code sum w ||y||^2}, the row count and the total weight.
 *
 * <p>Contract. {@code new NormalEquations(p, d)} is the empty identity (holds no arrays); {@link #merge}
 * is associative and commutative up to rounding, rejects a shape mismatch, and accepts an empty side
 * either way. Rows with weight 0 count as rows and change nothing else. {@link #snapshot()} gives an
 * immutable {@link Snapshot} with G packed (see {@link PackedSymmetric}: the lower triangle row by row,
 * so the leading principal submatrix of a feature prefix is a packed prefix). Not thread-safe: one
 * accumulator per task, then merge. Serializable for Spark's in-flight shipping only (never a file
 * format); G travels packed.
 *
 * <p>Implementation notes. Rows arrive feature-major ({@link #addColumns}: the p feature columns then the d
 * target columns of a block, each column contiguous over the rows), and one BLAS level-3 call forms
 * {@code A^T A} of the augmented block {@code A = [Phi Y]} (n x (p + d)): its leading p x p block is G and its
 * last d rows hold {@code B^T}. That is dsyrk("U", "T") (or dgemm on column blocks of the triangle where the
 * BLAS is the Java fallback, see GRAM_BY_GEMM). Feature-major blocks are what dsyrk reads fastest, and the
 * features are computed fastest that way too (loops over rows); folding B into the same call replaces a thin
 * p x d dgemm that ran at about 0.4 of DGEMM's rate (d x d extra entries, ignored). While rows are being
 * added, the augmented matrix lives in a full (p + d) x (p + d) work array of which dsyrk updates one triangle
 * (column-major "U" == row-major lower); G is packed only for a snapshot, a merge partner or serialization.
 * Packing after every block would read and write about 1.5 p^2 doubles per block on top of the n p^2 flops,
 * a measurable fraction for blocks of a few hundred rows; the price is twice the memory while accumulating
 * (see {@link #workingDoubles}). {@link #addBlock} (row-major) transposes into a scratch and takes the same path.
 */
public final class NormalEquations implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Whether G is updated by dgemm on column blocks instead of dsyrk. Native BLAS (OpenBLAS) has a tuned
     * dsyrk; dev.ludovic.netlib's Java fallback vectorises dgemm but not dsyrk (measured: dsyrk about a
     * fifth of its dgemm rate), so there the blocked dgemm is several times faster. System property
     * {@code scoremix.gram} = {@code auto} (default), {@code syrk} or {@code gemm}, for benchmarks.
     */
    static final boolean GRAM_BY_GEMM = gramByGemm(System.getProperty("scoremix.gram", "auto"));
    /** Column block width of the dgemm update of G. */
    private static final int GRAM_BLOCK = 128;

    private final int p;
    private final int d;
    private long count;
    private double weight;
    private double sumSquares;
    // Lazily allocated; once data arrived, either aug is the live representation, or gPacked and b are.
    /** (p + d) x (p + d) row-major, lower triangle valid: G in rows 0..p-1, B^T in rows p.. (columns 0..p-1). */
    private transient double[] aug;
    private transient double[] gPacked; // packed p x p (after a merge into an empty accumulator, or deserialized)
    private transient double[] b;       // p x d row-major, with gPacked

    /**
     * An empty accumulator.
     *
     * @param p number of features, positive
     * @param d number of outputs, positive
     */
    public NormalEquations(int p, int d) {
        if (p <= 0 || d <= 0) {
            throw new IllegalArgumentException("feature count p and output count d must be positive, got p = " + p + ", d = " + d);
        }
        if ((long) (p + d) * (p + d) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("p = " + p + ", d = " + d + " is too large for one accumulator");
        }
        this.p = p;
        this.d = d;
    }

    /** The kernel that updates G in this JVM, {@code "dsyrk"} or {@code "blocked-dgemm"}: for benchmark reports. */
    public static String gramKernel() {
        return GRAM_BY_GEMM ? "blocked-dgemm" : "dsyrk";
    }

    private static boolean gramByGemm(String mode) {
        switch (mode) {
            case "syrk":
                return false;
            case "gemm":
                return true;
            case "auto":
                return !(Blas.get() instanceof NativeBLAS);
            default:
                throw new IllegalArgumentException("system property scoremix.gram must be auto, syrk or gemm, got " + mode);
        }
    }

    /**
     * Doubles held by one accumulator of this shape while rows are being added (the full augmented
     * {@code (p + d) x (p + d)} matrix holding G and B), excluding the caller's feature block. For memory budgets.
     */
    public static long workingDoubles(int p, int d) {
        return (long) (p + d) * (p + d);
    }

    /** Doubles shipped per non-empty accumulator (packed G, B and three scalars). */
    public static long shippedDoubles(int p, int d) {
        return (long) p * (p + 1) / 2 + (long) p * d + 3;
    }

    /** Number of features p. */
    public int features() {
        return p;
    }

    /** Number of outputs d. */
    public int outputs() {
        return d;
    }

    /** Rows added so far (including weight-0 rows). */
    public long count() {
        return count;
    }

    /** Total weight so far. */
    public double weight() {
        return weight;
    }

    /** Whether no row with positive weight was added. */
    public boolean isEmpty() {
        return aug == null && gPacked == null;
    }

    /**
     * Adds n rows given row-major. Non-finite features or targets are rejected (nothing of the block is added).
     * Transposes into a feature-major scratch and calls {@link #addColumns}, the learner's path.
     *
     * @param phi n x p features, row-major; not modified
     * @param y   n x d targets, row-major; not modified
     * @param w   n finite non-negative weights, or null for weight 1; not modified
     * @throws IllegalArgumentException on a shape mismatch, a bad weight or a non-finite value, naming the row
     */
    public NormalEquations addBlock(double[] phi, double[] y, double[] w, int n) {
        if (n < 0 || phi.length < (long) n * p || y.length < (long) n * d || (w != null && w.length < n)) {
            throw new IllegalArgumentException("a block of " + n + " rows needs phi of length n*p = " + (long) n * p
                    + ", y of length n*d = " + (long) n * d + (w == null ? "" : " and n weights") + "; got "
                    + phi.length + ", " + y.length + (w == null ? "" : ", " + w.length));
        }
        if (n == 0) {
            return this;
        }
        double[] a = new double[(p + d) * n];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < p; c++) {
                a[c * n + j] = phi[j * p + c];
            }
            for (int c = 0; c < d; c++) {
                a[(p + c) * n + j] = y[j * d + c];
            }
        }
        return addColumns(a, n, w, n);
    }

    /**
     * Adds n rows given feature-major: entry j of column c is {@code a[c * ld + j]}, columns 0..p-1 the
     * features and p..p+d-1 the targets. Non-finite features or targets, or a bad weight, are rejected before
     * anything changes (nothing of the block is added, {@code a} is untouched).
     *
     * @param a  p + d columns of n rows with leading dimension ld; scaled in place by {@code sqrt(w)} when
     *           weights are given (it is the caller's scratch), else not modified
     * @param ld leading dimension, at least n
     * @param w  n finite non-negative weights, or null for weight 1; not modified
     * @throws IllegalArgumentException on a shape mismatch, a bad weight or a non-finite value, naming the row
     *                                  and the feature or target
     */
    public NormalEquations addColumns(double[] a, int ld, double[] w, int n) {
        int q = p + d;
        if (n < 0 || ld < Math.max(1, n) || (n > 0 && a.length < (long) (q - 1) * ld + n) || (w != null && w.length < n)) {
            throw new IllegalArgumentException("a feature-major block of " + n + " rows needs leading dimension ld >= n"
                    + " and p + d = " + q + " columns: length (p + d - 1) ld + n" + (w == null ? "" : " and n weights")
                    + "; got ld = " + ld + ", length " + a.length + (w == null ? "" : ", " + w.length + " weights"));
        }
        if (n == 0) {
            return this;
        }
        double wsum = 0;
        if (w == null) {
            wsum = n;
        } else {
            for (int j = 0; j < n; j++) {
                double wj = w[j];
                if (!(wj >= 0) || !Double.isFinite(wj)) {
                    throw new IllegalArgumentException("row " + j + ": weight must be finite and non-negative, got " + wj);
                }
                wsum += wj;
            }
        }
        requireFinite(a, ld, n);
        count += n;
        if (!(wsum > 0)) {
            return this;
        }
        if (w != null) {
            double[] sw = new double[n];
            for (int j = 0; j < n; j++) {
                sw[j] = Math.sqrt(w[j]);
            }
            for (int c = 0; c < q; c++) {
                int o = c * ld;
                for (int j = 0; j < n; j++) {
                    a[o + j] *= sw[j];
                }
            }
        }
        double ss = 0;
        for (int c = p; c < q; c++) {
            int o = c * ld;
            for (int j = 0; j < n; j++) {
                ss += a[o + j] * a[o + j];
            }
        }
        ensureFull();
        updateGram(Blas.get(), GRAM_BY_GEMM, a, ld, q, n, aug);
        sumSquares += ss;
        weight += wsum;
        return this;
    }

    /**
     * Throws naming the first non-finite entry of the block. A branch per entry cost as much as a third of
     * the dsyrk at p = 264 (JFR); instead, eight independent sums of {@code v * 0} (0 for a finite v, NaN for
     * NaN or an infinity) keep the adders busy (four ran 1.3-1.5x slower: the add latency is 3-4 cycles), and
     * only a failed block is searched entry by entry.
     */
    private void requireFinite(double[] a, int ld, int n) {
        int q = p + d;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        double s4 = 0;
        double s5 = 0;
        double s6 = 0;
        double s7 = 0;
        for (int c = 0; c < q; c++) {
            int j = c * ld;
            int end = j + n;
            for (; j + 7 < end; j += 8) {
                s0 += a[j] * 0.0;
                s1 += a[j + 1] * 0.0;
                s2 += a[j + 2] * 0.0;
                s3 += a[j + 3] * 0.0;
                s4 += a[j + 4] * 0.0;
                s5 += a[j + 5] * 0.0;
                s6 += a[j + 6] * 0.0;
                s7 += a[j + 7] * 0.0;
            }
            for (; j < end; j++) {
                s0 += a[j] * 0.0;
            }
        }
        s0 += s4;
        s1 += s5;
        s2 += s6;
        s3 += s7;
        if (s0 + s1 + s2 + s3 == 0) {
            return;
        }
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < q; c++) {
                double v = a[c * ld + j];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("row " + j + ": " + (c < p ? "feature " + c : "target " + (c - p))
                            + " is not finite (" + v + ")");
                }
            }
        }
    }

    /**
     * {@code C += A^T A} for the n x q feature-major block A (column c at {@code a[c * ld ..]}), updating the
     * row-major lower triangle of the q x q {@code g}; entries above the diagonal may be written and must be
     * ignored.
     */
    static void updateGram(BLAS blas, boolean byGemm, double[] a, int ld, int q, int n, double[] g) {
        // g row-major lower == column-major upper: C = A^T A with A column-major n x q.
        if (byGemm) {
            // Column block J of the upper triangle, rows 0 .. j0 + nj: one dgemm each, n q^2 + n q GRAM_BLOCK
            // flops in all; entries below the diagonal of the diagonal blocks are written and never read.
            for (int j0 = 0; j0 < q; j0 += GRAM_BLOCK) {
                int nj = Math.min(GRAM_BLOCK, q - j0);
                blas.dgemm("T", "N", j0 + nj, nj, n, 1.0, a, 0, ld, a, j0 * ld, ld, 1.0, g, j0 * q, q);
            }
        } else {
            blas.dsyrk("U", "T", q, n, 1.0, a, ld, 1.0, g, q);
        }
    }

    /** Makes aug the live representation, allocating on first use or unpacking after a merge/read. */
    private void ensureFull() {
        if (aug != null) {
            return;
        }
        aug = new double[(p + d) * (p + d)];
        if (gPacked != null) {
            addPacked(aug, gPacked, b);
            gPacked = null;
            b = null;
        }
    }

    /** G of the augmented work matrix, packed. */
    private double[] packedGram(double[] full) {
        int q = p + d;
        double[] ap = new double[PackedSymmetric.size(p)];
        int k = 0;
        for (int i = 0; i < p; i++) {
            System.arraycopy(full, i * q, ap, k, i + 1);
            k += i + 1;
        }
        return ap;
    }

    /** B (p x d row-major) of the augmented work matrix. */
    private double[] rhs(double[] full) {
        int q = p + d;
        double[] out = new double[p * d];
        for (int c = 0; c < d; c++) {
            int row = (p + c) * q;
            for (int a = 0; a < p; a++) {
                out[a * d + c] = full[row + a];
            }
        }
        return out;
    }

    /**
     * Merges another accumulator into this one; {@code other} is not modified.
     *
     * @throws IllegalArgumentException if p or d differ, or {@code other} is this accumulator
     */
    public NormalEquations merge(NormalEquations other) {
        if (other.p != p || other.d != d) {
            throw new IllegalArgumentException("cannot merge normal equations with p = " + other.p + ", d = " + other.d
                    + " into p = " + p + ", d = " + d);
        }
        if (other == this) {
            throw new IllegalArgumentException("cannot merge an accumulator into itself");
        }
        count += other.count;
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            if (other.aug != null) {
                aug = other.aug.clone();
            } else {
                gPacked = other.gPacked.clone();
                b = other.b.clone();
            }
        } else if (aug != null) {
            addAugmented(aug, other);
        } else if (other.gPacked != null) {
            addInto(gPacked, other.gPacked);
            addInto(b, other.b);
        } else {
            // Packed here, full there: add the other's G and B.
            addInto(gPacked, packedGram(other.aug));
            addInto(b, rhs(other.aug));
        }
        weight += other.weight;
        sumSquares += other.sumSquares;
        return this;
    }

    /** Adds the other's G and B (either representation) into this augmented work matrix's lower triangle. */
    private void addAugmented(double[] full, NormalEquations other) {
        int q = p + d;
        if (other.aug != null) {
            double[] of = other.aug;
            for (int i = 0; i < q; i++) {
                int ri = i * q;
                for (int j = 0; j <= i; j++) {
                    full[ri + j] += of[ri + j];
                }
            }
        } else {
            addPacked(full, other.gPacked, other.b);
        }
    }

    /** Adds a packed G and its B (p x d row-major) into an augmented work matrix's lower triangle. */
    private void addPacked(double[] full, double[] packedG, double[] rhs) {
        int q = p + d;
        int k = 0;
        for (int i = 0; i < p; i++) {
            int ri = i * q;
            for (int j = 0; j <= i; j++) {
                full[ri + j] += packedG[k++];
            }
        }
        for (int c = 0; c < d; c++) {
            int row = (p + c) * q;
            for (int a = 0; a < p; a++) {
                full[row + a] += rhs[a * d + c];
            }
        }
    }

    private static void addInto(double[] acc, double[] x) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += x[i];
        }
    }

    /**
     * An immutable copy of the sums. An empty accumulator gives a snapshot of zeros.
     */
    public Snapshot snapshot() {
        if (isEmpty()) {
            return new Snapshot(p, d, count, 0, 0, new double[PackedSymmetric.size(p)], new double[p * d]);
        }
        if (aug != null) {
            return new Snapshot(p, d, count, weight, sumSquares, packedGram(aug), rhs(aug));
        }
        return new Snapshot(p, d, count, weight, sumSquares, gPacked.clone(), b.clone());
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        out.writeBoolean(!isEmpty());
        if (!isEmpty()) {
            writeDoubles(out, aug != null ? packedGram(aug) : gPacked);
            writeDoubles(out, aug != null ? rhs(aug) : b);
        }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (p <= 0 || d <= 0) {
            throw new java.io.InvalidObjectException("bad shape p = " + p + ", d = " + d);
        }
        if (in.readBoolean()) {
            gPacked = readDoubles(in, PackedSymmetric.size(p));
            b = readDoubles(in, p * d);
        }
    }

    private static void writeDoubles(ObjectOutputStream out, double[] a) throws IOException {
        out.writeInt(a.length);
        for (double v : a) {
            out.writeDouble(v);
        }
    }

    private static double[] readDoubles(ObjectInputStream in, int expected) throws IOException {
        int n = in.readInt();
        if (n != expected) {
            throw new java.io.InvalidObjectException("expected " + expected + " doubles, stream has " + n);
        }
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = in.readDouble();
        }
        return a;
    }

    @Override
    public String toString() {
        return "NormalEquations[p=" + p + ", d=" + d + ", count=" + count + ", weight=" + weight + "]";
    }

    /**
     * Immutable sums of a {@link NormalEquations}: G packed, B (p x d row-major), {@code sum w ||y||^2},
     * count and weight. Accessors return copies.
     */
    public static final class Snapshot implements Serializable {

        private static final long serialVersionUID = 1L;

        private final int p;
        private final int d;
        private final long count;
        private final double weight;
        private final double sumSquares;
        private final double[] gPacked;
        private final double[] b;

        Snapshot(int p, int d, long count, double weight, double sumSquares, double[] gPacked, double[] b) {
            this.p = p;
            this.d = d;
            this.count = count;
            this.weight = weight;
            this.sumSquares = sumSquares;
            this.gPacked = gPacked;
            this.b = b;
        }

        /**
         * A snapshot from explicit sums (for readers of stored moments and for tests); arrays are copied.
         *
         * @param gPacked packed p x p G ({@link PackedSymmetric}), length p(p+1)/2
         * @param b       p x d row-major
         * @throws IllegalArgumentException on wrong lengths, negative count or weight, or non-finite entries
         */
        public static Snapshot of(int p, int d, long count, double weight, double sumSquares, double[] gPacked, double[] b) {
            if (p <= 0 || d <= 0) {
                throw new IllegalArgumentException("p and d must be positive, got p = " + p + ", d = " + d);
            }
            if (gPacked.length != PackedSymmetric.size(p) || b.length != p * d) {
                throw new IllegalArgumentException("packed G needs " + PackedSymmetric.size(p) + " entries and B " + p * d
                        + ", got " + gPacked.length + " and " + b.length);
            }
            if (count < 0 || !(weight >= 0) || !Double.isFinite(weight) || !(sumSquares >= 0) || !Double.isFinite(sumSquares)) {
                throw new IllegalArgumentException("count, weight and sum of squares must be finite and non-negative, got "
                        + count + ", " + weight + ", " + sumSquares);
            }
            for (double v : gPacked) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("G has a non-finite entry " + v);
                }
            }
            for (double v : b) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("B has a non-finite entry " + v);
                }
            }
            return new Snapshot(p, d, count, weight, sumSquares, gPacked.clone(), b.clone());
        }

        /** Number of features p. */
        public int features() {
            return p;
        }

        /** Number of outputs d. */
        public int outputs() {
            return d;
        }

        /** Rows accumulated (including weight-0 rows). */
        public long count() {
            return count;
        }

        /** Total weight. */
        public double weight() {
            return weight;
        }

        /** {@code sum w ||y||^2}. */
        public double sumSquaredTargets() {
            return sumSquares;
        }

        /** Entry (i, j) of G, either order. */
        public double gram(int i, int j) {
            return gPacked[PackedSymmetric.index(i, j)];
        }

        /** A copy of G packed ({@link PackedSymmetric}). */
        public double[] packedGram() {
            return gPacked.clone();
        }

        /** G unpacked: p x p row-major, both triangles. */
        public double[] gram() {
            return gram(p);
        }

        /** The leading q x q principal submatrix of G, row-major, both triangles (q in 1..p). */
        public double[] gram(int q) {
            checkPrefix(q);
            double[] out = new double[q * q];
            PackedSymmetric.unpack(gPacked, q, out);
            return out;
        }

        /** A copy of B, p x d row-major. */
        public double[] rhs() {
            return b.clone();
        }

        /** The leading q rows of B, q x d row-major (q in 1..p). */
        public double[] rhs(int q) {
            checkPrefix(q);
            return java.util.Arrays.copyOf(b, q * d);
        }

        /** Trace of the leading q x q block of G. */
        public double trace(int q) {
            checkPrefix(q);
            return PackedSymmetric.trace(gPacked, q);
        }

        // Package-private views without copies for the solver.
        double[] packedView() {
            return gPacked;
        }

        double[] rhsView() {
            return b;
        }

        void checkPrefix(int q) {
            if (q < 1 || q > p) {
                throw new IllegalArgumentException("feature prefix must be in 1.." + p + ", got " + q);
            }
        }

        @Override
        public String toString() {
            return "NormalEquations.Snapshot[p=" + p + ", d=" + d + ", count=" + count + ", weight=" + weight + "]";
        }
    }
}
