package io.scoremix.core.random;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * CounterRandom's fills against {@link CounterRandomReference}, the implementation they replaced: every
 * draw must be bit for bit the same (compared with {@code Double.doubleToRawLongBits}), since seeded
 * models, tests and committed benchmark rows depend on the exact values. Cases cover odd and even first
 * counters, lengths 0 to 9 and long ranges, non-zero offsets, and counters that wrap past 2^64 and past
 * {@code Long.MAX_VALUE}; cells outside {@code [off, off+len)} must stay untouched.
 */
class CounterRandomEquivalenceTest {

    /** Random cases per fill; the case parameters come from a fixed-seed generator, so runs repeat. */
    private static final int CASES = 3000;
    /** Cells checked on either side of the filled range. */
    private static final int GUARD = 3;
    /** A NaN with a payload no fill produces, for the guard cells. */
    private static final double CANARY = Double.longBitsToDouble(0x7FF8_0000_DEAD_BEEFL);

    private enum Fill { UNIFORM, GAUSSIAN }

    @Test
    void fillGaussianEqualsTheReferenceBitForBit() {
        randomCases(Fill.GAUSSIAN, new SplittableRandom(0xC0FFEEL));
    }

    @Test
    void fillUniformEqualsTheReferenceBitForBit() {
        randomCases(Fill.UNIFORM, new SplittableRandom(0xBEEFL));
    }

    @Test
    void rangesAcrossTheCounterWrapEqualTheReference() {
        long[] counters = {-12, -11, -2, -1, Long.MAX_VALUE - 11, Long.MAX_VALUE - 10, Long.MAX_VALUE - 1,
            Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1};
        long[] seeds = {0, -1, 42, Long.MIN_VALUE};
        long[] streams = {0, -1, 7, Long.MAX_VALUE};
        for (Fill fill : Fill.values()) {
            for (long seed : seeds) {
                for (long stream : streams) {
                    for (long counter : counters) {
                        for (int len = 0; len <= 25; len++) {
                            check(fill, seed, stream, counter, 1, len);
                        }
                    }
                }
            }
        }
    }

    @Test
    void singleDrawsEqualTheReference() {
        SplittableRandom cases = new SplittableRandom(17);
        for (int t = 0; t < CASES; t++) {
            long seed = cases.nextLong();
            long stream = cases.nextLong();
            long counter = counter(cases);
            CounterRandom fast = CounterRandom.of(seed);
            CounterRandomReference reference = CounterRandomReference.of(seed);
            String where = " at seed " + seed + ", stream " + stream + ", counter " + counter;
            assertEquals(Double.doubleToRawLongBits(reference.gaussian(stream, counter)),
                    Double.doubleToRawLongBits(fast.gaussian(stream, counter)), () -> "gaussian" + where);
            assertEquals(Double.doubleToRawLongBits(reference.uniform(stream, counter)),
                    Double.doubleToRawLongBits(fast.uniform(stream, counter)), () -> "uniform" + where);
        }
    }

    @Test
    void streamKeysAreUnchanged() {
        SplittableRandom cases = new SplittableRandom(5);
        for (int t = 0; t < 100; t++) {
            long a = cases.nextLong();
            long b = cases.nextInt(1000);
            assertEquals(CounterRandomReference.stream(a, b), CounterRandom.stream(a, b));
        }
        assertEquals(CounterRandomReference.stream(), CounterRandom.stream());
    }

    private static void randomCases(Fill fill, SplittableRandom cases) {
        for (int t = 0; t < CASES; t++) {
            long seed = t % 50 == 0 ? t / 50 : cases.nextLong();
            long stream = t % 7 == 0 ? cases.nextInt(16) : cases.nextLong();
            long counter = counter(cases);
            int off = cases.nextInt(4);
            check(fill, seed, stream, counter, off, length(cases));
        }
        // The long ranges of the benchmark, even and odd.
        for (int len : new int[]{5120, 5121}) {
            for (long counter : new long[]{0, 1, 5120L * 10, 5120L * 10 + 1}) {
                check(fill, 3, 11, counter, 2, len);
            }
        }
    }

    /** Small, random, and near-wrap counters, each as often even as odd. */
    private static long counter(SplittableRandom cases) {
        switch (cases.nextInt(4)) {
            case 0:
                return cases.nextInt(64);
            case 1:
                return cases.nextLong();
            case 2:
                return -1 - cases.nextInt(64);
            default:
                return Long.MAX_VALUE - cases.nextInt(64);
        }
    }

    /** Lengths 0 to 9 half the time, else up to 600. */
    private static int length(SplittableRandom cases) {
        return cases.nextBoolean() ? cases.nextInt(10) : 10 + cases.nextInt(591);
    }

    private static void check(Fill fill, long seed, long stream, long counter, int off, int len) {
        double[] expected = guarded(off, len);
        double[] actual = guarded(off, len);
        CounterRandom fast = CounterRandom.of(seed);
        CounterRandomReference reference = CounterRandomReference.of(seed);
        if (fill == Fill.GAUSSIAN) {
            reference.fillGaussian(stream, counter, expected, off, len);
            fast.fillGaussian(stream, counter, actual, off, len);
        } else {
            reference.fillUniform(stream, counter, expected, off, len);
            fast.fillUniform(stream, counter, actual, off, len);
        }
        for (int i = 0; i < actual.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                fail(fill + " differs at cell " + i + " (" + expected[i] + " expected, " + actual[i]
                        + " got) for seed " + seed + ", stream " + stream + ", counter " + counter + ", off "
                        + off + ", len " + len);
            }
        }
        for (int i = 0; i < actual.length; i++) {
            boolean inside = i >= off && i < off + len;
            if (!inside && Double.doubleToRawLongBits(actual[i]) != Double.doubleToRawLongBits(CANARY)) {
                fail(fill + " wrote cell " + i + " outside [" + off + ", " + (off + len) + ")");
            }
        }
    }

    private static double[] guarded(int off, int len) {
        double[] a = new double[off + len + GUARD];
        Arrays.fill(a, CANARY);
        return a;
    }
}
