package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.GaussianMixture;

import org.junit.jupiter.api.Test;

/** Parsing of {@code --steps N|auto} and its resolution into the curvature grid that is sampled. */
class SamplerStepsTest {

    /** Two narrow components at -1 and +1 in 1-D (far-1d after whitening): auto takes more than 2048 steps. */
    private static final GaussianMixture FAR = GaussianMixture.of(new double[] {0.5, 0.5},
            new double[][] {{-0.995}, {0.995}}, new double[][][] {{{0.0099}}, {{0.0099}}});

    @Test
    void parsesAutoAndNumbersAndNamesBadValues() {
        assertEquals(SamplerSteps.AUTO, SamplerSteps.parse("auto"));
        assertEquals(SamplerSteps.AUTO, SamplerSteps.parse(" AUTO "));
        assertEquals(512, SamplerSteps.parse("512"));
        assertEquals("auto", SamplerSteps.name(SamplerSteps.parse("auto")));
        assertEquals("512", SamplerSteps.name(512));
        for (String bad : new String[] {"1", "0", "-3", "1000001", "many", ""}) {
            BadInputException e = assertThrows(BadInputException.class, () -> SamplerSteps.parse(bad), bad);
            assertTrue(e.getMessage().contains("steps"), e.getMessage());
        }
        assertEquals(SamplerSteps.AUTO, SampleConfig.DEFAULT_STEPS, "sample's default is auto");
        assertThrows(BadInputException.class, () -> new SampleConfig("m", 1, "o", OutputFormat.PARQUET, 0, 1,
                SampleConfig.DEFAULT_METHOD, 1, false));
    }

    @Test
    void resolvesToTheCurvatureGridOfTheChosenSteps() {
        double horizon = 6;
        double delta = 1e-4;
        SamplerSteps.Resolved auto = SamplerSteps.resolve(FAR, horizon, delta, SamplerSteps.AUTO);
        TimeGrid.StepChoice choice = TimeGrid.autoSteps(FAR, horizon, delta);
        assertEquals(choice.steps(), auto.steps());
        assertTrue(auto.steps() > 2048 && auto.steps() <= 20_480, auto.describe());
        assertEquals(choice.predictedIntegral(), auto.predictedIntegral(), 0.0);
        assertArrayEquals(TimeGrid.curvature(FAR, horizon, delta, auto.steps()).times(), auto.grid().times(), 0.0);
        assertEquals("auto", auto.fields().get("steps_requested"));
        assertEquals(auto.steps(), auto.fields().get("steps"));
        assertEquals("curvature", auto.fields().get("grid"));
        assertEquals(auto.steps() + " steps (auto)", auto.describe());

        SamplerSteps.Resolved fixed = SamplerSteps.resolve(FAR, horizon, delta, 300);
        assertEquals(300, fixed.steps());
        assertEquals("300", fixed.fields().get("steps_requested"));
        assertEquals(auto.predictedIntegral() * auto.steps() / 300, fixed.predictedIntegral(),
                1e-12 * fixed.predictedIntegral());
        // A grid shipped as times is the same grid.
        assertArrayEquals(fixed.grid().times(), TimeGrid.of(fixed.grid().times()).times(), 0.0);
    }
}
