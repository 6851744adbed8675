package io.scoremix.core.features;

import io.scoremix.core.linalg.Cholesky;
import io.scoremix.core.mixture.GaussianMixture;

/**
 * The softmax family (the shape of CKS Lemma 43/45, ALGORITHM.md section 4.4): Hermite monomials of degree
 * {@code <= D} in the m - 1 centred log-likelihood ratios of a cell's m components, each times
 * {@code (1, u_1 .. u_d)}: {@code (d + 1) C(m - 1 + D, D)} features, linear in d.
 *
 * <p>Implementation notes. With component 0 of the cell's (noised) sub-mixture as reference and
 * {@code P_i = S_i^{-1}}, the ratios are (PAPER-NOTES.md section 4.5)
 * <pre>
 *   r_j(z) = -1/2 ||z - mu_j||^2_{P_j} + 1/2 ||z - mu_0||^2_{P_0} + 1/2 &lt;S_0, P_j - P_0&gt;,   j = 1 .. m-1
 * </pre>
 * The sub-mixture's score is {@code sum_i w_i(z) g_i(z)} with {@code g_i = -P_i (z - mu_i)} linear and
 * {@code w = softmax(r + theta)}: polynomials in r times (1, z) approximate it (Lemma 43). Each r_j is
 * standardised, {@code v_j = (r_j - E r_j) / sd(r_j)}, with its mean and standard deviation under the
 * cell's sub-mixture in closed form: writing {@code r_j = 1/2 z^T A z + b^T z + c} with
 * {@code A = P_0 - P_j}, under {@code N(mu_i, S_i)} the mean is {@code r_j(mu_i) + 1/2 tr(A S_i)} and the
 * variance {@code 1/2 tr(A S_i A S_i) + grad r_j(mu_i)^T S_i grad r_j(mu_i)}; the mixture's moments follow
 * by the law of total variance. A ratio with zero spread (identical components) keeps scale 1. The span
 * of the features depends neither on the reference component nor on the centring (an affine change of
 * the r's maps degree-D polynomials onto themselves); the standardisation is for conditioning only.
 * {@code grad r_j = g_j - g_0}.
 */
final class SoftmaxFeatures extends InnerTimesAffineFeatures {

    private final GaussianMixture cell;
    private final int m;
    private final double[] means;       // m x d
    private final double[] precision;   // m x d x d
    private final double[] ratioConst;  // m - 1: 1/2 <S_0, P_j - P_0>
    private final double[] ratioCenter;
    private final double[] ratioScale;
    private final double[] invRatioScale;

    /**
     * @param ratioCenter the m - 1 means of the ratios, or null to compute them from {@code cell}
     * @param ratioScale  the m - 1 standard deviations, or null to compute them
     */
    SoftmaxFeatures(GaussianMixture cell, double[] center, double[] scale, int degree, double[] ratioCenter,
                    double[] ratioScale) {
        super(center, scale, cell.components() - 1, degree);
        if (cell.dimension() != center.length) {
            throw new IllegalArgumentException("the cell mixture has dimension " + cell.dimension()
                    + " but the standardisation has dimension " + center.length);
        }
        this.cell = cell;
        this.m = cell.components();
        int dd = d * d;
        this.means = new double[m * d];
        this.precision = new double[m * dd];
        double[][] covs = new double[m][];
        for (int i = 0; i < m; i++) {
            System.arraycopy(cell.mean(i), 0, means, i * d, d);
            covs[i] = flat(cell.covariance(i), d);
            invert(covs[i], d, precision, i * dd);
        }
        this.ratioConst = new double[q];
        for (int j = 1; j < m; j++) {
            // 1/2 <S_0, P_j - P_0> = 1/2 (tr(S_0 P_j) - d).
            double tr = 0;
            for (int a = 0; a < dd; a++) {
                tr += covs[0][a] * precision[j * dd + a];
            }
            ratioConst[j - 1] = 0.5 * (tr - d);
        }
        if (ratioCenter == null || ratioScale == null) {
            ratioCenter = new double[q];
            ratioScale = new double[q];
            moments(covs, ratioCenter, ratioScale);
        }
        if (ratioCenter.length != q || ratioScale.length != q) {
            throw new IllegalArgumentException("a cell of " + m + " components has " + q + " ratios, but "
                    + ratioCenter.length + " centres and " + ratioScale.length + " scales are given");
        }
        this.ratioCenter = ratioCenter.clone();
        this.ratioScale = ratioScale.clone();
        this.invRatioScale = new double[q];
        for (int k = 0; k < q; k++) {
            if (!(ratioScale[k] > 0) || !Double.isFinite(ratioScale[k]) || !Double.isFinite(ratioCenter[k])) {
                throw new IllegalArgumentException("ratio " + (k + 1) + ": centre " + ratioCenter[k] + " and scale "
                        + ratioScale[k] + " must be finite with a positive scale");
            }
            invRatioScale[k] = 1.0 / ratioScale[k];
        }
    }

    private static double[] flat(double[][] a, int d) {
        double[] f = new double[d * d];
        for (int r = 0; r < d; r++) {
            System.arraycopy(a[r], 0, f, r * d, d);
        }
        return f;
    }

