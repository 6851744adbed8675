package io.scoremix.core.mixture;

import io.scoremix.core.linalg.Blas;
import io.scoremix.core.linalg.PackedSymmetric;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A mergeable accumulator of the first two moments of rows in R^d, optionally weighted: the number of
 * rows, their total weight W, the weighted mean m and the centred scatter {@code S = sum w (x - m)(x - m)^T},
 * packed (see {@link PackedSymmetric}). Used for the global standardisation of ALGORITHM.md section 4.1.
 *
 * <p>Contract. {@code new Moments(d)} is the empty identity: merging it into anything, or anything into
 * it, leaves the other side's statistics. {@link #merge} is associative and commutative up to rounding;
 * splitting the rows into parts, accumulating each and merging in any order or tree equals one pass to
 * a relative error of a few ulps times log(parts). Rows with weight 0 count as rows but change nothing
 * else. Not thread-safe: one accumulator per task, then merge.
 *
 * <p>Covariance convention: {@link #covariance()} is the biased (maximum-likelihood) estimate
 * {@code S / W}. That is what whitening and EM want, it is defined for W = 1, and it needs no choice
 * between frequency and reliability weights; callers wanting the unbiased estimate for unweighted rows
 * use {@link #scatter()} divided by {@code count() - 1}.
 *
 * <p>Serializable for Spark's in-flight shipping only (never written to files): the zero value holds
 * no arrays (they are allocated on the first row), so a shipped empty accumulator is a few bytes.
 *
 * <p>Implementation notes. A block of rows is first reduced alone with the corrected two-pass
 * algorithm (Chan, Golub and LeVeque, "Algorithms for computing the sample variance", Amer. Stat. 1983):
 * block mean, centred rows, a correction of the mean by the mean residual, and the scatter of the centred
 * rows by a BLAS-3 dsyrk minus the rank-one correction. Blocks and single rows join the running totals
 * with the weighted pairwise update of Chan, Golub and LeVeque (1979):
 * {@code W = Wa + Wb, delta = mb - ma, m = ma + delta Wb / W, S = Sa + Sb + delta delta^T Wa Wb / W}.
 * Nothing is ever formed from raw second moments. In addition the mean is held as a shift K (the first
 * row with positive weight) plus an offset {@code m - K} (the "shifted data" device of the same paper):
 * with data 1e9 + O(1) noise, an absolute mean is only known to ulp(1e9) ~ 1e-7, and differences of two
 * such means in the merge would carry that error into the scatter (about 1e-9 relative); offsets from a
 * common K are O(1) numbers with full relative precision, and {@code K_b - K_a} is exact when the shifts
 * are within a factor 2 of each other. The covariance then keeps full relative precision.
 */
public final class Moments implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Rows reduced per block in {@link #addBlock}: bounds the scratch at {@code CHUNK * d} doubles. */
    private static final int CHUNK = 512;

    private final int d;
    private long count;
    private double weight;
    private double[] shift;    // d, the reference point K; null while empty
    private double[] mean;     // d, the mean minus K; null while empty
    private double[] scatter;  // packed d x d, null while empty
    // Block scratch, allocated on the first block and reused; never shipped.
    private transient double[] centred;    // CHUNK x d centred, sqrt(w)-scaled rows
    private transient double[] blockMean;  // d
    private transient double[] residual;   // d, weighted mean residual
    private transient double[] blockFull;  // d x d, dsyrk output
    private transient double[] blockPacked; // packed d x d

    /**
     * An empty accumulator for rows of dimension d.
     *
     * @throws IllegalArgumentException if d is not positive
     */
    public Moments(int d) {
        if (d <= 0) {
            throw new IllegalArgumentException("dimension must be positive, got " + d);
        }
        this.d = d;
    }

    /** The dimension d. */
    public int dimension() {
        return d;
    }

    /** The number of rows added (weighted or not). */
    public long count() {
        return count;
    }

    /** The total weight W (equal to {@link #count()} when no weights were given). */
    public double weight() {
        return weight;
    }

    /** Whether no row with positive weight has been added. */
    public boolean isEmpty() {
        return !(weight > 0);
    }

    /** Adds one row of length d with weight 1. */
    public Moments add(double[] row) {
        return add(row, 0, 1.0);
    }

    /**
     * Adds one row with a weight (West's weighted update, the single-row case of Chan's merge).
     *
     * @param x      holds the row at {@code x[off .. off + d)}; not modified
     * @param weight finite and non-negative
     * @throws IllegalArgumentException on a non-finite value or a bad weight (nothing is added)
     */
    public Moments add(double[] x, int off, double weight) {
        checkWeight(weight, 0);
        for (int r = 0; r < d; r++) {
            if (!Double.isFinite(x[off + r])) {
                throw new IllegalArgumentException("row has a non-finite value at coordinate " + r + ": " + x[off + r]);
            }
        }
        count++;
        if (weight == 0) {
            return this;
        }
        if (isEmpty()) {
            allocate();
            System.arraycopy(x, off, shift, 0, d);
        }
        double w0 = this.weight;
        double w1 = w0 + weight;
        double f = weight / w1;
        double g = weight * w0 / w1;
        int k = 0;
        for (int i = 0; i < d; i++) {
            double di = (x[off + i] - shift[i]) - mean[i];
            for (int j = 0; j <= i; j++) {
                scatter[k++] += g * di * ((x[off + j] - shift[j]) - mean[j]);
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] += f * ((x[off + i] - shift[i]) - mean[i]);
        }
        this.weight = w1;
        return this;
    }

    /**
     * Adds n rows of weight 1.
     *
     * @param x n x d rows, row-major; not modified
     */
    public Moments addBlock(double[] x, int n) {
        return addBlock(x, null, n);
    }

    /**
     * Adds n weighted rows.
     *
     * @param x n x d rows, row-major; not modified
     * @param w n finite non-negative weights, or null for weight 1; not modified
     * @throws IllegalArgumentException on a non-finite value or bad weight, naming the row; rows of
     *                                  earlier chunks (of 512 rows) may already have been added
     */
    public Moments addBlock(double[] x, double[] w, int n) {
        if (n < 0 || x.length < (long) n * d || (w != null && w.length < n)) {
            throw new IllegalArgumentException("block of " + n + " rows of dimension " + d + " needs x of length "
                    + (long) n * d + (w == null ? "" : " and " + n + " weights") + ", got " + x.length
                    + (w == null ? "" : " and " + w.length));
        }
        for (int start = 0; start < n; start += CHUNK) {
            addChunk(x, w, start, Math.min(CHUNK, n - start));
        }
        return this;
    }

    private void addChunk(double[] x, double[] w, int start, int m) {
        double wb = 0;
        for (int j = 0; j < m; j++) {
            double wj = w == null ? 1.0 : w[start + j];
            checkWeight(wj, start + j);
            int o = (start + j) * d;
            for (int r = 0; r < d; r++) {
                if (!Double.isFinite(x[o + r])) {
                    throw new IllegalArgumentException("row " + (start + j) + " has a non-finite value at coordinate "
                            + r + ": " + x[o + r]);
                }
            }
            wb += wj;
        }
        count += m;
        if (!(wb > 0)) {
            return;
        }
        if (centred == null) {
            centred = new double[CHUNK * d];
            blockMean = new double[d];
            residual = new double[d];
            blockFull = new double[d * d];
            blockPacked = new double[PackedSymmetric.size(d)];
        }
        if (isEmpty()) {
            // The shift is the chunk's first row with positive weight.
            int j0 = 0;
            while (w != null && !(w[start + j0] > 0)) {
                j0++;
            }
            allocate();
            System.arraycopy(x, (start + j0) * d, shift, 0, d);
            Arrays.fill(mean, 0.0);
        }
        double[] k0 = shift;
        double[] c = centred;
        double[] mb = blockMean;
        double[] corr = residual;
        double[] sb = blockFull;
        double[] sp = blockPacked;
        // Pass 1: block mean minus the shift (d), as a weighted sum scaled once.
        Arrays.fill(mb, 0.0);
        for (int j = 0; j < m; j++) {
            double wj = w == null ? 1.0 : w[start + j];
            int o = (start + j) * d;
            for (int r = 0; r < d; r++) {
                mb[r] += wj * (x[o + r] - k0[r]);
            }
        }
        double inv = 1.0 / wb;
        for (int r = 0; r < d; r++) {
            mb[r] *= inv;
        }
        // Pass 2: rows centred and scaled by sqrt(w) into c (m x d row-major == d x m column-major); the
        // weighted mean residual corrects the block mean (corrected two-pass).
        Arrays.fill(corr, 0.0);
        for (int j = 0; j < m; j++) {
            double wj = w == null ? 1.0 : w[start + j];
            double sw = Math.sqrt(wj);
            int o = (start + j) * d;
            int co = j * d;
            for (int r = 0; r < d; r++) {
                double e = (x[o + r] - k0[r]) - mb[r];
                corr[r] += wj * e;
                c[co + r] = sw * e;
            }
        }
        // Scatter of the centred block: S_b = C C^T (d x d, column-major upper == row-major lower).
        Blas.get().dsyrk("U", "N", d, m, 1.0, c, d, 0.0, sb, d);
        for (int r = 0; r < d; r++) {
            corr[r] *= inv;
        }
        // Around the corrected mean mb + corr: S = S_b - W corr corr^T.
        int k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                sp[k++] = sb[i * d + j] - wb * corr[i] * corr[j];
            }
        }
        for (int r = 0; r < d; r++) {
            mb[r] += corr[r];
        }
        mergeStats(wb, k0, mb, sp);
    }

    /**
     * Merges another accumulator into this one (Chan's pairwise update); {@code other} is not modified.
     *
     * @throws IllegalArgumentException if the dimensions differ
     */
    public Moments merge(Moments other) {
        if (other.d != d) {
            throw new IllegalArgumentException("cannot merge moments of dimension " + other.d + " into moments of dimension " + d);
        }
        count += other.count;
        if (!other.isEmpty()) {
            mergeStats(other.weight, other.shift, other.mean, other.scatter);
        }
        return this;
    }

    /** Chan's pairwise update with a side of weight wb, shift kb, mean offset mb and packed scatter sb. */
    private void mergeStats(double wb, double[] kb, double[] mb, double[] sb) {
        if (isEmpty()) {
            allocate();
            System.arraycopy(kb, 0, shift, 0, d);
            System.arraycopy(mb, 0, mean, 0, d);
            System.arraycopy(sb, 0, scatter, 0, scatter.length);
            weight = wb;
            return;
        }
        double wa = weight;
        double w = wa + wb;
        double f = wb / w;
        double g = wa * wb / w;
        double[] delta = blockMean == mb ? residual : new double[d];
        for (int i = 0; i < d; i++) {
            // mb + kb - (mean + shift), the shift difference first: exact for nearby shifts.
            delta[i] = (kb[i] - shift[i]) + (mb[i] - mean[i]);
        }
        int k = 0;
        for (int i = 0; i < d; i++) {
            double di = delta[i];
            for (int j = 0; j <= i; j++) {
                scatter[k] += sb[k] + g * di * delta[j];
                k++;
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] += f * delta[i];
        }
        weight = w;
    }

    private void allocate() {
        if (mean == null) {
            shift = new double[d];
            mean = new double[d];
            scatter = new double[PackedSymmetric.size(d)];
        }
    }

    private static void checkWeight(double w, int row) {
        if (!(w >= 0) || !Double.isFinite(w)) {
            throw new IllegalArgumentException("row " + row + ": weight must be finite and non-negative, got " + w);
        }
    }

    /**
     * A copy of the weighted mean.
     *
     * @throws IllegalStateException if empty
     */
    public double[] mean() {
        requireData();
        double[] m = new double[d];
        for (int i = 0; i < d; i++) {
            m[i] = shift[i] + mean[i];
        }
        return m;
    }

    /**
     * A copy of the centred scatter {@code sum w (x - m)(x - m)^T}, packed (see {@link PackedSymmetric}).
     *
     * @throws IllegalStateException if empty
     */
    public double[] scatter() {
        requireData();
        return scatter.clone();
    }

    /**
     * The biased covariance {@code S / W}, d x d row-major, symmetric. Diagonal entries that rounding
     * left slightly negative are clamped to 0.
     *
     * @throws IllegalStateException if empty
     */
    public double[] covariance() {
        requireData();
        double[] c = new double[d * d];
        PackedSymmetric.unpack(scatter, d, c);
        double inv = 1.0 / weight;
        for (int i = 0; i < c.length; i++) {
            c[i] *= inv;
        }
        for (int i = 0; i < d; i++) {
            c[i * d + i] = Math.max(0.0, c[i * d + i]);
        }
        return c;
    }

    private void requireData() {
        if (isEmpty()) {
            throw new IllegalStateException("no rows with positive weight were added: mean and covariance are undefined");
        }
    }

    @Override
    public String toString() {
        return "Moments[d=" + d + ", count=" + count + ", weight=" + weight + "]";
    }
}
