package io.scoremix.cli;

import io.scoremix.spark.InputFormat;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.ScoreConfig;
import io.scoremix.spark.ScoreJob;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scoremix score}: per-row log-densities and posteriors of a fitted model, for anomaly scoring. */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score every row of an input with a model written by fit: the crude mixture's log-density "
                + "(log_density_crude) and posterior component probabilities (posterior_0 ..), and the learned "
                + "model's log-density by its probability-flow ODE (log_density), written with the feature columns "
                + "and _scoremix.json. Low log-densities flag anomalies."})
final class ScoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory written by fit.")
    String model;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "Rows to score, any Hadoop path.")
    String input;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = FitCommand.InputFormatConverter.class,
            description = "Input format: parquet, csv (with a header row), orc or json. Default: ${DEFAULT-VALUE}.")
    InputFormat format;

    @Option(names = "--features", paramLabel = "a,b,..", split = ",",
            description = "Input columns in the model's feature order. Default: the model's feature names.")
    List<String> features;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory, any Hadoop path.")
    String out;

    @Option(names = "--output-format", paramLabel = "FORMAT", defaultValue = "parquet",
            converter = GenerateCommand.FormatConverter.class,
            description = "parquet or csv (with a header row). Default: ${DEFAULT-VALUE}.")
    OutputFormat outputFormat;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "" + ScoreConfig.DEFAULT_STEPS,
            description = "Steps of the ODE integration of log_density; 0 leaves that column out (much faster). "
                    + "Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--overwrite", defaultValue = "false", description = "Replace an existing output (a previous scoremix output).")
    boolean overwrite;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    ScoreCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() {
        ScoreConfig config = new ScoreConfig(model, input, format, features, out, outputFormat, steps, overwrite);
        ScoreJob.Result r = new ScoreJob(config, EffectiveOptions.of(spec, defaults)).run(sessions.apply("scoremix score"));
        spec.commandLine().getOut().printf(Locale.ROOT, "score: wrote %d rows x %d columns %s (%s) to %s in %.1f s%n",
                r.rows(), r.columns().size(), r.columns(), outputFormat.id(), r.output(), r.seconds());
        return Main.OK;
    }
}
