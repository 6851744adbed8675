package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.random.CounterRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Contract of {@link ReverseSampler}: addressing, blocks, Tweedie step, progress, argument checks. */
class ReverseSamplerTest {

    private static final ExactScore BLOBS = ExactScore.of(TestMixtures.blobs2d());
    private static final TimeGrid GRID = TimeGrid.benton(6, 1e-3, 24);
    private static final CounterRandom RNG = CounterRandom.of(2024);
    private static final long STREAM = 17;

    private static double[] run(SamplerConfig config, long counter, int n) {
        double[] out = new double[2 * n];
        ReverseSampler.of(config).sample(BLOBS, RNG, STREAM, counter, n, out);
        return out;
    }

    private static SamplerConfig config(SamplerConfig.Method method, boolean tweedie, int block) {
        return SamplerConfig.builder(GRID).method(method).tweedie(tweedie).blockSize(block).build();
    }

    @Test
    void splittingTheRangeGivesTheSamePointsBitForBit() {
        for (SamplerConfig.Method method : SamplerConfig.Method.values()) {
            for (boolean tweedie : new boolean[] {false, true}) {
                SamplerConfig c = config(method, tweedie, 64);
                int n = 700;
                double[] whole = run(c, 1000, n);
                for (int a : new int[] {0, 1, 63, 64, 65, 333, 699, 700}) {
                    double[] head = run(c, 1000, a);
                    double[] tail = run(c, 1000 + a, n - a);
                    double[] joined = new double[2 * n];
                    System.arraycopy(head, 0, joined, 0, 2 * a);
                    System.arraycopy(tail, 0, joined, 2 * a, 2 * (n - a));
                    assertArrayEquals(whole, joined, 0.0, method + ", tweedie " + tweedie + ", split at " + a);
                }
            }
        }
    }

    @Test
    void blockSizeDoesNotChangeTheNumbers() {
        for (SamplerConfig.Method method : SamplerConfig.Method.values()) {
            double[] reference = run(config(method, true, SamplerConfig.DEFAULT_BLOCK_SIZE), 5, 600);
            for (int block : new int[] {1, 7, 100, 599, 600, 4096}) {
                assertArrayEquals(reference, run(config(method, true, block), 5, 600), 0.0,
                        method + ", block " + block);
            }
        }
    }

    @Test
    void streamsSeedsAndCountersGiveDifferentPoints() {
        SamplerConfig c = config(SamplerConfig.Method.SDE, false, 256);
        double[] a = run(c, 0, 50);
        double[] b = new double[100];
        ReverseSampler.of(c).sample(BLOBS, RNG, STREAM + 1, 0, 50, b);
        double[] other = new double[100];
        ReverseSampler.of(c).sample(BLOBS, CounterRandom.of(2025), STREAM, 0, 50, other);
        double[] shifted = run(c, 1, 50);
        for (int i = 0; i < 100; i++) {
            assertTrue(a[i] != b[i] && a[i] != other[i], "coordinate " + i);
        }
        // Point j + 1 of the first call is point j of the shifted call.
        assertArrayEquals(Arrays.copyOfRange(a, 2, 100), Arrays.copyOfRange(shifted, 0, 98), 0.0);
        assertFalse(Arrays.equals(a, shifted));
    }

