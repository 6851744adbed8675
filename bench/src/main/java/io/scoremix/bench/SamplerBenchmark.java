package io.scoremix.bench;

import io.scoremix.core.diffusion.ExactScore;
import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.random.CounterRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Reverse-sampler point-steps per second with the exact score of a d = 10, k = 4 mixture: one
 * invocation draws {@code POINTS} points over {@code STEPS} steps (operations = points x steps), for the
 * SDE exponential integrator (one score call per step) and the probability-flow ODE (two), with native
 * BLAS and with the Java fallback (param {@code blas}, one forked JVM each).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-modules=jdk.incubator.vector"})
public class SamplerBenchmark {

    static final int POINTS = 1024;
    static final int STEPS = 64;

    @Param({"native", "java"})
    public String blas;

    @Param({"SDE", "ODE"})
    public String method;

    private ExactScore score;
    private ReverseSampler sampler;
    private double[] out;
    private long counter;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("scoremix.blas", blas);
        score = ExactScore.of(BenchMixtures.random(10, 4, 42));
        sampler = ReverseSampler.of(SamplerConfig.builder(TimeGrid.benton(6, 1e-3, STEPS))
                .method(SamplerConfig.Method.valueOf(method)).build());
        out = new double[POINTS * 10];
        System.err.println("BLAS in use: " + Blas.name());
    }

    @Benchmark
    @OperationsPerInvocation(POINTS * STEPS)
    public double[] pointSteps() {
        sampler.sample(score, CounterRandom.of(1), 3, counter, POINTS, out);
        counter += POINTS;
        return out;
    }
}
