package io.scoremix.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Every option of a parsed command with its effective value and where the value came from: the command
 * line, a configuration file (conf/scoremix.properties or {@code --conf}), or the built-in default. Goes
 * into the provenance record of the commands that write one.
 */
final class EffectiveOptions {

    private EffectiveOptions() {
    }

    /** Option name (without dashes) to {value, source}. */
    static Map<String, Object> of(CommandSpec spec, ConfigDefaults defaults) {
        ParseResult parsed = spec.commandLine().getParseResult();
        Map<String, Object> out = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            String name = o.longestName().replaceFirst("^-+", "");
            Object value = o.getValue();
            if (value instanceof List<?> l) {
                value = List.copyOf(l);
            } else if (value instanceof Enum<?> e) {
                // As typed on the command line (sde_residual, paper), not the constant's name.
                value = e.name().toLowerCase(Locale.ROOT);
            } else if (value != null && !(value instanceof Number) && !(value instanceof Boolean)) {
                value = value.toString();
            }
            String source;
            if (parsed != null && parsed.hasMatchedOption(o)) {
                source = "command line";
            } else {
                String file = defaults == null ? null : defaults.sourceOf(o);
                source = file != null ? file : "built-in default";
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("value", value);
            e.put("source", source);
            out.put(name, e);
        }
        return out;
    }
}
