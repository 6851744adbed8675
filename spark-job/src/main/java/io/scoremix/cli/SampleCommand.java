package io.scoremix.cli;

import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SampleJob;
import io.scoremix.spark.SamplerSteps;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code scoremix sample}: draw points from a fitted model by the reverse diffusion on Spark. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draw N points from a model written by fit, by the reverse diffusion on the executors, and "
                + "write them with the training data's column names, plus the provenance record _scoremix.json.",
                "The output depends on the model, N, the seed and the sampler settings only (not on the partitioning)."})
final class SampleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory written by fit.")
    String model;

    @Option(names = "--n", required = true, paramLabel = "N", description = "Number of points, at least 1.")
    long n;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Output directory, any Hadoop path (file:, hdfs:, s3a: or local).")
    String out;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = GenerateCommand.FormatConverter.class,
            description = "parquet or csv (with a header row). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Option(names = "--partitions", paramLabel = "P", defaultValue = "0",
            description = "Number of partitions; 0 = max(default parallelism, ceil(N*d / 1e7)). Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + SampleConfig.DEFAULT_SEED,
            description = "Seed of the counter-based generator. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--sampler", paramLabel = "METHOD", defaultValue = "sde_residual", converter = MethodConverter.class,
            description = "sde, sde_residual or ode. Default: ${DEFAULT-VALUE}.")
    SamplerConfig.Method method;

    @Option(names = "--steps", paramLabel = "N|auto", defaultValue = "auto",
            description = "Steps of the reverse-time grid from T down to delta; auto chooses them from the model's "
                    + "crude mixture (2048 up to 20480/d, the fewest predicting a discretisation term of the certified "
                    + "bound of at most 0.01). Default: ${DEFAULT-VALUE}.")
    String steps;

    @Option(names = "--overwrite", defaultValue = "false",
            description = "Replace an existing output (a previous scoremix output, once the new one is complete).")
    boolean overwrite;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    SampleCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() {
        SampleConfig config = new SampleConfig(model, n, out, format, partitions, seed, method,
                SamplerSteps.parse(steps), overwrite);
        SampleJob.Result r = new SampleJob(config, EffectiveOptions.of(spec, defaults)).run(sessions.apply("scoremix sample"));
        spec.commandLine().getOut().printf(Locale.ROOT, "sample: wrote %d rows x %d columns %s (%s) to %s in %.1f s%n",
                r.rows(), r.columns().size(), r.columns(), format.id(), r.output(), r.seconds());
        return Main.OK;
    }

    /** picocli converter of --sampler. */
    static final class MethodConverter implements ITypeConverter<SamplerConfig.Method> {
        @Override
        public SamplerConfig.Method convert(String value) {
            try {
                return SampleConfig.parseMethod(value);
            } catch (BadInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
