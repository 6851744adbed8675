package io.scoremix.cli;

import io.scoremix.spark.BadInputException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from a properties file (conf/scoremix.properties). The default of option
 * {@code --name} of command {@code cmd} is the value of key {@code cmd.name}, else of key {@code name},
 * else the built-in default. Command-line options always win.
 */
final class ConfigDefaults implements IDefaultValueProvider {

    /** System property naming the file; wins over the environment variable. */
    static final String PROPERTY = "scoremix.conf";
    /** Environment variable naming the file (set by submit/scoremix). */
    static final String ENV = "SCOREMIX_CONF";

    private final Properties props;

    private ConfigDefaults(Properties props) {
        this.props = props;
    }

    /**
     * The defaults of the file named by {@value #PROPERTY} or {@value #ENV}, or none if neither is set.
     *
     * @throws BadInputException if the named file is missing or unreadable
     */
    static ConfigDefaults fromEnvironment() {
        String file = System.getProperty(PROPERTY);
        if (file == null || file.isBlank()) {
            file = System.getenv(ENV);
        }
        if (file == null || file.isBlank()) {
            return new ConfigDefaults(new Properties());
        }
        return fromFile(Path.of(file));
    }

    /** The defaults of one file. */
    static ConfigDefaults fromFile(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            throw new BadInputException("configuration file not found: " + file);
        } catch (IOException | IllegalArgumentException e) {
            throw new BadInputException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        return new ConfigDefaults(p);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String name = option.longestName().replaceFirst("^-+", "");
        String command = option.command() == null ? "" : option.command().name();
        String value = props.getProperty(command + "." + name);
        if (value == null) {
            value = props.getProperty(name);
        }
        return value == null ? null : value.trim();
    }
}
