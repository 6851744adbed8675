package io.scoremix.core.metrics;

import io.scoremix.core.mixture.DensityModel;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

/**
 * Monte Carlo total variation and KL to the standard normal (ALGORITHM.md section 7), in blocks.
 *
 * <p>Implementation notes. {@code TV(p, q) = int (p - q)_+ = E_{x~p}[(1 - q(x)/p(x))_+]}; in log space the
 * integrand is {@code f = 1 - exp(min(0, log q - log p))}, which lies in [0, 1], so its variance is at most
 * 1/4 (Popoviciu's inequality): the reported standard error is {@code sqrt(min(s^2, 1/4) / n)} with s^2
 * the unbiased sample variance, and never exceeds {@code 0.5 / sqrt(n)}. Point j of the run is drawn
 * with counter j of the caller's stream, so a run is reproducible and independent of the block size.
 */
final class MonteCarloTv {

    static final int BLOCK = 4096;
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private MonteCarloTv() {
    }

    static Estimate tv(DensityModel p, DensityModel q, long samples, CounterRandom rng, long stream) {
        if (p.dimension() != q.dimension()) {
            throw new IllegalArgumentException("p has dimension " + p.dimension() + " but q has dimension "
                    + q.dimension());
        }
        if (samples < 2) {
            throw new IllegalArgumentException("Monte Carlo TV needs at least 2 samples, got " + samples);
        }
        int d = p.dimension();
        int block = (int) Math.min(BLOCK, samples);
        double[] x = new double[block * d];
        double[] lp = new double[block];
        double[] lq = new double[block];
        MeanAccumulator acc = new MeanAccumulator();
        for (long start = 0; start < samples; start += block) {
            int m = (int) Math.min(block, samples - start);
            p.sample(rng, stream, start, m, x);
            p.logDensity(x, m, lp);
            q.logDensity(x, m, lq);
            for (int j = 0; j < m; j++) {
                acc.add(tvIntegrand(lp[j], lq[j]));
            }
        }
        double variance = Math.min(acc.variance(), 0.25);
        return new Estimate(acc.mean(), Math.sqrt(variance / samples), samples);
    }

    /**
     * {@code (1 - q/p)_+} from log-densities. A point where q vanishes contributes 1; where both vanish
     * (NaN difference, only possible through underflow far in the tails) it counts 1, the conservative
     * choice for an upper-bound use.
     */
    static double tvIntegrand(double logP, double logQ) {
        double diff = logQ - logP;
        if (Double.isNaN(diff)) {
            return 1.0;
        }
        return diff >= 0 ? 0.0 : -Math.expm1(diff);
    }

    /**
     * KL(q || N(0, I)) = E_{x~q}[log q(x) - log phi(x)], with the sample standard error. Not bounded like
     * TV: its standard error is the plain {@code s / sqrt(n)}.
     */
    static Estimate klToStandardNormal(DensityModel q, long samples, CounterRandom rng, long stream) {
        if (samples < 2) {
            throw new IllegalArgumentException("Monte Carlo KL needs at least 2 samples, got " + samples);
        }
        int d = q.dimension();
        int block = (int) Math.min(BLOCK, samples);
        double[] x = new double[block * d];
        double[] lq = new double[block];
        MeanAccumulator acc = new MeanAccumulator();
        for (long start = 0; start < samples; start += block) {
            int m = (int) Math.min(block, samples - start);
            q.sample(rng, stream, start, m, x);
            q.logDensity(x, m, lq);
            for (int j = 0; j < m; j++) {
                int o = j * d;
                double sq = 0;
                for (int r = 0; r < d; r++) {
                    sq += x[o + r] * x[o + r];
                }
                acc.add(lq[j] + 0.5 * (sq + d * LOG_2PI));
            }
        }
        return acc.estimate();
    }

    /**
     * The convexity bound {@code KL(sum_i lambda_i N(m_i, S_i) || N(0, I)) <= sum_i lambda_i KL_i} with
     * {@code KL_i = 1/2 (tr S_i - d - log det S_i + ||m_i||^2)}.
     *
     * <p>Each {@code tr S - d - log det S} is summed as {@code sum_r (e_r - log1p(e_r)) + c_r} over the
     * Cholesky pivots {@code u_r = 1 + e_r = S_rr - c_r}, {@code c_r = sum_{m<r} L_rm^2}: every term is
     * non-negative, and nothing of size 1 is cancelled when S is close to I (large T).
     */
    static double klBoundToStandardNormal(GaussianMixture q) {
        int d = q.dimension();
        int k = q.components();
        double total = 0;
        double[] l = new double[d * d];
        for (int i = 0; i < k; i++) {
            double[][] s = q.covariance(i);
            double[] m = q.mean(i);
            double sum = 0;
            for (int r = 0; r < d; r++) {
                sum += m[r] * m[r];
            }
            // Cholesky-Banachiewicz with the pivot kept as 1 + e_r (row-major d x d).
            for (int r = 0; r < d; r++) {
                int rr = r * d;
                for (int c = 0; c < r; c++) {
                    int rc = c * d;
                    double v = s[r][c];
                    for (int j = 0; j < c; j++) {
                        v -= l[rr + j] * l[rc + j];
                    }
                    l[rr + c] = v / l[rc + c];
                }
                double cr = 0;
                for (int j = 0; j < r; j++) {
                    cr += l[rr + j] * l[rr + j];
                }
                double e = (s[r][r] - 1.0) - cr;
                if (!(e > -1.0)) {
                    throw new IllegalArgumentException("component " + i + ": covariance is not positive definite");
                }
                l[rr + r] = Math.sqrt(1.0 + e);
                sum += (e - Math.log1p(e)) + cr;
            }
            total += q.weight(i) * 0.5 * sum;
        }
        return total;
    }
}
