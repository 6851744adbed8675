package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.Test;

/**
 * Order of the probability-flow integrator on blobs-2d with the exact score. The ODE is deterministic
 * given the start, and the start depends only on (seed, stream, point), so the same points can be
 * pushed through grids of every size and compared with a 4096-step reference path by path.
 */
class OdeConvergenceTest {

    private static final ExactScore SCORE = ExactScore.of(TestMixtures.blobs2d());
    private static final int POINTS = 2000;

    private static double[] flow(int steps) {
        double[] out = new double[2 * POINTS];
        SamplerConfig config = SamplerConfig.builder(TimeGrid.benton(6, 1e-3, steps))
                .method(SamplerConfig.Method.ODE).build();
        ReverseSampler.of(config).sample(SCORE, CounterRandom.of(8), 0, 0, POINTS, out);
        return out;
    }

    @Test
    void errorFallsAsTheSquareOfTheStep() {
        double[] reference = flow(4096);
        double previous = Double.NaN;
        StringBuilder line = new StringBuilder("blobs-2d ODE map RMS error vs 4096 steps:");
        for (int steps : new int[] {16, 32, 64, 128}) {
            double[] y = flow(steps);
            double sum = 0;
            for (int i = 0; i < y.length; i++) {
                double e = y[i] - reference[i];
                sum += e * e;
            }
            double rms = Math.sqrt(sum / POINTS);
            line.append(String.format(" N=%d %.3e", steps, rms));
            if (!Double.isNaN(previous)) {
                double ratio = previous / rms;
                line.append(String.format(" (ratio %.2f, order %.2f)", ratio, Math.log(ratio) / Math.log(2)));
                // Second order: ratio 4 when the steps double. The reference's own error (~(128/4096)^2 of
                // the 128-step error) and the grid's rounding leave it well above 3.
                assertTrue(ratio > 3, "error ratio " + ratio + " from " + steps / 2 + " to " + steps + " steps");
            }
            previous = rms;
        }
        System.out.println(line);
    }
}
