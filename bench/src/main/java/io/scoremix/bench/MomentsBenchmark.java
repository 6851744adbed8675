package io.scoremix.bench;

import io.scoremix.core.linalg.Blas;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.regression.NormalEquations;
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
 * Moment accumulation ({@link NormalEquations#addBlock}: dsyrk for G, dgemm for B) beside a plain DGEMM
 * of the same block in the same run, per invocation. GFLOP/s = flops x invocations/s with
 * {@code addBlock}: n p (p + 1) + 2 n p d flops (what dsyrk and the B product compute) and
 * {@code dgemm}: 2 n p^2 (the reference the issue compares against).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-modules=jdk.incubator.vector"})
public class MomentsBenchmark {

    static final int N = 512;
    static final int D = 10;

    @Param({"native", "java"})
    public String blas;

    @Param({"50", "200", "400"})
    public int p;

    private double[] phi;
    private double[] y;
    private double[] c;
    private NormalEquations acc;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("scoremix.blas", blas);
        phi = new double[N * p];
        y = new double[N * D];
        CounterRandom rng = CounterRandom.of(5);
        rng.fillGaussian(1, 0, phi, 0, phi.length);
        rng.fillGaussian(2, 0, y, 0, y.length);
        c = new double[p * p];
        acc = new NormalEquations(p, D);
        System.err.println("BLAS in use: " + Blas.name() + ", Gram kernel " + NormalEquations.gramKernel());
    }

    @Benchmark
    public NormalEquations addBlock() {
        return acc.addBlock(phi, y, null, N);
    }

    @Benchmark
    public double[] dgemm() {
        // C (p x p) += Phi^T Phi with Phi row-major n x p, read as column-major p x n.
        Blas.get().dgemm("N", "T", p, p, N, 1.0, phi, p, phi, p, 1.0, c, p);
        return c;
    }
}
