package io.scoremix.spark;

import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.GaussianMixture;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The sampler's step count: a number, or {@code auto} (the default of {@code sample}, {@code evaluate}, the fit
 * report, the demo and {@code ScoreMixtureModel.sample}), which chooses it per model from its crude mixture
 * ({@code TimeGrid.autoSteps}: the fewest steps whose predicted discretisation term in the certified bound is at
 * most 0.01, from 2048 up to {@code 2048 * max(1, floor(10 / d))}). Configs hold the request as an int,
 * {@link #AUTO} for auto; {@link #resolve} turns it into the curvature grid that is sampled, once, on the driver.
 */
public final class SamplerSteps {

    /** The request {@code auto} in an int field. */
    public static final int AUTO = 0;
    /** Most steps a number may request. */
    public static final int MAX = 1_000_000;

    private SamplerSteps() {
    }

    /**
     * {@code "auto"} (any case) as {@link #AUTO}, or a number of steps in 2..{@value #MAX}.
     *
     * @throws BadInputException naming the bad value
     */
    public static int parse(String value) {
        String v = value == null ? "" : value.trim();
        if (v.equalsIgnoreCase("auto")) {
            return AUTO;
        }
        int steps;
        try {
            steps = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadInputException("steps must be a number or auto (got '" + value + "')");
        }
        if (steps < 2 || steps > MAX) {
            throw new BadInputException("steps must be auto or in 2.." + MAX + " (got " + value + ")");
        }
        return steps;
    }

    /**
     * Checks a request held as an int.
     *
     * @throws BadInputException unless it is {@link #AUTO} or in 2..{@value #MAX}
     */
    public static int check(int steps) {
        if (steps != AUTO && (steps < 2 || steps > MAX)) {
            throw new BadInputException("steps must be auto or in 2.." + MAX + " (got " + steps + ")");
        }
        return steps;
    }

    /** The request as written: {@code "auto"} or the number. */
    public static String name(int steps) {
        return steps == AUTO ? "auto" : Integer.toString(steps);
    }

    /**
     * The curvature grid of the model's crude mixture from T down to delta with the requested steps.
     *
     * @param crude     the model's crude mixture (whitened coordinates)
     * @param requested {@link #AUTO} or a step count
     * @throws BadInputException if the grid cannot be built (e.g. too many steps for the span)
     */
    public static Resolved resolve(GaussianMixture crude, double horizon, double delta, int requested) {
        check(requested);
        try {
            TimeGrid.CurvatureProfile profile = TimeGrid.curvatureProfile(crude, horizon, delta);
            int steps = requested == AUTO ? profile.autoSteps().steps() : requested;
            return new Resolved(requested, steps, profile.unitIntegral() / steps, profile.grid(steps));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("sampler grid: " + e.getMessage(), e);
        }
    }

    /**
     * A resolved request.
     *
     * @param requested         {@link #AUTO} or the step count asked for
     * @param steps             the steps of the grid
     * @param predictedIntegral the discretisation part of the certified bound's score integral predicted from the
     *                          crude mixture's curvature for this grid ({@code unitIntegral / steps})
     * @param grid              the curvature grid, T down to delta
     */
    public record Resolved(int requested, int steps, double predictedIntegral, TimeGrid grid) {

        /** {@code steps_requested}, {@code steps}, {@code grid} and {@code predicted_discretisation_integral}. */
        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("steps_requested", name(requested));
            m.put("steps", steps);
            m.put("grid", "curvature");
            m.put("predicted_discretisation_integral", predictedIntegral);
            return m;
        }

        /** E.g. {@code "20480 steps (auto)"} or {@code "512 steps"}. */
        public String describe() {
            return String.format(Locale.ROOT, "%d steps%s", steps, requested == AUTO ? " (auto)" : "");
        }
    }
}
