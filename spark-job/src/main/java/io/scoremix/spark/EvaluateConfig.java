package io.scoremix.spark;

import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.io.MixtureSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable, validated settings of {@link EvaluateJob}; the constructor names the first bad value
 * ({@link BadInputException}). Exactly one of {@code model} and {@code samples} and exactly one of
 * {@code truth} and {@code test} are given.
 *
 * @param model          a model folder written by fit, or null
 * @param samples        a folder (or file) of samples to judge, or null
 * @param samplesFormat  the format of {@code samples}
 * @param truth          the true mixture, or null
 * @param truthSource    where the truth was read from (for the provenance)
 * @param test           held-out data (any Hadoop path), or null
 * @param testFormat     the format of {@code test}
 * @param features       the columns of samples and test data; empty: the model's feature names, or every
 *                       numeric column
 * @param n              points drawn from the model, or the most rows read from {@code samples}; also the
 *                       size of the fresh truth sample and the most test rows read
 * @param densityPoints  points at which the ODE model's log-density is computed (Monte Carlo TV and held-out
 *                       log-likelihood); 0 skips the density metrics
 * @param densitySteps   steps of the ODE integration of the log-density
 * @param method         the sampler that draws from the model
 * @param steps          steps of the sampler's grid (of the draws and of the certified bound), or
 *                       {@link SamplerSteps#AUTO}: chosen from the model's crude mixture as {@code sample} does
 * @param boundPaths     forward paths per step of the certified bound; 0 skips it
 * @param seed           seed of every draw
 * @param output         the output folder (evaluation.json, report.html, _scoremix.json)
 * @param overwrite      whether an existing output may be replaced
 */
public record EvaluateConfig(String model, String samples, InputFormat samplesFormat, MixtureSpec truth,
                             String truthSource, String test, InputFormat testFormat, List<String> features, int n,
                             int densityPoints, int densitySteps, SamplerConfig.Method method, int steps,
                             int boundPaths, long seed, String output, boolean overwrite) {

    public static final int DEFAULT_N = 20_000;
    public static final int DEFAULT_DENSITY_POINTS = 4_000;
    public static final int DEFAULT_DENSITY_STEPS = 100;
    public static final int DEFAULT_BOUND_PATHS = 500;

    public EvaluateConfig {
        if ((model == null) == (samples == null)) {
            throw new BadInputException("give exactly one of --model and --samples");
        }
        if ((truth == null) == (test == null)) {
            throw new BadInputException("give exactly one of --truth and --test");
        }
        if (output == null || output.isBlank()) {
            throw new BadInputException("no output directory given");
        }
        if (n < 20) {
            throw new BadInputException("n must be at least 20 (got " + n + ")");
        }
        if (densityPoints < 0 || densityPoints == 1) {
            throw new BadInputException("density points must be 0 or at least 2 (got " + densityPoints + ")");
        }
        if (densitySteps < 2) {
            throw new BadInputException("density steps must be at least 2 (got " + densitySteps + ")");
        }
        SamplerSteps.check(steps);
        if (boundPaths < 0 || boundPaths == 1) {
            throw new BadInputException("bound paths must be 0 or at least 2 (got " + boundPaths + ")");
        }
        Objects.requireNonNull(samplesFormat, "samplesFormat");
        Objects.requireNonNull(testFormat, "testFormat");
        Objects.requireNonNull(method, "method");
        features = List.copyOf(features == null ? List.of() : features);
    }

    /** Defaults for a model judged against a known truth. */
    public static EvaluateConfig ofModel(String model, MixtureSpec truth, String truthSource, String output) {
        return new EvaluateConfig(model, null, InputFormat.PARQUET, truth, truthSource, null, InputFormat.PARQUET,
                List.of(), DEFAULT_N, DEFAULT_DENSITY_POINTS, DEFAULT_DENSITY_STEPS, SampleConfig.DEFAULT_METHOD,
                SampleConfig.DEFAULT_STEPS, DEFAULT_BOUND_PATHS, 42L, output, false);
    }

    /** This config with other sample sizes (n, density points, bound paths). */
    public EvaluateConfig withSizes(int draws, int density, int paths) {
        return new EvaluateConfig(model, samples, samplesFormat, truth, truthSource, test, testFormat, features, draws,
                density, densitySteps, method, steps, paths, seed, output, overwrite);
    }

    /** This config with another output and overwrite flag. */
    public EvaluateConfig withOutput(String value, boolean replace) {
        return new EvaluateConfig(model, samples, samplesFormat, truth, truthSource, test, testFormat, features, n,
                densityPoints, densitySteps, method, steps, boundPaths, seed, value, replace);
    }

    /** Every setting, for the provenance and evaluation.json. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("samples", samples);
        m.put("samples_format", samples == null ? null : samplesFormat.id());
        m.put("truth", truthSource);
        m.put("test", test);
        m.put("test_format", test == null ? null : testFormat.id());
        m.put("features", features.isEmpty() ? "auto" : features);
        m.put("n", n);
        m.put("density_points", densityPoints);
        m.put("density_steps", densitySteps);
        m.put("sampler", method.name().toLowerCase(Locale.ROOT));
        m.put("steps", SamplerSteps.name(steps));
        m.put("bound_paths", boundPaths);
        m.put("seed", seed);
        m.put("output", output);
        m.put("overwrite", overwrite);
        return m;
    }
}
