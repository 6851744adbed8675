package io.scoremix.core.mixture;

import io.scoremix.core.random.CounterRandom;

/**
 * The subspaces of the paper's initialisation ({@link CrudeMixtureConfig.Initialisation#PAPER_SUBSPACE};
 * CKS Algorithm 2, practical reading documented in {@link CrudeMixture}) and clustering in them.
 *
 * <p>A basis is returned as q x d rows (orthonormal); an empty array means the whole space (q = d), in
 * which projecting is a rotation and k-means runs on the rows themselves.
 */
final class PaperSubspace {

    private PaperSubspace() {
    }

    /**
     * The top-q eigenvectors of the weighted uncentred second moment {@code sum w x x^T / sum w}
     * (CKS Algorithm 2's M_hat).
     */
    static double[] topSecondMoment(double[] x, double[] w, int n, int d, int q) {
        if (q >= d) {
            return new double[0];
        }
        double[] m = new double[d * d];
        double total = 0;
        for (int j = 0; j < n; j++) {
            double wj = w == null ? 1.0 : w[j];
            if (wj == 0) {
                continue;
            }
            total += wj;
            int xr = j * d;
            for (int r = 0; r < d; r++) {
                double a = wj * x[xr + r];
                int mr = r * d;
                for (int c = r; c < d; c++) {
                    m[mr + c] += a * x[xr + c];
                }
            }
        }
        symmetrise(m, d, 1.0 / total);
        double[] values = new double[d];
        double[] vectors = new double[d * d];
        EigenFloor.decompose(m, d, values, vectors);
        double[] basis = new double[q * d];
        // Ascending eigenvalues: the top q are the last q rows.
        System.arraycopy(vectors, (d - q) * d, basis, 0, q * d);
        return basis;
    }

    /**
     * The q eigenvectors of {@code sum w ||z||^2 z z^T / sum w} whose eigenvalues are furthest from
     * d + 2, their common value when z is standard Gaussian: the most non-Gaussian directions of
     * whitened data.
     */
    static double[] fourthMomentDirections(double[] z, double[] w, int n, int d, int q) {
        if (q >= d) {
            return new double[0];
        }
        double[] m = new double[d * d];
        double total = 0;
        for (int j = 0; j < n; j++) {
            double wj = w == null ? 1.0 : w[j];
            if (wj == 0) {
                continue;
            }
            total += wj;
            int zr = j * d;
            double norm2 = 0;
            for (int r = 0; r < d; r++) {
                norm2 += z[zr + r] * z[zr + r];
            }
            double f = wj * norm2;
            for (int r = 0; r < d; r++) {
                double a = f * z[zr + r];
                int mr = r * d;
                for (int c = r; c < d; c++) {
                    m[mr + c] += a * z[zr + c];
                }
            }
        }
        symmetrise(m, d, 1.0 / total);
        double[] values = new double[d];
        double[] vectors = new double[d * d];
        EigenFloor.decompose(m, d, values, vectors);
        boolean[] taken = new boolean[d];
        double[] basis = new double[q * d];
        for (int a = 0; a < q; a++) {
            int pick = -1;
            double dev = -1;
            for (int c = 0; c < d; c++) {
                double v = Math.abs(values[c] - (d + 2));
                if (!taken[c] && v > dev) {
                    dev = v;
                    pick = c;
                }
            }
            taken[pick] = true;
            System.arraycopy(vectors, pick * d, basis, a * d, d);
        }
        return basis;
    }

    /**
     * Labels from k-means (k-means++ seeded, then Lloyd) on the projections of the rows onto the basis
     * (q x d rows; empty for the whole space): each row goes to the centre nearest to its projection
     * (CKS eq. 9's recentering map).
     */
    static int[] cluster(double[] x, double[] w, int n, int d, double[] basis, int k, CounterRandom rng, long stream) {
        if (basis.length == 0) {
            return CrudeMixture.cluster(x, w, n, d, k, true, rng, stream);
        }
        int q = basis.length / d;
        double[] y = new double[n * q];
        // y (n x q) = x (n x d) basis^T.
        for (int j = 0; j < n; j++) {
            int xr = j * d;
            int yr = j * q;
            for (int a = 0; a < q; a++) {
                int br = a * d;
                double s = 0;
                for (int r = 0; r < d; r++) {
                    s += x[xr + r] * basis[br + r];
                }
                y[yr + a] = s;
            }
        }
        return CrudeMixture.cluster(y, w, n, q, k, true, rng, stream);
    }

    // Upper triangle (row-major) times scale, mirrored to the lower.
    private static void symmetrise(double[] m, int d, double scale) {
        for (int r = 0; r < d; r++) {
            for (int c = r; c < d; c++) {
                double v = m[r * d + c] * scale;
                m[r * d + c] = v;
                m[c * d + r] = v;
            }
        }
    }
}
