package io.scoremix.bench;

import io.scoremix.core.linalg.Blas;
import io.scoremix.core.mixture.CrudeMixture;
import io.scoremix.core.mixture.CrudeMixtureConfig;
import io.scoremix.core.mixture.CrudeMixtureResult;
import io.scoremix.core.mixture.Moments;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.LearningPlan;
import io.scoremix.core.score.ScoreMoments;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The real accumulation path of the learner, {@link LearningPlan#accumulate} (noise, soft-gated
 * features, residual targets, both splits into {@link io.scoremix.core.regression.NormalEquations}),
 * beside a plain DGEMM of a 512-row block with the same p in the same run.
 *
 * <p>One {@code accumulate} invocation adds {@code ROWS} whitened rows at {@code LEVELS} levels of a
 * d = 10, k = 4 plan in default mode: one soft cell of {@code p = k C(10 + degree, degree)} features
 * (44 at degree 1, 264 at degree 2). Its useful flops are
 * {@code ROWS LEVELS (p (p + 1) + 2 p d)} (what dsyrk and the B product compute); the dgemm reference
 * does {@code 2 512 p^2}; {@link #featuresAndDsyrk} {@code 512 (p (p + 1) + 2 p d)}. Multiply by the
 * invocations per second for GFLOP/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-modules=jdk.incubator.vector"})
public class AccumulateBenchmark {

    static final int ROWS = 4096;
    static final int LEVELS = 4;
    static final int D = 10;
    static final int K = 4;
    static final int GEMM_ROWS = 512;

    @Param({"native", "java"})
    public String blas;

    @Param({"2"})
    public int degree;

    private LearningPlan plan;
    private double[] z;
    private int p;
    private double[] phi;
    private double[] c;
    private FeatureBlockKernel featureBlock;
    private io.scoremix.core.regression.NormalEquations featureAcc;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("scoremix.blas", blas);
        plan = plan(degree);
        p = plan.featureCounts()[0][0];
        z = whitenedRows(ROWS);
        featureBlock = FeatureBlockKernel.of(plan, GEMM_ROWS);
        featureAcc = new io.scoremix.core.regression.NormalEquations(p, D);
        phi = new double[GEMM_ROWS * p];
        CounterRandom.of(5).fillGaussian(1, 0, phi, 0, phi.length);
        c = new double[p * p];
        double flops = (double) ROWS * LEVELS * ((double) p * (p + 1) + 2.0 * p * D);
        System.err.printf("BLAS in use: %s; p = %d; accumulate flops/invocation %.6g; featuresAndDsyrk %.6g; dgemm %.6g%n",
                Blas.name(), p, flops, featureBlock.flops(), 2.0 * GEMM_ROWS * p * p);
    }

    private static final int TRAIN_ROWS = 20_000;

    private static double[] trainingRows(int d) {
        double[] x = new double[TRAIN_ROWS * d];
        BenchMixtures.random(d, K, 42).sample(CounterRandom.of(3), 1, 0, TRAIN_ROWS, x);
        return x;
    }

    private static Whitening whitening(double[] x, int d) {
        Moments moments = new Moments(d);
        moments.addBlock(x, TRAIN_ROWS);
        return Whitening.of(moments);
    }

    /** The default-mode plan (soft gates of the given degree, LEVELS levels, d = D) fitted on 20,000 rows. */
    static LearningPlan plan(int degree) {
        return plan(LearnerConfig.Mode.DEFAULT, D, degree);
    }

    /**
     * The plan of a mode (DEFAULT: soft gates, residual targets; PAPER: hard cells, monomials, -xi / sigma
     * targets) in d dimensions with k = K, LEVELS levels, fitted on 20,000 rows of a random mixture.
     */
    static LearningPlan plan(LearnerConfig.Mode mode, int d, int degree) {
        double[] x = trainingRows(d);
        CrudeMixtureConfig crude = CrudeMixtureConfig.builder(K).restarts(1)
                .initialisations(CrudeMixtureConfig.Initialisation.KMEANS)
                .coordinates(CrudeMixtureConfig.Coordinates.WHITENED).seed(1).build();
        CrudeMixtureResult fitted = CrudeMixture.fit(x, TRAIN_ROWS, d, null, crude);
        LearnerConfig config = LearnerConfig.builder(K).mode(mode).degree(degree).levels(LEVELS).delta(1e-3).seed(1)
                .crude(crude).build();
        return LearningPlan.of(config, whitening(x, d), fitted);
    }

    /** The first n training rows, whitened. */
    static double[] whitenedRows(int n) {
        return whitenedRows(D, n);
    }

    /** The first n training rows of the d-dimensional instance, whitened. */
    static double[] whitenedRows(int d, int n) {
        double[] x = trainingRows(d);
        double[] z = new double[n * d];
        whitening(x, d).apply(x, n, z);
        return z;
    }

    @Benchmark
    public ScoreMoments accumulate() {
        ScoreMoments acc = plan.emptyMoments();
        plan.accumulate(z, null, ROWS, 0, acc);
        return acc;
    }

    /**
     * The "features plus dsyrk into NormalEquations" on one 512-row block ({@link FeatureBlockKernel}):
     * {@code 512 (p (p + 1) + 2 p d)} useful flops per invocation.
     */
    @Benchmark
    public io.scoremix.core.regression.NormalEquations featuresAndDsyrk() {
        return featureBlock.add(featureAcc);
    }

    @Benchmark
    public double[] dgemm() {
        Blas.get().dgemm("N", "T", p, p, GEMM_ROWS, 1.0, phi, p, phi, p, 1.0, c, p);
        return c;
    }
}
