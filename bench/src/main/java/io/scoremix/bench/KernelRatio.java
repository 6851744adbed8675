package io.scoremix.bench;

import io.scoremix.core.linalg.Blas;
import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.core.score.ScoreMoments;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code bench/run kernel-ratio [--degree 2] [--rounds 15] [--kernel accumulate|sampler] [--blas native|java]
 * [--mode default|paper] [--dim 10]}: GFLOP/s of the learner's real accumulation
 * path ({@link LearningPlan#accumulate}: noise, the crude mixture's evaluation, features, dsyrk), of the
 * issue's "features plus dsyrk into NormalEquations" on one block, of {@link NormalEquations#addColumns}
 * alone and of a plain DGEMM of the same p, timed in rounds that interleave the four kernels, in the calling
 * thread's CPU time.
 *
 * <p>Why not only JMH: on a shared 2-core machine (load 5-15 while other builds run) JMH's wall-clock
 * runs of one kernel after the other see different loads, so their ratio moves by a factor of two.
 * With OpenBLAS single-threaded ({@code OPENBLAS_NUM_THREADS=1}, what one Spark task per core should
 * use) every kernel runs in the calling thread, so its CPU time excludes preemption, and interleaving
 * gives every kernel the same cache pressure from the neighbours. The median over rounds is reported.
 * Flop counts as in {@link AccumulateBenchmark}: accumulate, features + addColumns and addColumns
 * {@code n (p (p + 1) + 2 p d)},
 * dgemm {@code 2 n p^2}; for accumulate, n is the number of rows that reached the normal equations
 * (in paper mode rows outside their cell's gate are not regressed), read from the accumulators.
 */
public final class KernelRatio {

    /**
     * Rounds run before the measured ones, for the JIT: with two, the feature kernel (about 20 calls by then)
     * was still being compiled in the first measured rounds (its evaluation alone ran 1.5-2x slower in
     * rounds 1-8 of a separate timing than from round 10 on).
     */
    private static final int WARMUP_ROUNDS = 6;

    private KernelRatio() {
    }

    public static void main(String[] args) {
        int degree = 2;
        int rounds = 15;
        boolean sampler = false;
        LearnerConfig.Mode mode = LearnerConfig.Mode.DEFAULT;
        int d = AccumulateBenchmark.D;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--degree" -> degree = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--kernel" -> sampler = args[i + 1].equals("sampler");
                case "--mode" -> mode = LearnerConfig.Mode.valueOf(args[i + 1].toUpperCase(Locale.ROOT));
                case "--dim" -> d = Integer.parseInt(args[i + 1]);
                // Before any kernel runs: Blas reads the property once, when first used.
                case "--blas" -> System.setProperty("scoremix.blas", args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (sampler) {
            sampler(rounds);
            return;
        }
        int rows = AccumulateBenchmark.ROWS;
        int levels = AccumulateBenchmark.LEVELS;
        LearningPlan plan = AccumulateBenchmark.plan(mode, d, degree);
        double[] z = AccumulateBenchmark.whitenedRows(d, rows);
        int p = plan.featureCounts()[0][0];
        for (int[] level : plan.featureCounts()) {
            for (int q : level) {
                if (q != p) {
                    throw new IllegalStateException("cells of different feature counts: " + p + " and " + q);
                }
            }
        }
        ScoreMoments probe = plan.emptyMoments();
        plan.accumulate(z, null, rows, 0, probe);
        long regressed = 0;
        int cells = 0;
        for (int l = 0; l < probe.levels(); l++) {
            cells = Math.max(cells, probe.cells(l));
            for (int c = 0; c < probe.cells(l); c++) {
                regressed += probe.equations(l, c, 0).count() + probe.equations(l, c, 1).count();
            }
        }
        int n = AccumulateBenchmark.GEMM_ROWS;
        FeatureBlockKernel fk = FeatureBlockKernel.of(plan, n);
        double[] block = new double[n * (p + d)];
        CounterRandom.of(5).fillGaussian(1, 0, block, 0, block.length);
        double[] phi = new double[n * p];
        CounterRandom.of(5).fillGaussian(1, 0, phi, 0, phi.length);
        double[] c = new double[p * p];
        NormalEquations acc = new NormalEquations(p, d);
        NormalEquations featureAcc = new NormalEquations(p, d);
        double accFlops = (double) regressed * ((double) p * (p + 1) + 2.0 * p * d);
        double blockFlops = (double) n * ((double) p * (p + 1) + 2.0 * p * d);
        double gemmFlops = 2.0 * n * p * p;
        int reps = (int) Math.max(1, Math.round(accFlops / gemmFlops / 2));
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[] gAcc = new double[rounds];
        double[] gFeat = new double[rounds];
        double[] gBlock = new double[rounds];
        double[] gGemm = new double[rounds];
        System.out.printf(Locale.ROOT, "BLAS %s, Gram kernel %s, mode %s, p = %d, d = %d, %d rows x %d levels per "
                + "accumulate (%d row-levels regressed, up to %d cells per level), %d-row blocks for features + "
                + "addColumns, addColumns and dgemm (%d reps per round)%n", Blas.name(), NormalEquations.gramKernel(),
                mode, p, d, rows, levels, regressed, cells, n, reps);
        for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
            long t0 = mx.getCurrentThreadCpuTime();
            ScoreMoments m = plan.emptyMoments();
            plan.accumulate(z, null, rows, 0, m);
            long t1 = mx.getCurrentThreadCpuTime();
            for (int q = 0; q < reps; q++) {
                fk.add(featureAcc);
            }
            long t2 = mx.getCurrentThreadCpuTime();
            for (int q = 0; q < reps; q++) {
                acc.addColumns(block, n, null, n);
            }
            long t3 = mx.getCurrentThreadCpuTime();
            for (int q = 0; q < reps; q++) {
                Blas.get().dgemm("N", "T", p, p, n, 1.0, phi, p, phi, p, 1.0, c, p);
            }
            long t4 = mx.getCurrentThreadCpuTime();
            if (r >= 0) {
                gAcc[r] = accFlops / (t1 - t0);
                gFeat[r] = blockFlops * reps / (t2 - t1);
                gBlock[r] = blockFlops * reps / (t3 - t2);
                gGemm[r] = gemmFlops * reps / (t4 - t3);
            }
        }
        double[] ra = new double[rounds];
        double[] rf = new double[rounds];
        double[] rb = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ra[r] = gAcc[r] / gGemm[r];
            rf[r] = gFeat[r] / gGemm[r];
            rb[r] = gBlock[r] / gGemm[r];
        }
        System.out.printf(Locale.ROOT, "median over %d rounds (CPU time): accumulate %.2f GFLOP/s, features + addColumns "
                + "%.2f, addColumns %.2f, dgemm %.2f; / dgemm: accumulate %.2f (quartiles %.2f-%.2f), features + "
                + "addColumns %.2f (%.2f-%.2f), addColumns %.2f (%.2f-%.2f)%n", rounds, median(gAcc), median(gFeat),
                median(gBlock), median(gGemm), median(ra), quantile(ra, 0.25), quantile(ra, 0.75), median(rf),
                quantile(rf, 0.25), quantile(rf, 0.75), median(rb), quantile(rb, 0.25), quantile(rb, 0.75));
    }

    /**
     * Point-steps per CPU second of the SDE_RESIDUAL sampler on a default-mode model fitted on general-10d
     * and on the exact score of its crude mixture, interleaved with a p = 200 DGEMM for the flop-limited
     * rate: DGEMM GFLOP/s over the flops of one crude-score evaluation, {@code k (2 d^2 + 4 d)}.
     */
    private static void sampler(int rounds) {
        io.scoremix.core.score.ScoreModel model = FittedSamplerBenchmark.fitted(LearnerConfig.Mode.DEFAULT);
        io.scoremix.core.diffusion.ScoreFunction crude = io.scoremix.core.diffusion.ExactScore.of(model.crude());
        double[] times = model.levelTimes();
        int points = FittedSamplerBenchmark.POINTS;
        int steps = FittedSamplerBenchmark.STEPS;
        io.scoremix.core.diffusion.ReverseSampler rs = io.scoremix.core.diffusion.ReverseSampler.of(
                io.scoremix.core.diffusion.SamplerConfig.builder(io.scoremix.core.diffusion.TimeGrid.benton(
                        times[times.length - 1], times[0], steps))
                        .method(io.scoremix.core.diffusion.SamplerConfig.Method.SDE_RESIDUAL).build());
        int d = model.dimension();
        int k = model.crude().components();
        double[] out = new double[points * d];
        int p = 200;
        int n = 512;
        double[] phi = new double[n * p];
        CounterRandom.of(5).fillGaussian(1, 0, phi, 0, phi.length);
        double[] c = new double[p * p];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[] fitted = new double[rounds];
        double[] exact = new double[rounds];
        double[] gemm = new double[rounds];
        long counter = 0;
        for (int r = -2; r < rounds; r++) {
            long t0 = mx.getCurrentThreadCpuTime();
            rs.sample(model, CounterRandom.of(1), 3, counter, points, out);
            long t1 = mx.getCurrentThreadCpuTime();
            rs.sample(crude, CounterRandom.of(1), 3, counter, points, out);
            long t2 = mx.getCurrentThreadCpuTime();
            for (int q = 0; q < 20; q++) {
                Blas.get().dgemm("N", "T", p, p, n, 1.0, phi, p, phi, p, 1.0, c, p);
            }
            long t3 = mx.getCurrentThreadCpuTime();
            counter += points;
            if (r >= 0) {
                fitted[r] = (double) points * steps / (t1 - t0) * 1e9;
                exact[r] = (double) points * steps / (t2 - t1) * 1e9;
                gemm[r] = 20 * 2.0 * n * p * p / (t3 - t2);
            }
        }
        double flops = k * (2.0 * d * d + 4.0 * d);
        double limit = median(gemm) * 1e9 / flops;
        System.out.printf(Locale.ROOT, "BLAS %s; d = %d, k = %d, %d levels, SDE_RESIDUAL, %d points x %d steps%n",
                Blas.name(), d, k, times.length, points, steps);
        System.out.printf(Locale.ROOT, "median over %d rounds (CPU time): fitted model %.3g point-steps/s, exact crude "
                + "score %.3g, dgemm (p = 200) %.2f GFLOP/s; flop-limited rate %.3g (%.0f flops per score); fitted / "
                + "limit %.3f, fitted / exact crude %.2f%n", rounds, median(fitted), median(exact), median(gemm), limit,
                flops, median(fitted) / limit, median(fitted) / median(exact));
    }

    private static double median(double[] v) {
        return quantile(v, 0.5);
    }

    private static double quantile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        double at = q * (s.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (at - lo) * (s[hi] - s[lo]);
    }
}
