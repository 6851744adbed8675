package io.scoremix.cli;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.GenerateConfig;
import io.scoremix.spark.GenerateJob;
import io.scoremix.spark.OutputFormat;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code scoremix generate}: draw points of a mixture spec on Spark and write them. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draw N points of a Gaussian mixture (a scoremix.gmm/v1 spec) on the executors and write "
                + "them with columns x0..x{d-1}, plus the provenance record _scoremix.json.",
                "The output depends on the spec, N and the seed only (not on the partitioning)."})
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--spec", required = true, paramLabel = "FILE",
            description = "Mixture spec, a local JSON file in format scoremix.gmm/v1.")
    Path specFile;

    @Option(names = "--n", required = true, paramLabel = "N", description = "Number of points, at least 1.")
    long n;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Output directory, any Hadoop path (file:, hdfs:, s3a: or local).")
    String out;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet", converter = FormatConverter.class,
            description = "parquet or csv (with a header row). Default: ${DEFAULT-VALUE}.")
    OutputFormat format;

    @Option(names = "--partitions", paramLabel = "P", defaultValue = "0",
            description = "Number of partitions; 0 = max(default parallelism, ceil(N*d / 1e7)). Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + GenerateConfig.DEFAULT_SEED,
            description = "Seed of the counter-based generator. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--overwrite", defaultValue = "false",
            description = "Replace an existing output (a previous scoremix output, once the new one is complete).")
    boolean overwrite;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    GenerateCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() {
        if (n < 1) {
            throw new ParameterException(spec.commandLine(), "--n must be at least 1 (got " + n + ")");
        }
        if (partitions < 0) {
            throw new ParameterException(spec.commandLine(),
                    "--partitions must be at least 1, or 0 for automatic (got " + partitions + ")");
        }
        // Read and validate the spec before any Spark work: a bad spec costs no session start-up.
        MixtureSpec mixture = readSpec(specFile);
        GenerateConfig config = GenerateConfig.builder()
                .spec(mixture, specFile.toString())
                .n(n)
                .output(out)
                .format(format)
                .partitions(partitions)
                .seed(seed)
                .overwrite(overwrite)
                .build();
        GenerateJob.Result result = new GenerateJob(config, EffectiveOptions.of(spec, defaults)).run(sessions.apply("scoremix generate"));
        spec.commandLine().getOut().printf(Locale.ROOT, "generate: wrote %d rows x %d columns (%s) to %s in %.1f s%n",
                result.rows(), result.dimension(), format.id(), result.output(), result.seconds());
        return Main.OK;
    }

    static MixtureSpec readSpec(Path file) {
        try {
            return MixtureSpec.read(file);
        } catch (NoSuchFileException e) {
            throw new BadInputException("spec file not found: " + file);
        } catch (IOException e) {
            throw new BadInputException("cannot read spec file " + file + ": " + e.getMessage(), e);
        }
    }

    /** picocli converter giving "unknown format 'x' (expected parquet or csv)". */
    static final class FormatConverter implements ITypeConverter<OutputFormat> {
        @Override
        public OutputFormat convert(String value) {
            try {
                return OutputFormat.parse(value);
            } catch (BadInputException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