    /** out[off ..] = a^{-1} for a symmetric positive definite d x d a (Cholesky, column by column). */
    static void invert(double[] a, int d, double[] out, int off) {
        double[] l = new double[d * d];
        if (Cholesky.factor(a, d, l) != Cholesky.OK) {
            throw new IllegalArgumentException("a covariance of the cell is not positive definite");
        }
        double[] e = new double[d];
        for (int col = 0; col < d; col++) {
            java.util.Arrays.fill(e, 0.0);
            e[col] = 1;
            Cholesky.solve(l, d, e);
            for (int r = 0; r < d; r++) {
                out[off + r * d + col] = e[r];
            }
        }
    }

    /** Mean and standard deviation of every r_j under the cell's sub-mixture, in closed form. */
    private void moments(double[][] covs, double[] mean, double[] sd) {
        int dd = d * d;
        double[] a = new double[dd];
        double[] as = new double[dd];
        double[] r = new double[q];
        double[] grad = new double[q * d];
        for (int j = 1; j < m; j++) {
            for (int x = 0; x < dd; x++) {
                a[x] = precision[x] - precision[j * dd + x];
            }
            double second = 0;
            double m1 = 0;
            for (int i = 0; i < m; i++) {
                double wi = cell.weight(i);
                double[] s = covs[i];
                // as = A S_i (d x d row-major); tr(A S_i) and tr(A S_i A S_i).
                for (int x = 0; x < d; x++) {
                    for (int y = 0; y < d; y++) {
                        double v = 0;
                        for (int t = 0; t < d; t++) {
                            v += a[x * d + t] * s[t * d + y];
                        }
                        as[x * d + y] = v;
                    }
                }
                double tr1 = 0;
                double tr2 = 0;
                for (int x = 0; x < d; x++) {
                    tr1 += as[x * d + x];
                    for (int y = 0; y < d; y++) {
                        tr2 += as[x * d + y] * as[y * d + x];
                    }
                }
                ratios(means, i * d, r);
                gradients(means, i * d, grad);
                // grad r_j(mu_i)^T S_i grad r_j(mu_i).
                int go = (j - 1) * d;
                double quad = 0;
                for (int x = 0; x < d; x++) {
                    double v = 0;
                    for (int y = 0; y < d; y++) {
                        v += s[x * d + y] * grad[go + y];
                    }
                    quad += grad[go + x] * v;
                }
                double mi = r[j - 1] + 0.5 * tr1;
                double vi = 0.5 * tr2 + quad;
                m1 += wi * mi;
                second += wi * (vi + mi * mi);
            }
            double var = second - m1 * m1;
            mean[j - 1] = m1;
            // Relative floor: a spread below rounding of the second moment is no spread.
            sd[j - 1] = var > 1e-24 * Math.max(1.0, second) ? Math.sqrt(var) : 1.0;
        }
    }

    /** The raw ratios r_1 .. r_{m-1} at the point z[off .. off + d). */
    private void ratios(double[] z, int off, double[] r) {
        int dd = d * d;
        double[] maha = new double[m];
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int x = 0; x < d; x++) {
                double ex = z[off + x] - means[i * d + x];
                double v = 0;
                for (int y = 0; y < d; y++) {
                    v += precision[i * dd + x * d + y] * (z[off + y] - means[i * d + y]);
                }
                s += ex * v;
            }
            maha[i] = s;
        }
        for (int j = 1; j < m; j++) {
            r[j - 1] = -0.5 * maha[j] + 0.5 * maha[0] + ratioConst[j - 1];
        }
    }

    /** Rows k = 0 .. m-2 of grad: {@code grad r_{k+1} = g_{k+1} - g_0} at z[off ..], unscaled. */
    private void gradients(double[] z, int off, double[] grad) {
        int dd = d * d;
        double[] g0 = new double[d];
        for (int x = 0; x < d; x++) {
            double v = 0;
            for (int y = 0; y < d; y++) {
                v -= precision[x * d + y] * (z[off + y] - means[y]);
            }
            g0[x] = v;
        }
        for (int j = 1; j < m; j++) {
            int go = (j - 1) * d;
            for (int x = 0; x < d; x++) {
                double v = 0;
                for (int y = 0; y < d; y++) {
                    v -= precision[j * dd + x * d + y] * (z[off + y] - means[j * d + y]);
                }
                grad[go + x] = v - g0[x];
            }
        }
    }

    @Override
    void inner(double[] z, int n, double[] v) {
        if (q == 0) {
            return;
        }
        // Squared Mahalanobis distances on the block through the mixture's BLAS-3 kernel.
        double[] maha = new double[n * m];
        cell.mahalanobis2(z, n, maha);
        for (int j = 0; j < n; j++) {
            int mo = j * m;
            for (int k = 0; k < q; k++) {
                double r = -0.5 * maha[mo + k + 1] + 0.5 * maha[mo] + ratioConst[k];
                v[j * q + k] = (r - ratioCenter[k]) * invRatioScale[k];
            }
        }
    }

    @Override
    void innerGradients(double[] z, int j, double[] grad) {
        gradients(z, j * d, grad);
        for (int k = 0; k < q; k++) {
            for (int x = 0; x < d; x++) {
                grad[k * d + x] *= invRatioScale[k];
            }
        }
    }

    @Override
    public FeatureSpec spec() {
        return new FeatureSpec(FeatureSpec.SOFTMAX, degree, center, scale, new double[0], ratioCenter, ratioScale);
    }
}