    @Test
    void startingPointsAndNoiseComeFromTheDocumentedSubStreams() {
        // One step from 2 to 1 with a zero score: the ODE gives e y_0 and the SDE e y_0 + sqrt(e^2 - 1) xi,
        // y_0 from sub-stream (stream, 0) and xi from (stream, 1, 0), counters p d .. p d + d - 1.
        ScoreFunction zero = new ScoreFunction() {
            @Override
            public int dimension() {
                return 2;
            }

            @Override
            public void score(double t, double[] x, int n, double[] out) {
                Arrays.fill(out, 0, 2 * n, 0.0);
            }
        };
        TimeGrid one = TimeGrid.of(2, 1);
        double[] ode = new double[20];
        ReverseSampler.of(SamplerConfig.builder(one).method(SamplerConfig.Method.ODE).build())
                .sample(zero, RNG, STREAM, 3, 10, ode);
        double[] start = new double[20];
        RNG.fillGaussian(CounterRandom.stream(STREAM, 0), 3 * 2, start, 0, 20);
        for (int i = 0; i < 20; i++) {
            assertEquals(start[i] * Math.E, ode[i], 1e-15 * Math.abs(ode[i]), "coordinate " + i);
        }
        // The SDE with zero score: y e + sqrt(e^2 - 1) xi, xi from sub-stream (STREAM, 1, 0).
        double[] sde = new double[20];
        ReverseSampler.of(SamplerConfig.builder(one).build()).sample(zero, RNG, STREAM, 3, 10, sde);
        double[] xi = new double[20];
        RNG.fillGaussian(CounterRandom.stream(STREAM, 1, 0), 3 * 2, xi, 0, 20);
        double c = Math.sqrt(Math.expm1(2));
        for (int i = 0; i < 20; i++) {
            assertEquals(start[i] * Math.E + c * xi[i], sde[i], 1e-14 * (1 + Math.abs(sde[i])), "coordinate " + i);
        }
    }

    @Test
    void tweedieStepIsAppliedToTheOutputAtDelta() {
        for (SamplerConfig.Method method : SamplerConfig.Method.values()) {
            double[] y = run(config(method, false, 256), 0, 300);
            double[] x = run(config(method, true, 256), 0, 300);
            double delta = GRID.time(GRID.steps());
            double[] s = new double[600];
            BLOBS.score(delta, y, 300, s);
            double scale = Math.exp(delta);
            double s2 = NoiseSchedule.sigma2(delta);
            for (int i = 0; i < 600; i++) {
                assertEquals(scale * (y[i] + s2 * s[i]), x[i], 0.0, method + ", coordinate " + i);
            }
        }
    }

    @Test
    void scoreIsCalledOncePerBlockAndStepAtTheGridTimes() {
        List<Double> times = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        ScoreFunction spy = new ScoreFunction() {
            @Override
            public int dimension() {
                return 2;
            }

            @Override
            public void score(double t, double[] x, int n, double[] out) {
                times.add(t);
                sizes.add(n);
                BLOBS.score(t, x, n, out);
            }
        };
        TimeGrid grid = TimeGrid.of(3, 1, 0.1, 0.01);
        double[] out = new double[2 * 25];
        ReverseSampler.of(SamplerConfig.builder(grid).tweedie(true).blockSize(10).build())
                .sample(spy, RNG, STREAM, 0, 25, out);
        // SDE: s_0, s_1, s_2 then the Tweedie call at delta, per block of 10, 10, 5.
        assertEquals(List.of(3.0, 1.0, 0.1, 0.01, 3.0, 1.0, 0.1, 0.01, 3.0, 1.0, 0.1, 0.01), times);
        assertEquals(List.of(10, 10, 10, 10, 10, 10, 10, 10, 5, 5, 5, 5), sizes);
        times.clear();
        ReverseSampler.of(SamplerConfig.builder(grid).method(SamplerConfig.Method.ODE).blockSize(25).build())
                .sample(spy, RNG, STREAM, 0, 25, out);
        // ODE: s_j then the predictor at s_{j+1}.
        assertEquals(List.of(3.0, 1.0, 1.0, 0.1, 0.1, 0.01), times);
    }

    @Test
    void progressIsReportedPerBlock() {
        List<String> calls = new ArrayList<>();
        ReverseSampler.of(config(SamplerConfig.Method.SDE, false, 40))
                .sample(BLOBS, RNG, STREAM, 0, 100, new double[200], (done, total) -> calls.add(done + "/" + total));
        assertEquals(List.of("40/100", "80/100", "100/100"), calls);
    }

    @Test
    void writesOnlyTheFirstNPointsAndAcceptsZero() {
        double[] out = new double[2 * 10 + 3];
        Arrays.fill(out, -7.0);
        ReverseSampler.of(config(SamplerConfig.Method.SDE, false, 4)).sample(BLOBS, RNG, STREAM, 0, 10, out);
        for (int i = 20; i < 23; i++) {
            assertEquals(-7.0, out[i], 0.0);
        }
        double[] none = new double[0];
        ReverseSampler.of(config(SamplerConfig.Method.ODE, true, 4)).sample(BLOBS, RNG, STREAM, 0, 0, none);
    }

