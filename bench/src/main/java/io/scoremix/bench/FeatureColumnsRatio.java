package io.scoremix.bench;

import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code java -cp bench/target/benchmarks.jar io.scoremix.bench.FeatureColumnsRatio [--rounds 20] [--rows 512]}:
 * CPU nanoseconds per row of {@link FeatureMap#evaluate(double[], int, double[], double[])} (row-major) and
 * {@link FeatureMap#evaluateColumns} (feature-major) for the learner's default features (soft gates over
 * Hermite monomials of degree 2, d = 10, k = 4 gates: p = 264, posteriors given as the learner gives them)
 * and for monomials of degree 2 and 3 (p = 66 and 286), in rounds that interleave the two layouts, in the
 * calling thread's CPU time (see {@link KernelRatio} for why). The medians over the last three quarters of
 * the rounds are reported, with the median of the per-round ratios.
 */
public final class FeatureColumnsRatio {

    private static final int D = 10;
    private static final int K = 4;

    private FeatureColumnsRatio() {
    }

    public static void main(String[] args) {
        int rounds = 20;
        int n = 512;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--rows" -> n = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        CounterRandom rng = CounterRandom.of(7);
        double[] w = new double[K];
        double[][] mu = new double[K][D];
        double[][][] cov = new double[K][D][D];
        for (int i = 0; i < K; i++) {
            w[i] = 1.0 / K;
            rng.fillGaussian(i, 0, mu[i], 0, D);
            for (int r = 0; r < D; r++) {
                cov[i][r][r] = 1.0 + 0.1 * i;
            }
        }
        GaussianMixture gates = GaussianMixture.of(w, mu, cov);
        double[] center = new double[D];
        double[] scale = new double[D];
        Arrays.fill(scale, 1.3);
        FeatureMap[] maps = {FeatureMap.softGated(FeatureMap.monomial(center, scale, 2), gates),
                FeatureMap.monomial(center, scale, 2), FeatureMap.monomial(center, scale, 3)};
        String[] names = {"soft gates, degree 2", "monomials, degree 2", "monomials, degree 3"};
        double[] z = new double[n * D];
        rng.fillGaussian(99, 0, z, 0, z.length);
        double[] post = new double[n * K];
        gates.posteriors(z, n, post);
        int pMax = 0;
        for (FeatureMap f : maps) {
            pMax = Math.max(pMax, f.size());
        }
        double[] out = new double[n * pMax];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        // About 50 ms of row-major evaluation per kernel and round.
        int calls = Math.max(1, 100_000 / n);
        int kept = rounds - rounds / 4;
        double[][] rowNs = new double[maps.length][kept];
        double[][] colNs = new double[maps.length][kept];
        for (int round = 0; round < rounds; round++) {
            for (int m = 0; m < maps.length; m++) {
                FeatureMap f = maps[m];
                long t0 = mx.getCurrentThreadCpuTime();
                for (int c = 0; c < calls; c++) {
                    f.evaluate(z, n, post, out);
                }
                long t1 = mx.getCurrentThreadCpuTime();
                for (int c = 0; c < calls; c++) {
                    f.evaluateColumns(z, n, post, out, n);
                }
                long t2 = mx.getCurrentThreadCpuTime();
                // The first quarter of the rounds warms the JIT.
                int at = round - rounds / 4;
                if (at >= 0) {
                    rowNs[m][at] = (t1 - t0) / (double) calls / n;
                    colNs[m][at] = (t2 - t1) / (double) calls / n;
                }
            }
        }
        for (int m = 0; m < maps.length; m++) {
            double[] ratio = new double[kept];
            for (int r = 0; r < kept; r++) {
                ratio[r] = colNs[m][r] / rowNs[m][r];
            }
            System.out.printf(Locale.ROOT,
                    "%-21s p = %3d: evaluate %5.0f ns/row, evaluateColumns %5.0f ns/row, ratio %.3f (medians of %d rounds)%n",
                    names[m], maps[m].size(), median(rowNs[m]), median(colNs[m]), median(ratio), kept);
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
