package io.scoremix.core.mixture;

import io.scoremix.core.mixture.CrudeMixtureConfig.Coordinates;
import io.scoremix.core.mixture.CrudeMixtureConfig.Initialisation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CrudeMixtureConfigTest {

    private static void rejects(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), "message '" + ex.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void defaults() {
        CrudeMixtureConfig c = CrudeMixtureConfig.of(3);
        assertEquals(3, c.k());
        assertEquals(CrudeMixtureConfig.DEFAULT_MAX_ITERATIONS, c.maxIterations());
        assertEquals(CrudeMixtureConfig.DEFAULT_TOLERANCE, c.tolerance());
        assertEquals(CrudeMixtureConfig.DEFAULT_REG, c.reg());
        assertEquals(CrudeMixtureConfig.DEFAULT_RESTARTS, c.restarts());
        assertEquals(EnumSet.allOf(Initialisation.class), c.initialisations());
        assertEquals(EnumSet.allOf(Coordinates.class), c.coordinates());
        assertEquals(CrudeMixtureConfig.DEFAULT_HELD_OUT_FRACTION, c.heldOutFraction());
        assertEquals(0L, c.seed());
        assertEquals(3 * 2 * CrudeMixtureConfig.DEFAULT_RESTARTS, c.candidates());
    }

    @Test
    void badValuesAreRejectedByName() {
        rejects(() -> CrudeMixtureConfig.builder(0), "k", "0");
        CrudeMixtureConfig.Builder b = CrudeMixtureConfig.builder(2);
        rejects(() -> b.maxIterations(0), "maxIterations", "0");
        rejects(() -> b.tolerance(-1e-3), "tolerance", "-0.001");
        rejects(() -> b.tolerance(Double.NaN), "tolerance", "NaN");
        rejects(() -> b.reg(0), "reg", "0.0");
        rejects(() -> b.reg(Double.POSITIVE_INFINITY), "reg", "Infinity");
        rejects(() -> b.restarts(0), "restarts", "0");
        rejects(() -> b.initialisations(List.of()), "initialisations");
        rejects(() -> b.coordinates(new Coordinates[0]), "coordinates");
        rejects(() -> b.initialisations(java.util.Arrays.asList(Initialisation.KMEANS, null)), "initialisations", "null");
        rejects(() -> b.heldOutFraction(0.75), "heldOutFraction", "0.75");
        rejects(() -> b.heldOutFraction(-0.1), "heldOutFraction", "-0.1");
    }

    @Test
    void immutableWithDefensiveCopies() {
        Set<Initialisation> inits = EnumSet.of(Initialisation.KMEANS);
        CrudeMixtureConfig c = CrudeMixtureConfig.builder(2).initialisations(inits).coordinates(Coordinates.RAW)
                .restarts(3).seed(7).reg(1e-4).tolerance(1e-7).maxIterations(50).heldOutFraction(0.2).build();
        inits.add(Initialisation.PAPER_SUBSPACE);
        assertEquals(EnumSet.of(Initialisation.KMEANS), c.initialisations());
        assertThrows(UnsupportedOperationException.class, () -> c.initialisations().add(Initialisation.KMEANS_PP_SEEDING));
        assertThrows(UnsupportedOperationException.class, () -> c.coordinates().clear());
        assertEquals(3, c.candidates());
        CrudeMixtureConfig again = c.toBuilder().build();
        assertEquals(c, again);
        assertEquals(c.hashCode(), again.hashCode());
        assertNotEquals(c, c.toBuilder().seed(8).build());
        assertTrue(c.toString().contains("seed=7"), c.toString());
    }
}
