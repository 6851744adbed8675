package io.scoremix.core.features;

/**
 * The paper's class: all monomials of total degree {@code <= l} in standardised coordinates
 * {@code u = (z - center) / scale} (per coordinate), in the probabilists' Hermite basis for conditioning;
 * {@code C(d + l, l)} features in graded order (ALGORITHM.md section 4.4).
 */
final class MonomialFeatures implements FeatureMap {

    private final int d;
    private final double[] center;
    private final double[] invScale;
    private final double[] scale;
    private final HermiteBasis basis;

    MonomialFeatures(double[] center, double[] scale, int degree) {
        if (center.length != scale.length) {
            throw new IllegalArgumentException("center has length " + center.length + " but scale has length "
                    + scale.length);
        }
        this.d = center.length;
        this.center = center.clone();
        this.invScale = new double[d];
        for (int r = 0; r < d; r++) {
            if (!(scale[r] > 0) || !Double.isFinite(scale[r])) {
                throw new IllegalArgumentException("scale[" + r + "] must be positive and finite, got " + scale[r]);
            }
            if (!Double.isFinite(center[r])) {
                throw new IllegalArgumentException("center[" + r + "] is not finite (" + center[r] + ")");
            }
            invScale[r] = 1.0 / scale[r];
        }
        this.scale = scale.clone();
        this.basis = new HermiteBasis(d, degree);
    }

    @Override
    public FeatureSpec spec() {
        return new FeatureSpec(FeatureSpec.MONOMIAL, basis.degree, center, scale);
    }

    @Override
    public int inputDimension() {
        return d;
    }

    @Override
    public int size() {
        return basis.size;
    }

    @Override
    public int degree() {
        return basis.degree;
    }

    @Override
    public int prefixSize(int degree) {
        return basis.prefix[degree];
    }

    @Override
    public void evaluate(double[] z, int n, double[] out) {
        double[] u = new double[d];
        double[] table = new double[d * (basis.degree + 1)];
        int p = basis.size;
        for (int j = 0; j < n; j++) {
            standardise(z, j, u);
            basis.univariate(u, 0, table);
            basis.terms(table, out, j * p);
        }
    }

    /** Column-wise: each coordinate standardised into a column, then the Hermite terms over columns. */
    @Override
    public void evaluateColumns(double[] z, int n, double[] gatePosteriors, double[] out, int ld) {
        FeatureColumns.evaluate(this, z, n, null, out, ld);
    }

    /** The column source of {@link FeatureColumns#source}, with scratch for runs of up to {@code rows} rows. */
    FeatureColumns.Source columnSource(int rows) {
        HermiteBasis.Columns cols = basis.new Columns(rows);
        return (z, post, start, m, sink) -> {
            if (basis.degree >= 1) {
                for (int r = 0; r < d; r++) {
                    // Same operations as standardise(..): (z - center) * (1 / scale).
                    double[] u = cols.input(r);
                    double c = center[r];
                    double s = invScale[r];
                    for (int j = 0, o = start * d + r; j < m; j++, o += d) {
                        u[j] = (z[o] - c) * s;
                    }
                }
            }
            basis.termColumns(cols, m, sink);
        };
    }

    @Override
    public void divergence(double[] z, int n, double[] beta, int rows, double[] out) {
        double[] u = new double[d];
        double[] table = new double[d * (basis.degree + 1)];
        for (int j = 0; j < n; j++) {
            standardise(z, j, u);
            basis.univariate(u, 0, table);
            double s = 0;
            // d phi_a / d z_r = (1 / scale_r) d phi_a / d u_r.
            for (int a = 1; a < rows; a++) {
                for (int r = 0; r < d; r++) {
                    double b = beta[a * d + r];
                    if (b != 0) {
                        s += b * invScale[r] * basis.partial(table, a, r);
                    }
                }
            }
            out[j] = s;
        }
    }

    private void standardise(double[] z, int j, double[] u) {
        int o = j * d;
        for (int r = 0; r < d; r++) {
            u[r] = (z[o + r] - center[r]) * invScale[r];
        }
    }
}
