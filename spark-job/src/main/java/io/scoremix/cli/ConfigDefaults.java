package io.scoremix.cli;

import io.scoremix.spark.BadInputException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from properties files: conf/scoremix.properties (named by {@value #PROPERTY} or
 * {@value #ENV}), overlaid by the file of {@code --conf FILE}. The default of option {@code --name} of
 * command {@code cmd} is the value of key {@code cmd.name}, else of key {@code name}, in the last file that
 * has either, else the built-in default. Command-line options always win. Remembers which file gave each
 * value ({@link #sourceOf}) for the provenance records.
 */
final class ConfigDefaults implements IDefaultValueProvider {

    /** System property naming the file; wins over the environment variable. */
    static final String PROPERTY = "scoremix.conf";
    /** Environment variable naming the file (set by submit/scoremix). */
    static final String ENV = "SCOREMIX_CONF";

    /** Layers in increasing priority, each with its file name. */
    private final List<Properties> layers;
    private final List<String> sources;

    private ConfigDefaults(List<Properties> layers, List<String> sources) {
        this.layers = List.copyOf(layers);
        this.sources = List.copyOf(sources);
    }

    private ConfigDefaults(Properties props, String source) {
        this(List.of(props), List.of(source));
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
            return new ConfigDefaults(List.of(), List.of());
        }
        return fromFile(Path.of(file));
    }

    /**
     * These defaults overlaid by those of {@code file} (which win).
     *
     * @throws BadInputException if the file is missing or unreadable
     */
    ConfigDefaults overlay(Path file) {
        ConfigDefaults top = fromFile(file);
        List<Properties> l = new ArrayList<>(layers);
        List<String> s = new ArrayList<>(sources);
        l.addAll(top.layers);
        s.addAll(top.sources);
        return new ConfigDefaults(l, s);
    }

    /** The files read, lowest priority first. */
    List<String> files() {
        return sources;
    }

    /**
     * The value of {@code --conf} in {@code args} ({@code --conf FILE} or {@code --conf=FILE}), or null.
     * Read before parsing, since option defaults must be known while parsing.
     */
    static String confArgument(String[] args) {
        String found = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                break;
            }
            if (args[i].equals("--conf") && i + 1 < args.length) {
                found = args[++i];
            } else if (args[i].startsWith("--conf=")) {
                found = args[i].substring("--conf=".length());
            }
        }
        return found;
    }

    /** The defaults of one file. */
    static ConfigDefaults fromFile(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            throw new BadInputException("configuration file not found: " + file);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new BadInputException("cannot read configuration file " + file + ": permission denied", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new BadInputException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        return new ConfigDefaults(p, file.toString());
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        int layer = layerOf(arg);
        return layer < 0 ? null : lookup(layers.get(layer), (OptionSpec) arg).trim();
    }

    /** The file that gives the default of {@code arg}, or null for the built-in default. */
    String sourceOf(ArgSpec arg) {
        int layer = layerOf(arg);
        return layer < 0 ? null : sources.get(layer);
    }

    private int layerOf(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || option.longestName().equals("--conf")) {
            return -1;
        }
        for (int i = layers.size() - 1; i >= 0; i--) {
            if (lookup(layers.get(i), option) != null) {
                return i;
            }
        }
        return -1;
    }

    private static String lookup(Properties props, OptionSpec option) {
        String name = option.longestName().replaceFirst("^-+", "");
        String command = option.command() == null ? "" : option.command().name();
        String value = props.getProperty(command + "." + name);
        return value != null ? value : props.getProperty(name);
    }
}
