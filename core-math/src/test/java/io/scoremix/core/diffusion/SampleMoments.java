package io.scoremix.core.diffusion;

/**
 * Sample mean and covariance of n points in R^d with their Monte Carlo standard errors, estimated from
 * the same sample: {@code se(mean_r) = sqrt(C_rr / n)} and
 * {@code se(C_rs) = sqrt(Var[(x_r - m_r)(x_s - m_s)] / n)} (the delta-method error of a sample
 * covariance; exact to O(1/n)).
 */
final class SampleMoments {

    final int d;
    final int n;
    final double[] mean;
    final double[] cov;      // d x d row-major
    final double[] meanSe;
    final double[] covSe;    // d x d row-major

    SampleMoments(double[] x, int n, int d) {
        this.d = d;
        this.n = n;
        mean = new double[d];
        cov = new double[d * d];
        meanSe = new double[d];
        covSe = new double[d * d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                mean[r] += x[j * d + r];
            }
        }
        for (int r = 0; r < d; r++) {
            mean[r] /= n;
        }
        double[] sq = new double[d * d];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < d; r++) {
                double a = x[j * d + r] - mean[r];
                for (int s = 0; s < d; s++) {
                    double p = a * (x[j * d + s] - mean[s]);
                    cov[r * d + s] += p;
                    sq[r * d + s] += p * p;
                }
            }
        }
        for (int i = 0; i < d * d; i++) {
            cov[i] /= n;
            covSe[i] = Math.sqrt(Math.max(0, sq[i] / n - cov[i] * cov[i]) / n);
        }
        for (int r = 0; r < d; r++) {
            meanSe[r] = Math.sqrt(cov[r * d + r] / n);
        }
    }

    /** The largest |mean - expected| in standard errors. */
    double meanZ(double[] expected) {
        double z = 0;
        for (int r = 0; r < d; r++) {
            z = Math.max(z, Math.abs(mean[r] - expected[r]) / meanSe[r]);
        }
        return z;
    }

    /** The largest |cov - expected| in standard errors, expected d x d row-major. */
    double covZ(double[] expected) {
        double z = 0;
        for (int i = 0; i < d * d; i++) {
            z = Math.max(z, Math.abs(cov[i] - expected[i]) / covSe[i]);
        }
        return z;
    }

    /** The largest |mean - expected|. */
    double meanError(double[] expected) {
        double e = 0;
        for (int r = 0; r < d; r++) {
            e = Math.max(e, Math.abs(mean[r] - expected[r]));
        }
        return e;
    }

    /** The largest |cov - expected|. */
    double covError(double[] expected) {
        double e = 0;
        for (int i = 0; i < d * d; i++) {
            e = Math.max(e, Math.abs(cov[i] - expected[i]));
        }
        return e;
    }
}
