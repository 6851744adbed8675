package io.scoremix.cli;

import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.spark.EvaluateConfig;
import io.scoremix.spark.EvaluateJob;
import io.scoremix.spark.InputFormat;
import io.scoremix.spark.SamplerSteps;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoremix evaluate}: a model or its samples against a known mixture or held-out data. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Judge a model written by fit (or a folder of samples) against a known mixture (--truth) or "
                + "held-out data (--test) with the metrics of ALGORITHM.md section 7, and write evaluation.json, "
                + "report.html and _scoremix.json to a new folder.",
                "Against a truth: Monte Carlo TV, KL and held-out log-likelihood of the model's ODE density, the "
                + "crude mixture's TV, the certified TV upper bound of the sampler, and projection and classifier "
                + "TV lower bounds. Against test data: held-out log-likelihood and the two lower bounds."})
final class EvaluateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory written by fit.")
    String model;

    @Option(names = "--samples", paramLabel = "PATH", description = "Samples to judge instead of a model "
            + "(for example the output of sample).")
    String samples;

    @Option(names = "--samples-format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = FitCommand.InputFormatConverter.class,
            description = "Format of --samples: parquet, csv, orc or json. Default: ${DEFAULT-VALUE}.")
    InputFormat samplesFormat;

    @Option(names = "--truth", paramLabel = "SPEC", description = "The true mixture, a scoremix.gmm/v1 file.")
    Path truth;

    @Option(names = "--test", paramLabel = "PATH", description = "Held-out data (any Hadoop path).")
    String test;

    @Option(names = "--test-format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = FitCommand.InputFormatConverter.class,
            description = "Format of --test: parquet, csv, orc or json. Default: ${DEFAULT-VALUE}.")
    InputFormat testFormat;

    @Option(names = "--features", paramLabel = "a,b,..", split = ",",
            description = "Columns of samples and test data. Default: the model's feature names (else every numeric column).")
    List<String> features;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory, any Hadoop path.")
    String out;

    @Option(names = "--n", paramLabel = "N", defaultValue = "" + EvaluateConfig.DEFAULT_N,
            description = "Draws from the model (or rows of --samples read), fresh truth draws, test rows read. "
                    + "Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--density-points", paramLabel = "N", defaultValue = "" + EvaluateConfig.DEFAULT_DENSITY_POINTS,
            description = "Points where the model's ODE log-density is computed (TV, KL, log-likelihood; standard error "
                    + "of the TV <= 0.5/sqrt(N)); 0 skips them. Default: ${DEFAULT-VALUE}.")
    int densityPoints;

    @Option(names = "--density-steps", paramLabel = "N", defaultValue = "" + EvaluateConfig.DEFAULT_DENSITY_STEPS,
            description = "Steps of the ODE integration of the log-density. Default: ${DEFAULT-VALUE}.")
    int densitySteps;

    @Option(names = "--sampler", paramLabel = "METHOD", defaultValue = "sde_residual",
            converter = SampleCommand.MethodConverter.class,
            description = "Sampler drawing from the model: sde, sde_residual or ode. Default: ${DEFAULT-VALUE}.")
    SamplerConfig.Method method;

    @Option(names = "--steps", paramLabel = "N|auto", defaultValue = "auto",
            description = "Steps of the sampler's grid from T to delta (of the draws and of the certified bound); auto "
                    + "chooses them as sample does. Default: ${DEFAULT-VALUE}.")
    String steps;

    @Option(names = "--bound-paths", paramLabel = "N", defaultValue = "" + EvaluateConfig.DEFAULT_BOUND_PATHS,
            description = "Forward paths per step of the certified upper bound; 0 skips it. Default: ${DEFAULT-VALUE}.")
    int boundPaths;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Seed of every draw. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--overwrite", defaultValue = "false", description = "Replace an existing output (a previous scoremix output).")
    boolean overwrite;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    EvaluateCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() {
        MixtureSpec mixture = truth == null ? null : GenerateCommand.readSpec(truth);
        EvaluateConfig config = new EvaluateConfig(model, samples, samplesFormat, mixture,
                truth == null ? null : truth.toString(), test, testFormat, features, n, densityPoints, densitySteps,
                method, SamplerSteps.parse(steps), boundPaths, seed, out, overwrite);
        EvaluateJob.Result r = new EvaluateJob(config, EffectiveOptions.of(spec, defaults)).run(sessions.apply("scoremix evaluate"));
        print(spec.commandLine().getOut(), r);
        return Main.OK;
    }

    /** The metrics table and where the results are. */
    static void print(PrintWriter out, EvaluateJob.Result r) {
        out.printf(Locale.ROOT, "evaluate: %s%n", ((Map<?, ?>) r.evaluation().get("samples")).get("source"));
        out.printf(Locale.ROOT, "  %-30s %12s %12s %12s%n", "metric", "value", "std.error", "conservative");
        ((Map<?, ?>) r.evaluation().get("metrics")).forEach((name, v) -> {
            if (v instanceof Map<?, ?> m && m.get("value") instanceof Number value) {
                out.printf(Locale.ROOT, "  %-30s %12.5g %12s %12s%n", name, value.doubleValue(), num(m.get("standard_error")),
                        num(m.get("conservative")));
            }
        });
        out.printf(Locale.ROOT, "evaluate: wrote %s in %.1f s; report: %s%n", r.output(), r.seconds(), r.report());
    }

    private static String num(Object v) {
        return v instanceof Number x ? String.format(Locale.ROOT, "%.4g", x.doubleValue()) : "";
    }
}
