package io.scoremix.core.features;

/**
 * The common shape of the softmax and projected families (ALGORITHM.md section 4.4): Hermite monomials
 * {@code h_a(v)} of degree {@code <= l} in q standardised inner variables {@code v(z)} (log-likelihood
 * ratios, or projections), each times {@code (1, u_1 .. u_d)} with {@code u = (z - center) / scale}.
 * Feature {@code a * (d + 1) + b} is {@code h_a(v) e_b} with {@code e_0 = 1, e_b = u_{b-1}}: inner-monomial
 * major, so the features of inner degree {@code <= l} are a prefix of {@code (d + 1) C(q + l, l)} entries.
 * With q = 0 there is one inner monomial (the constant) and the map is the affine {@code (1, u)}.
 *
 * <p>Implementation notes. Standardising z changes nothing the fit can represent (span{1, u} = span{1, z})
 * but keeps the Gram matrix well conditioned. The divergence of {@code f = beta^T phi} is, per point,
 * <pre>
 *   sum_a sum_k dHe_a/dv_k (grad v_k . V_a)  +  sum_a h_a sum_{b >= 1} beta[a(d+1)+b][b-1] / scale_{b-1}
 * </pre>
 * with {@code V_a = sum_b beta[a(d+1)+b] e_b} (a d-vector) and {@code grad v_k} from the subclass.
 */
abstract class InnerTimesAffineFeatures implements FeatureMap {

    final int d;
    final int q;
    final int degree;
    final double[] center;
    final double[] scale;
    final double[] invScale;
    /** Hermite basis in the q inner variables, or null when q = 0. */
    final HermiteBasis basis;
    final int innerSize;

    InnerTimesAffineFeatures(double[] center, double[] scale, int q, int degree) {
        if (center.length != scale.length) {
            throw new IllegalArgumentException("center has length " + center.length + " but scale has length "
                    + scale.length);
        }
        if (degree < 0) {
            throw new IllegalArgumentException("degree must be non-negative, got " + degree);
        }
        this.d = center.length;
        this.q = q;
        this.degree = degree;
        this.center = center.clone();
        this.scale = scale.clone();
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
        this.basis = q == 0 ? null : new HermiteBasis(q, degree);
        this.innerSize = q == 0 ? 1 : basis.size;
    }

    /**
     * The standardised inner variables of n points.
     *
     * @param v receives n x q values; modified
     */
    abstract void inner(double[] z, int n, double[] v);

    /**
     * The gradients {@code grad v_k(z)} of the inner variables at point j.
     *
     * @param grad receives q x d values (row k is grad v_k); modified
     */
    abstract void innerGradients(double[] z, int j, double[] grad);

    @Override
    public int inputDimension() {
        return d;
    }

    @Override
    public int size() {
        return (d + 1) * innerSize;
    }

    @Override
    public int degree() {
        return degree;
    }

    @Override
    public int prefixSize(int degree) {
        if (degree < 0 || degree > this.degree) {
            throw new IllegalArgumentException("degree must lie in 0.." + this.degree + ", got " + degree);
        }
        return (d + 1) * (q == 0 ? 1 : basis.prefix[degree]);
    }

    @Override
    public void evaluate(double[] z, int n, double[] out) {
        double[] v = new double[n * q];
        inner(z, n, v);
        double[] table = new double[Math.max(1, q * (degree + 1))];
        double[] h = new double[innerSize];
        int p = size();
        int w = d + 1;
        for (int j = 0; j < n; j++) {
            innerTerms(v, j, table, h);
            int o = j * p;
            int zo = j * d;
            // out row j: innerSize blocks of (1, u_1 .. u_d).
            for (int a = 0; a < innerSize; a++) {
                double ha = h[a];
                int ao = o + a * w;
                out[ao] = ha;
                for (int r = 0; r < d; r++) {
                    out[ao + 1 + r] = ha * (z[zo + r] - center[r]) * invScale[r];
                }
            }
        }
    }

    private void innerTerms(double[] v, int j, double[] table, double[] h) {
        if (q == 0) {
            h[0] = 1.0;
            return;
        }
        basis.univariate(v, j * q, table);
        basis.terms(table, h, 0);
    }

    @Override
    public void divergence(double[] z, int n, double[] beta, int rows, double[] out) {
        double[] v = new double[n * q];
        inner(z, n, v);
        double[] table = new double[Math.max(1, q * (degree + 1))];
        double[] h = new double[innerSize];
        double[] u = new double[d];
        double[] va = new double[d];
        double[] grad = new double[q * d];
        int w = d + 1;
        int blocks = (rows + w - 1) / w;
        for (int j = 0; j < n; j++) {
            innerTerms(v, j, table, h);
            if (q > 0) {
                innerGradients(z, j, grad);
            }
            for (int r = 0; r < d; r++) {
                u[r] = (z[j * d + r] - center[r]) * invScale[r];
            }
            double s = 0;
            for (int a = 0; a < blocks; a++) {
                int first = a * w;
                int last = Math.min(rows, first + w);
                // V_a = sum_b beta[a(d+1)+b] e_b, and the e_b-derivative term.
                java.util.Arrays.fill(va, 0.0);
                double affine = 0;
                for (int row = first; row < last; row++) {
                    int b = row - first;
                    int bo = row * d;
                    double e = b == 0 ? 1.0 : u[b - 1];
                    for (int r = 0; r < d; r++) {
                        va[r] += beta[bo + r] * e;
                    }
                    if (b > 0) {
                        affine += beta[bo + b - 1] * invScale[b - 1];
                    }
                }
                s += h[a] * affine;
                if (q == 0 || a == 0) {
                    continue;
                }
                for (int k = 0; k < q; k++) {
                    double dh = basis.partial(table, a, k);
                    if (dh == 0) {
                        continue;
                    }
                    double dot = 0;
                    for (int r = 0; r < d; r++) {
                        dot += grad[k * d + r] * va[r];
                    }
                    s += dh * dot;
                }
            }
            out[j] = s;
        }
    }
}
