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
 * <p>Implementation notes. {@link #addBlock} is BLAS level 3: {@code G += Phi^T Phi} by dsyrk (or by
 * dgemm on column blocks of the triangle where the BLAS is the Java fallback, see GRAM_BY_GEMM) and
 * {@code B += Phi^T Y} by dgemm on the row-major blocks read as column-major transposes, weights applied
 * by scaling a copy of the rows by {@code sqrt(w)}. While rows are being added, G lives in a full p x p
 * work matrix of which dsyrk updates one triangle (row-major lower, i.e. column-major "U"); it is
 * packed only for a snapshot, a merge partner or serialization. The alternative, dsyrk into a scratch
 * then folding into packed storage after every block, reads and writes about 1.5 p^2 doubles per block
 * on top of the n p^2 flops: a measurable fraction for blocks of a few hundred rows, against twice
 * the memory while accumulating (p^2 instead of p^2/2 doubles; see {@link #workingDoubles}).
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
    // Lazily allocated; exactly one of gFull / gPacked is non-null once data arrived.
    private transient double[] gFull;   // p x p, row-major lower triangle valid (column-major "U")
    private transient double[] gPacked; // packed p x p
    private transient double[] b;       // p x d row-major
    private transient double[] phiScaled; // scratch n x p for weighted blocks
    private transient double[] yScaled;   // scratch n x d for weighted blocks

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
        if ((long) p * p > Integer.MAX_VALUE - 8 || (long) p * d > Integer.MAX_VALUE - 8) {
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
     * Doubles held by one accumulator of this shape while rows are being added (full G, B), excluding
     * the weighted-block scratch of {@code n (p + d)} doubles. For memory budgets.
     */
    public static long workingDoubles(int p, int d) {
        return (long) p * p + (long) p * d;
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
        return b == null;
    }

    /**
     * Adds n rows. Non-finite features or targets are rejected (nothing of the block is added).
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
        // Weights, targets and their sum of squares in one pass, then the features: O(n (p + d)) next to n p^2.
        double ss = 0;
        double wsum = 0;
        for (int j = 0; j < n; j++) {
            double wj = 1.0;
            if (w != null) {
                wj = w[j];
                if (!(wj >= 0) || !Double.isFinite(wj)) {
                    throw new IllegalArgumentException("row " + j + ": weight must be finite and non-negative, got " + wj);
                }
            }
            int yo = j * d;
            double s = 0;
            for (int c = 0; c < d; c++) {
                double v = y[yo + c];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("row " + j + ": target " + c + " is not finite (" + v + ")");
                }
                s += v * v;
            }
            ss += wj * s;
            wsum += wj;
        }
        requireFiniteFeatures(phi, n);
        count += n;
        if (!(wsum > 0)) {
            return this;
        }
        double[] a = phi;
        double[] t = y;
        if (w != null) {
            if (phiScaled == null || phiScaled.length < n * p) {
                phiScaled = new double[n * p];
                yScaled = new double[n * d];
            }
            a = phiScaled;
            t = yScaled;
            for (int j = 0; j < n; j++) {
                double sw = Math.sqrt(w[j]);
                int fo = j * p;
                for (int c = 0; c < p; c++) {
                    a[fo + c] = sw * phi[fo + c];
                }
                int yo = j * d;
                for (int c = 0; c < d; c++) {
                    t[yo + c] = sw * y[yo + c];
                }
            }
        }
        ensureFull();
        BLAS blas = Blas.get();
        updateGram(blas, GRAM_BY_GEMM, a, p, n, gFull);
        // B row-major p x d == column-major d x p == B^T: B^T += Y^T Phi, Y column-major d x n.
        blas.dgemm("N", "T", d, p, n, 1.0, t, d, a, p, 1.0, b, d);
        sumSquares += ss;
        weight += wsum;
        return this;
    }

    /**
     * Throws naming the first non-finite feature of the n x p block. A branch per entry cost as much as a
     * third of the dsyrk at p = 264 (JFR); instead, four independent sums of {@code v * 0} (0 for a
     * finite v, NaN for NaN or an infinity) run at the adder's throughput, and only a failed block is
     * searched entry by entry.
     */
    private void requireFiniteFeatures(double[] phi, int n) {
        int len = n * p;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            s0 += phi[i] * 0.0;
            s1 += phi[i + 1] * 0.0;
            s2 += phi[i + 2] * 0.0;
            s3 += phi[i + 3] * 0.0;
        }
        for (; i < len; i++) {
            s0 += phi[i] * 0.0;
        }
        if (s0 + s1 + s2 + s3 == 0) {
            return;
        }
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < p; c++) {
                double v = phi[j * p + c];
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("row " + j + ": feature " + c + " is not finite (" + v + ")");
                }
            }
        }
    }

    /**
     * {@code G += Phi^T Phi} for n rows of p features (row-major), updating the row-major lower triangle
     * of the p x p {@code g}; entries above the diagonal may be written and must be ignored.
     */
    static void updateGram(BLAS blas, boolean byGemm, double[] a, int p, int n, double[] g) {
        // phi row-major n x p == column-major p x n (A): G += A A^T (column-major "U" == row-major lower).
        if (byGemm) {
            // Column block J of the upper triangle, rows 0 .. j0 + nj: one dgemm each, n p^2 + n p GRAM_BLOCK
            // flops in all; entries below the diagonal of the diagonal blocks are written and never read.
            for (int j0 = 0; j0 < p; j0 += GRAM_BLOCK) {
                int nj = Math.min(GRAM_BLOCK, p - j0);
                blas.dgemm("N", "T", j0 + nj, nj, n, 1.0, a, 0, p, a, j0, p, 1.0, g, j0 * p, p);
            }
        } else {
            blas.dsyrk("U", "N", p, n, 1.0, a, p, 1.0, g, p);
        }
    }

    /** Makes gFull the live representation, allocating on first use or unpacking after a merge/read. */
    private void ensureFull() {
        if (gFull != null) {
            return;
        }
        gFull = new double[p * p];
        if (gPacked != null) {
            int k = 0;
            for (int i = 0; i < p; i++) {
                System.arraycopy(gPacked, k, gFull, i * p, i + 1);
                k += i + 1;
            }
            gPacked = null;
        } else {
            b = new double[p * d];
        }
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
            if (other.gFull != null) {
                gFull = other.gFull.clone();
            } else {
                gPacked = other.gPacked.clone();
            }
            b = other.b.clone();
        } else {
            if (gFull != null) {
                addLower(gFull, other);
            } else if (other.gPacked != null) {
                addInto(gPacked, other.gPacked);
            } else {
                // Packed here, full there: add the other's lower triangle row by row.
                double[] of = other.gFull;
                int k = 0;
                for (int i = 0; i < p; i++) {
                    int ri = i * p;
                    for (int j = 0; j <= i; j++) {
                        gPacked[k++] += of[ri + j];
                    }
                }
            }
            addInto(b, other.b);
        }
        weight += other.weight;
        sumSquares += other.sumSquares;
        return this;
    }

    /** Adds the other's G (either representation) into this work matrix's lower triangle (p x p). */
    private void addLower(double[] full, NormalEquations other) {
        if (other.gFull != null) {
            double[] of = other.gFull;
            for (int i = 0; i < p; i++) {
                int ri = i * p;
                for (int j = 0; j <= i; j++) {
                    full[ri + j] += of[ri + j];
                }
            }
        } else {
            double[] op = other.gPacked;
            int k = 0;
            for (int i = 0; i < p; i++) {
                int ri = i * p;
                for (int j = 0; j <= i; j++) {
                    full[ri + j] += op[k++];
                }
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
        double[] ap;
        if (gFull != null) {
            ap = new double[PackedSymmetric.size(p)];
            PackedSymmetric.pack(gFull, p, ap);
        } else {
            ap = gPacked.clone();
        }
        return new Snapshot(p, d, count, weight, sumSquares, ap, b.clone());
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        out.writeBoolean(!isEmpty());
        if (!isEmpty()) {
            double[] ap = gPacked;
            if (gFull != null) {
                ap = new double[PackedSymmetric.size(p)];
                PackedSymmetric.pack(gFull, p, ap);
            }
            writeDoubles(out, ap);
            writeDoubles(out, b);
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
