package io.scoremix.cli;

import io.scoremix.core.io.SpecFormatException;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.SparkSessions;
import io.scoremix.spark.Versions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code scoremix} command line: {@code scoremix <command> [options]}, with the commands
 * {@code generate}, {@code fit}, {@code sample}, {@code evaluate}, {@code score} and {@code demo}.
 *
 * <p>Exit codes: {@value #OK} success; {@value #BAD_INPUT} usage error or bad input (one message on
 * stderr saying what is wrong and where; nothing written); {@value #FAILURE} anything else (message
 * and stack trace on stderr). Defaults of options come from the properties file named by the system
 * property {@code scoremix.conf} or the environment variable {@code SCOREMIX_CONF}, if any, overlaid by
 * the file of every command's {@code --conf FILE} option; flags win over both (see {@link ConfigDefaults}).
 *
 * <p>{@link #main} exits the JVM; tests call {@link #run(String[], PrintWriter, PrintWriter, Function)},
 * which returns the exit code and never exits or stops a session it did not create.
 */
@Command(name = "scoremix", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Learn Gaussian mixtures by diffusion score matching, on Apache Spark.",
        synopsisSubcommandLabel = "COMMAND")
public final class Main implements Runnable {

    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int BAD_INPUT = 2;

    @Spec
    CommandSpec spec;

    private Main() {
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command (one of: "
                + String.join(", ", spec.subcommands().keySet()) + ")");
    }

    /** Runs the command line and exits the JVM with its code; stops the Spark session it started. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        AtomicReference<SparkSession> started = new AtomicReference<>();
        int code;
        try {
            code = run(args, out, err, appName -> {
                SparkSession s = SparkSessions.getOrCreate(appName);
                started.set(s);
                return s;
            });
        } finally {
            SparkSession s = started.get();
            if (s != null) {
                s.stop();
            }
        }
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Parses {@code args}, runs the command and returns the exit code.
     *
     * @param sessions gives the Spark session for an application name; called only once the input has
     *                 been validated, at most once per run; the caller owns the session's lifetime
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Function<String, SparkSession> sessions) {
        CommandLine cli;
        try {
            ConfigDefaults defaults = ConfigDefaults.fromEnvironment();
            String conf = ConfigDefaults.confArgument(args);
            if (conf != null) {
                defaults = defaults.overlay(java.nio.file.Path.of(conf));
            }
            cli = new CommandLine(new Main())
                    .addSubcommand("generate", new GenerateCommand(sessions, defaults))
                    .addSubcommand("fit", new FitCommand(sessions, defaults))
                    .addSubcommand("sample", new SampleCommand(sessions, defaults))
                    .addSubcommand("evaluate", new EvaluateCommand(sessions, defaults))
                    .addSubcommand("score", new ScoreCommand(sessions, defaults))
                    .addSubcommand("demo", new DemoCommand(sessions, defaults));
            for (CommandLine sub : cli.getSubcommands().values()) {
                sub.addMixin("conf", new ConfOption());
            }
            cli.setOut(out)
                    .setErr(err)
                    .setDefaultValueProvider(defaults)
                    .setParameterExceptionHandler(Main::usageError)
                    .setExecutionExceptionHandler((e, cmd, parsed) -> failure(e, cmd, err));
        } catch (BadInputException e) {
            err.println("scoremix: " + e.getMessage());
            return BAD_INPUT;
        }
        return cli.execute(args);
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage()
                + " (see " + cmd.getCommandSpec().qualifiedName() + " --help)");
        return BAD_INPUT;
    }

    private static int failure(Exception e, CommandLine cmd, PrintWriter err) {
        String name = cmd.getCommandSpec().qualifiedName();
        if (isBadInput(e)) {
            err.println(name + ": " + e.getMessage());
            return BAD_INPUT;
        }
        err.println(name + ": failed: " + e);
        e.printStackTrace(err);
        return FAILURE;
    }

    private static boolean isBadInput(Throwable e) {
        return e instanceof BadInputException || e instanceof SpecFormatException;
    }

    /** {@code --version}: scoremix's version and the platform's. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"scoremix " + Versions.scoremix(),
                    "Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION() + ", Java "
                            + System.getProperty("java.version")};
        }
    }
}
