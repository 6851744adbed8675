package io.scoremix.bench;

import io.scoremix.core.diffusion.ExactScore;
import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.ScoreFunction;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.core.score.Learner;
import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModel;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Sampling throughput of a FITTED model: a {@link ScoreModel} learned on general-10d (d = 10, k = 4,
 * 20,000 rows, mode {@code score}: default or plugin), driven by the SDE_RESIDUAL sampler (one score
 * call per step) over {@code STEPS} of the model's own grid; {@code score = crude} runs the same sampler
 * on the exact score of the model's crude mixture (whitened), the kernel the fitted model evaluates at
 * least once per step. Operations = points x steps. The flop-limited rate divides a DGEMM GFLOP/s
 * (measured in {@link AccumulateBenchmark} / {@link MomentsBenchmark}) by the flops of one score
 * evaluation, about {@code k (2 d^2 + 4 d)} = 960 for the crude score.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--add-modules=jdk.incubator.vector"})
public class FittedSamplerBenchmark {

    static final int POINTS = 1024;
    static final int STEPS = 64;
    static final int TRAIN_ROWS = 20_000;

    @Param({"native"})
    public String blas;

    @Param({"default", "crude"})
    public String score;

    private ScoreFunction function;
    private ReverseSampler sampler;
    private double[] out;
    private long counter;

    /** The general-10d instance, from the repository root or the shared bench folder. */
    static MixtureSpec general10d() {
        for (String candidate : new String[] {"core-math/src/test/resources/instances/general-10d.json",
                "../core-math/src/test/resources/instances/general-10d.json",
                "/work/shared/bench/instances/general-10d.json"}) {
            Path p = Path.of(candidate);
            if (Files.isRegularFile(p)) {
                try {
                    return MixtureSpec.read(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("general-10d.json not found: run from the repository root");
    }

    /** A model fitted on general-10d in the given mode. */
    static ScoreModel fitted(LearnerConfig.Mode mode) {
        GaussianMixture truth = general10d().mixture();
        int d = truth.dimension();
        double[] x = new double[TRAIN_ROWS * d];
        truth.sample(CounterRandom.of(1), 11, 0, TRAIN_ROWS, x);
        LearnerConfig config = LearnerConfig.builder(truth.components()).mode(mode).seed(1).build();
        return Learner.fit(x, TRAIN_ROWS, d, null, config).model();
    }

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("scoremix.blas", blas);
        ScoreModel model = fitted(score.equals("plugin") ? LearnerConfig.Mode.PLUGIN : LearnerConfig.Mode.DEFAULT);
        double[] times = model.levelTimes();
        function = score.equals("crude") ? ExactScore.of(model.crude()) : model;
        sampler = ReverseSampler.of(SamplerConfig.builder(TimeGrid.benton(times[times.length - 1], times[0], STEPS))
                .method(SamplerConfig.Method.SDE_RESIDUAL).build());
        out = new double[POINTS * model.dimension()];
        System.err.println("BLAS in use: " + Blas.name() + ", score " + score + ", levels " + times.length);
    }

    @Benchmark
    @OperationsPerInvocation(POINTS * STEPS)
    public double[] pointSteps() {
        sampler.sample(function, CounterRandom.of(1), 3, counter, POINTS, out);
        counter += POINTS;
        return out;
    }
}
