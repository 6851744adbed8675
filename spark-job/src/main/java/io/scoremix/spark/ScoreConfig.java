package io.scoremix.spark;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable, validated settings of {@link ScoreJob}; the constructor names the first bad value
 * ({@link BadInputException}).
 *
 * @param model        the model folder written by fit (any Hadoop path)
 * @param input        the rows to score (any Hadoop path)
 * @param format       the input format
 * @param features     the input columns matching the model's features, in the model's order; empty: the
 *                     model's own feature names
 * @param output       the output folder
 * @param outputFormat parquet or csv
 * @param steps        steps of the probability-flow ODE integration of the log-density, at least 2; 0
 *                     skips the learned model's log-density (crude columns only)
 * @param overwrite    whether an existing output may be replaced
 */
public record ScoreConfig(String model, String input, InputFormat format, List<String> features, String output,
                          OutputFormat outputFormat, int steps, boolean overwrite) {

    public static final int DEFAULT_STEPS = 100;

    public ScoreConfig {
        if (model == null || model.isBlank()) {
            throw new BadInputException("no model directory given");
        }
        if (input == null || input.isBlank()) {
            throw new BadInputException("no input given");
        }
        if (output == null || output.isBlank()) {
            throw new BadInputException("no output directory given");
        }
        if (steps < 0 || steps == 1 || steps > 100_000) {
            throw new BadInputException("steps must be 0 (no ODE log-density) or in 2..100000 (got " + steps + ")");
        }
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(outputFormat, "outputFormat");
        features = List.copyOf(features == null ? List.of() : features);
    }

    /** Defaults for everything but the model, input and output. */
    public static ScoreConfig of(String model, String input, String output) {
        return new ScoreConfig(model, input, InputFormat.PARQUET, List.of(), output, OutputFormat.PARQUET, DEFAULT_STEPS,
                false);
    }

    /** Every setting, for the provenance. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("input", input);
        m.put("format", format.id());
        m.put("features", features.isEmpty() ? "model" : features);
        m.put("output", output);
        m.put("output_format", outputFormat.id());
        m.put("steps", steps);
        m.put("overwrite", overwrite);
        return m;
    }
}
