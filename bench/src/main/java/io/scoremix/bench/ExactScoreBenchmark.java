package io.scoremix.bench;

import io.scoremix.core.linalg.Blas;
import io.scoremix.core.mixture.GaussianMixture;
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
 * Exact-score evaluations per second of a noised mixture (d = 10, k = 4) on a block of points, with
 * native BLAS and with dev.ludovic.netlib's Java fallback (param {@code blas}; each value runs in its own
 * forked JVM, and the property is set before the BLAS class is first touched). Scores are per point:
 * the benchmark reports operations = points.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-modules=jdk.incubator.vector"})
public class ExactScoreBenchmark {

    static final int BLOCK = 1024;

    @Param({"native", "java"})
    public String blas;

    @Param({"10"})
    public int d;

    @Param({"4"})
    public int k;

    private GaussianMixture noised;
    private double[] x;
    private double[] out;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("scoremix.blas", blas);
        noised = BenchMixtures.random(d, k, 42).noised(0.3);
        x = new double[BLOCK * d];
        noised.sample(CounterRandom.of(7), 1, 0, BLOCK, x);
        out = new double[BLOCK * d];
        System.err.println("BLAS in use: " + Blas.name());
    }

    @Benchmark
    @OperationsPerInvocation(BLOCK)
    public double[] exactScore() {
        noised.score(x, BLOCK, out);
        return out;
    }
}
