package io.scoremix.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MeanAccumulatorTest {

    @Test
    void splitThenMergeEqualsOnePass() {
        double[] x = new double[1001];
        for (int i = 0; i < x.length; i++) {
            // Large offset, small spread: the case where naive sums of squares cancel.
            x[i] = 1e8 + Math.sin(i * 0.37) + (i % 7);
        }
        MeanAccumulator all = new MeanAccumulator();
        MeanAccumulator a = new MeanAccumulator();
        MeanAccumulator b = new MeanAccumulator();
        MeanAccumulator empty = new MeanAccumulator();
        for (int i = 0; i < x.length; i++) {
            all.add(x[i]);
            (i < 300 ? a : b).add(x[i]);
        }
        a.merge(empty);
        empty.merge(a);
        empty.merge(b);
        assertEquals(all.count(), empty.count());
        assertEquals(all.mean(), empty.mean(), 1e-7);
        assertEquals(all.variance(), empty.variance(), 1e-9 * all.variance());
        // Two-pass reference.
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        assertEquals(ss / (x.length - 1), all.variance(), 1e-9 * all.variance());
        assertEquals(Math.sqrt(all.variance() / x.length), all.estimate().standardError(), 1e-15);
    }
}