    @Test
    void stepLoopsDoNotAllocate() {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!(bean instanceof com.sun.management.ThreadMXBean)) {
            return;
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        ScoreFunction zero = new ScoreFunction() {
            @Override
            public int dimension() {
                return 2;
            }

            @Override
            public void score(double t, double[] x, int n, double[] out) {
                Arrays.fill(out, 0, 2 * n, 0.0);
            }
        };
        int block = 50;
        int steps = 64;
        for (SamplerConfig.Method method : SamplerConfig.Method.values()) {
            ReverseSampler sampler = ReverseSampler.of(SamplerConfig.builder(TimeGrid.benton(6, 1e-3, steps))
                    .method(method).tweedie(true).blockSize(block).build());
            double[] out = new double[2 * 100 * block];
            long small = 0;
            long large = 0;
            for (int rep = 0; rep < 3; rep++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                sampler.sample(zero, RNG, STREAM, 0, block, out);
                long middle = threads.getCurrentThreadAllocatedBytes();
                sampler.sample(zero, RNG, STREAM, 0, 100 * block, out);
                small = middle - before;
                large = threads.getCurrentThreadAllocatedBytes() - middle;
            }
            // 99 more blocks may cost only what CounterRandom.fillGaussian allocates per call (a 4-word array,
            // 32 bytes, often removed by escape analysis): at most 99 (steps + 1) calls of 64 bytes.
            long allowed = 99L * (steps + 1) * 64;
            System.out.printf("%s: %d bytes for one block, %d for 100 blocks of %d points and %d steps%n", method,
                    small, large, block, steps);
            assertTrue(large - small <= allowed, method + ": " + (large - small) + " bytes for 99 more blocks, allowed "
                    + allowed + " (first block: " + small + ")");
        }
    }

    @Test
    void configIsValidatedAndKept() {
        SamplerConfig c = SamplerConfig.builder(GRID).method(SamplerConfig.Method.ODE).tweedie(true)
                .blockSize(77).build();
        assertSame(GRID, c.grid());
        assertEquals(SamplerConfig.Method.ODE, c.method());
        assertTrue(c.tweedie());
        assertEquals(77, c.blockSize());
        assertEquals(6, c.horizon(), 0.0);
        assertEquals(1e-3, c.delta(), 0.0);
        assertEquals(c.toString(), c.toBuilder().build().toString());
        assertSame(c, ReverseSampler.of(c).config());
        SamplerConfig d = SamplerConfig.builder(GRID).build();
        assertEquals(SamplerConfig.Method.SDE, d.method());
        assertFalse(d.tweedie());
        assertEquals(SamplerConfig.DEFAULT_BLOCK_SIZE, d.blockSize());

        assertMessage(() -> SamplerConfig.builder(null), "grid");
        assertMessage(() -> SamplerConfig.builder(TimeGrid.learnedLevels(4, 1e-3, 6)), "decrease");
        assertMessage(() -> SamplerConfig.builder(GRID).blockSize(0), "got 0");
        assertMessage(() -> SamplerConfig.builder(GRID).method(null), "method");
        assertMessage(() -> ReverseSampler.of(null), "configuration");
    }

    @Test
    void badSampleArgumentsAreNamed() {
        ReverseSampler s = ReverseSampler.of(config(SamplerConfig.Method.SDE, false, 8));
        assertMessage(() -> s.sample(null, RNG, 0, 0, 1, new double[2]), "score");
        assertMessage(() -> s.sample(BLOBS, null, 0, 0, 1, new double[2]), "rng");
        assertMessage(() -> s.sample(BLOBS, RNG, 0, 0, 1, null), "out");
        assertMessage(() -> s.sample(BLOBS, RNG, 0, 0, -1, new double[2]), "-1");
        assertMessage(() -> s.sample(BLOBS, RNG, 0, -5, 1, new double[2]), "-5");
        assertMessage(() -> s.sample(BLOBS, RNG, 0, 0, 3, new double[5]), "length 5");
        assertMessage(() -> s.sample(BLOBS, RNG, 0, Long.MAX_VALUE / 2, 1, new double[2]), "overflow");
    }

    private static void assertMessage(Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should name " + fragment);
    }
}
