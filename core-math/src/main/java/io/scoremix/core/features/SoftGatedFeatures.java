package io.scoremix.core.features;

import io.scoremix.core.mixture.GaussianMixture;

/**
 * Soft gates (ours, ALGORITHM.md section 4.4): every base feature times every posterior
 * {@code pi_i(z)} of a gating mixture. Smooth across cell borders, still linear in the coefficients.
 * Ordered base-feature-major ({@code index = a * k + i}) so degree prefixes of the base are kept:
 * {@code prefixSize(l) = k * base.prefixSize(l)}.
 *
 * <p>Implementation notes. The divergence uses {@code d pi_i / d z = pi_i (g_i - gbar)} with
 * {@code g_i = -Q_i^{-1} (z - mu_i)}, {@code gbar = sum_i pi_i g_i} (gbar is the gating mixture's score),
 * and the base map's own divergence for the other factor.
 */
final class SoftGatedFeatures implements FeatureMap {

    /** Rows per chunk of {@link #evaluate}: bounds the base-feature scratch. */
    private static final int CHUNK = 64;

    private final FeatureMap base;
    private final GaussianMixture gates;
    private final int k;
    private final int d;
    private final double[][] precision;
    private final double[][] means;

    SoftGatedFeatures(FeatureMap base, GaussianMixture gates) {
        if (base.inputDimension() != gates.dimension()) {
            throw new IllegalArgumentException("base features have input dimension " + base.inputDimension()
                    + " but the gating mixture has dimension " + gates.dimension());
        }
        this.base = base;
        this.gates = gates;
        this.k = gates.components();
        this.d = gates.dimension();
        this.precision = new double[k][];
        this.means = new double[k][];
        for (int i = 0; i < k; i++) {
            means[i] = gates.mean(i);
            precision[i] = inverse(gates.covariance(i));
        }
    }

    private static double[] inverse(double[][] c) {
        int d = c.length;
        double[] a = new double[d * d];
        for (int r = 0; r < d; r++) {
            System.arraycopy(c[r], 0, a, r * d, d);
        }
        double[] l = new double[d * d];
        io.scoremix.core.linalg.Cholesky.factor(a, d, l);
        double[] inv = new double[d * d];
        for (int col = 0; col < d; col++) {
            double[] e = new double[d];
            e[col] = 1;
            io.scoremix.core.linalg.Cholesky.solve(l, d, e);
            for (int r = 0; r < d; r++) {
                inv[r * d + col] = e[r];
            }
        }
        return inv;
    }

    @Override
    public FeatureSpec spec() {
        FeatureSpec b = base.spec();
        return new FeatureSpec(FeatureSpec.SOFT_GATED, b.degree(), b.center(), b.scale());
    }

    @Override
    public int inputDimension() {
        return d;
    }

    @Override
    public int size() {
        return base.size() * k;
    }

    @Override
    public int degree() {
        return base.degree();
    }

    @Override
    public int prefixSize(int degree) {
        return base.prefixSize(degree) * k;
    }

    @Override
    public void evaluate(double[] z, int n, double[] out) {
        evaluate(z, n, null, out);
    }

    @Override
    public GaussianMixture gates() {
        return gates;
    }

    @Override
    public void evaluate(double[] z, int n, double[] gatePosteriors, double[] out) {
        double[] post = gatePosteriors;
        if (post == null) {
            post = new double[n * k];
            gates.posteriors(z, n, post);
        }
        int pb = base.size();
        int p = pb * k;
        // Base features in chunks of CHUNK rows: a scratch of the whole block's base features cost as much
        // as the products (zeroing and collecting a large array per call).
        int chunk = Math.min(n, CHUNK);
        double[] zc = new double[chunk * d];
        double[] phi = new double[chunk * pb];
        for (int start = 0; start < n; start += CHUNK) {
            int m = Math.min(CHUNK, n - start);
            System.arraycopy(z, start * d, zc, 0, m * d);
            base.evaluate(zc, m, phi);
            // m x pb base features times m x k posteriors -> m x (pb k), base-feature-major within a row;
            // four components per sweep keep the posteriors in registers (k = 4 is one sweep).
            for (int j = 0; j < m; j++) {
                int o = (start + j) * p;
                int bo = j * pb;
                int po = (start + j) * k;
                int i = 0;
                for (; i + 4 <= k; i += 4) {
                    double p0 = post[po + i];
                    double p1 = post[po + i + 1];
                    double p2 = post[po + i + 2];
                    double p3 = post[po + i + 3];
                    for (int a = 0; a < pb; a++) {
                        double f = phi[bo + a];
                        int oa = o + a * k + i;
                        out[oa] = f * p0;
                        out[oa + 1] = f * p1;
                        out[oa + 2] = f * p2;
                        out[oa + 3] = f * p3;
                    }
                }
                for (; i < k; i++) {
                    double pi = post[po + i];
                    for (int a = 0; a < pb; a++) {
                        out[o + a * k + i] = phi[bo + a] * pi;
                    }
                }
            }
        }
    }

