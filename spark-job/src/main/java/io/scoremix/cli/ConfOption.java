package io.scoremix.cli;

import picocli.CommandLine.Option;

/**
 * The {@code --conf FILE} option every command takes: a properties file of option defaults that overrides
 * conf/scoremix.properties and is overridden by the command line. {@link Main} reads it before parsing
 * (option defaults must be known while parsing); this mixin only makes the option legal and documented.
 */
final class ConfOption {

    @Option(names = "--conf", paramLabel = "FILE", description = "Properties file of option defaults (keys "
            + "'<command>.<option>' or '<option>'); overrides conf/scoremix.properties, overridden by flags.")
    String file;
}
