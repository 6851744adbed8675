package io.scoremix.core.features;

/**
 * Feature-major evaluation ({@link FeatureMap#evaluateColumns}): a map's features over runs of at most
 * {@link #ROWS} rows, handed on one feature column at a time.
 *
 * <p>Implementation notes. The column kernels ({@link #product}, the Hermite recursion) read and write
 * separate arrays, each from index 0: C2 on Java 17 vectorises {@code c[i] = a[i] * b[i]} (about 4 times
 * faster, measured) but not a loop whose arrays are indexed at different loop-invariant offsets, not even
 * {@code c[o + i] = a[i] * b[i]}. So columns live in arrays of their own and reach the caller's
 * block by {@code System.arraycopy}. Runs of {@link #ROWS} rows keep the columns in the L1/L2 caches.
 */
final class FeatureColumns {

    /** Rows per run: bounds the column scratch (256 measured a little faster than 128 or 512 for p = 264). */
    static final int ROWS = 256;

    private FeatureColumns() {
    }

    /** Receives the features of a run of rows, feature by feature in increasing index. */
    interface Sink {
        /**
         * @param feature the feature index
         * @param values  the feature at the run's rows, in {@code [0, m)}; valid only during the call, not to be
         *                modified
         */
        void column(int feature, double[] values);
    }

    /** A map's features over runs of rows, with scratch for runs of up to the length it was made for. */
    interface Source {
        /**
         * Hands {@code sink} every feature of rows {@code start .. start + m - 1}.
         *
         * @param z    all n x d points, row-major
         * @param post all n x k gate posteriors, row-major, or null (ignored by ungated maps)
         */
        void columns(double[] z, double[] post, int start, int m, Sink sink);
    }

    /** The column source of {@code f} for runs of up to {@code rows} rows: its own if it has one. */
    static Source source(FeatureMap f, int rows) {
        if (f instanceof MonomialFeatures mono) {
            return mono.columnSource(rows);
        }
        return new Transposed(f, rows);
    }

    /** {@link FeatureMap#evaluateColumns} through the column source of {@code f}. */
    static void evaluate(FeatureMap f, double[] z, int n, double[] post, double[] out, int ld) {
        checkLeading(n, ld);
        if (n == 0) {
            return;
        }
        Source source = source(f, Math.min(n, ROWS));
        for (int start = 0; start < n; start += ROWS) {
            int m = Math.min(ROWS, n - start);
            int at = start;
            source.columns(z, post, start, m, (a, col) -> System.arraycopy(col, 0, out, a * ld + at, m));
        }
    }

    static void checkLeading(int n, int ld) {
        if (n < 0 || ld < n) {
            throw new IllegalArgumentException("the leading dimension must be at least n = " + n + ", got " + ld);
        }
    }

    /** {@code c[i] = a[i] * b[i]} for i < m. */
    static void product(double[] a, double[] b, double[] c, int m) {
        for (int i = 0; i < m; i++) {
            c[i] = a[i] * b[i];
        }
    }

    /** Any map: rows evaluated row-major into a scratch, then each feature gathered into a column. */
    private static final class Transposed implements Source {
        private final FeatureMap f;
        private final int d;
        private final int p;
        private final int k;
        private final double[] zRun;
        private final double[] postRun;
        private final double[] rowMajor;
        private final double[] column;

        Transposed(FeatureMap f, int rows) {
            this.f = f;
            this.d = f.inputDimension();
            this.p = f.size();
            this.k = f.gates() == null ? 0 : f.gates().components();
            this.zRun = new double[rows * d];
            this.postRun = new double[rows * k];
            this.rowMajor = new double[rows * p];
            this.column = new double[rows];
        }

        @Override
        public void columns(double[] z, double[] post, int start, int m, Sink sink) {
            System.arraycopy(z, start * d, zRun, 0, m * d);
            double[] given = null;
            if (post != null && k > 0) {
                System.arraycopy(post, start * k, postRun, 0, m * k);
                given = postRun;
            }
            f.evaluate(zRun, m, given, rowMajor);
            // m x p row-major -> p columns of m.
            for (int a = 0; a < p; a++) {
                for (int j = 0; j < m; j++) {
                    column[j] = rowMajor[j * p + a];
                }
                sink.column(a, column);
            }
        }
    }
}