    /**
     * Column-wise: column {@code a * k + i} is base column a times posterior column i, the base columns from
     * the base map's column source over runs of rows and the posteriors transposed once per run.
     */
    @Override
    public void evaluateColumns(double[] z, int n, double[] gatePosteriors, double[] out, int ld) {
        FeatureColumns.checkLeading(n, ld);
        if (n == 0) {
            return;
        }
        double[] post = gatePosteriors;
        if (post == null) {
            post = new double[n * k];
            gates.posteriors(z, n, post);
        }
        int rows = Math.min(n, FeatureColumns.ROWS);
        FeatureColumns.Source source = FeatureColumns.source(base, rows);
        double[][] postColumns = new double[k][rows];
        double[] product = new double[rows];
        for (int start = 0; start < n; start += rows) {
            int m = Math.min(rows, n - start);
            // m x k row-major -> k columns of m.
            for (int i = 0; i < k; i++) {
                double[] pc = postColumns[i];
                for (int j = 0, o = start * k + i; j < m; j++, o += k) {
                    pc[j] = post[o];
                }
            }
            int at = start;
            source.columns(z, null, start, m, (a, f) -> {
                for (int i = 0; i < k; i++) {
                    FeatureColumns.product(f, postColumns[i], product, m);
                    System.arraycopy(product, 0, out, (a * k + i) * ld + at, m);
                }
            });
        }
    }

    @Override
    public void divergence(double[] z, int n, double[] beta, int rows, double[] out) {
        int pb = base.size();
        int baseRows = rows / k;
        double[] phi = new double[n * pb];
        double[] post = new double[n * k];
        base.evaluate(z, n, phi);
        gates.posteriors(z, n, post);
        // Per component i: beta_i[a][r] = beta[(a*k + i)][r]; div(pi_i * beta_i^T phi)
        //   = pi_i div(beta_i^T phi) + (grad pi_i) . (beta_i^T phi).
        double[] betaI = new double[baseRows * d];
        double[] divI = new double[n];
        double[] g = new double[k * d];
        double[] gbar = new double[d];
        java.util.Arrays.fill(out, 0, n, 0.0);
        for (int i = 0; i < k; i++) {
            for (int a = 0; a < baseRows; a++) {
                System.arraycopy(beta, (a * k + i) * d, betaI, a * d, d);
            }
            base.divergence(z, n, betaI, baseRows, divI);
            for (int j = 0; j < n; j++) {
                out[j] += post[j * k + i] * divI[j];
            }
        }
        for (int j = 0; j < n; j++) {
            java.util.Arrays.fill(gbar, 0.0);
            for (int i = 0; i < k; i++) {
                double[] pr = precision[i];
                for (int r = 0; r < d; r++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s -= pr[r * d + c] * (z[j * d + c] - means[i][c]);
                    }
                    g[i * d + r] = s;
                    gbar[r] += post[j * k + i] * s;
                }
            }
            double s = 0;
            for (int i = 0; i < k; i++) {
                double pi = post[j * k + i];
                for (int r = 0; r < d; r++) {
                    double v = 0;
                    for (int a = 0; a < baseRows; a++) {
                        v += beta[(a * k + i) * d + r] * phi[j * pb + a];
                    }
                    s += pi * (g[i * d + r] - gbar[r]) * v;
                }
            }
            out[j] += s;
        }
    }
}
