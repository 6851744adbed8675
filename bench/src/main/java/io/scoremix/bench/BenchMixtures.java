package io.scoremix.bench;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

/** Reproducible random mixtures for kernels: means N(0, 4 I), covariances A A^T / d + 0.1 I. */
final class BenchMixtures {

    private BenchMixtures() {
    }

    static GaussianMixture random(int d, int k, long seed) {
        CounterRandom rng = CounterRandom.of(seed);
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[][][] q = new double[k][d][d];
        double[] a = new double[d * d];
        for (int i = 0; i < k; i++) {
            w[i] = 1.0 / k;
            rng.fillGaussian(CounterRandom.stream(i, 0), 0, mu[i], 0, d);
            for (int r = 0; r < d; r++) {
                mu[i][r] *= 2;
            }
            rng.fillGaussian(CounterRandom.stream(i, 1), 0, a, 0, d * d);
            for (int r = 0; r < d; r++) {
                for (int c = 0; c < d; c++) {
                    double s = 0;
                    for (int m = 0; m < d; m++) {
                        s += a[r * d + m] * a[c * d + m];
                    }
                    q[i][r][c] = s / d + (r == c ? 0.1 : 0);
                }
            }
        }
        return GaussianMixture.of(w, mu, q);
    }
}
