package io.scoremix.spark;

import io.scoremix.core.diffusion.SamplerConfig;
import java.util.Locale;
import java.util.Objects;

/**
 * Immutable, validated settings of {@link SampleJob}; the constructor names the first bad value
 * ({@link BadInputException}).
 *
 * @param model      the model directory written by {@code fit} (any Hadoop path)
 * @param n          number of points, at least 1
 * @param output     the output directory (any Hadoop path)
 * @param format     parquet or csv
 * @param partitions number of partitions, or 0 for the automatic choice of {@code generate}
 * @param seed       seed of the counter-based generator
 * @param method     the reverse sampler (SDE, SDE_RESIDUAL or ODE)
 * @param steps      steps of the curvature grid ({@code TimeGrid.curvature}) from the model's horizon T down
 *                   to its delta, in 2..1000000, or {@link SamplerSteps#AUTO} (the default): chosen from the
 *                   model's crude mixture ({@link SamplerSteps})
 * @param overwrite  whether an existing output may be replaced
 */
public record SampleConfig(String model, long n, String output, OutputFormat format, int partitions, long seed,
                           SamplerConfig.Method method, int steps, boolean overwrite) {

    public static final long DEFAULT_SEED = 42L;
    /** {@code auto}: the step count is chosen per model ({@link SamplerSteps}). */
    public static final int DEFAULT_STEPS = SamplerSteps.AUTO;
    public static final SamplerConfig.Method DEFAULT_METHOD = SamplerConfig.Method.SDE_RESIDUAL;

    public SampleConfig {
        if (model == null || model.isBlank()) {
            throw new BadInputException("no model directory given");
        }
        if (output == null || output.isBlank()) {
            throw new BadInputException("no output directory given");
        }
        if (n < 1) {
            throw new BadInputException("n must be at least 1 (got " + n + ")");
        }
        if (partitions < 0) {
            throw new BadInputException("partitions must be at least 1, or 0 for automatic (got " + partitions + ")");
        }
        SamplerSteps.check(steps);
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(method, "method");
    }

    /** Defaults for everything but the model, n and the output. */
    public static SampleConfig of(String model, long n, String output) {
        return new SampleConfig(model, n, output, OutputFormat.PARQUET, 0, DEFAULT_SEED, DEFAULT_METHOD, DEFAULT_STEPS,
                false);
    }

    /** The sampler named {@code name} (sde, sde_residual or ode), case-insensitively. */
    public static SamplerConfig.Method parseMethod(String name) {
        String key = name == null ? "" : name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (SamplerConfig.Method m : SamplerConfig.Method.values()) {
            if (m.name().equals(key)) {
                return m;
            }
        }
        throw new BadInputException("unknown sampler '" + name + "' (expected sde, sde_residual or ode)");
    }
}
