package io.scoremix.core.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ExactScoreTest {

    private static final GaussianMixture BLOBS = TestMixtures.blobs2d();
    private static final int N = 300;

    private static double[] points(long stream) {
        double[] x = new double[N * 2];
        CounterRandom.of(11).fillGaussian(stream, 0, x, 0, x.length);
        return x;
    }

    @Test
    void equalsTheNoisedMixturesScore() {
        ExactScore score = ExactScore.of(BLOBS);
        assertEquals(2, score.dimension());
        assertSame(BLOBS, score.mixture());
        double[] x = points(1);
        for (double t : new double[] {1e-3, 0.05, 0.5, 2, 6}) {
            double[] got = new double[N * 2];
            double[] want = new double[N * 2];
            score.score(t, x, N, got);
            BLOBS.noised(t).score(x, N, want);
            // Same arithmetic on an equal mixture: bit for bit.
            assertArrayEquals(want, got, 0.0, "t = " + t);
            // Again from the cache.
            score.score(t, x, N, got);
            assertArrayEquals(want, got, 0.0, "t = " + t + " (cached)");
        }
    }

    @Test
    void timeZeroIsTheMixtureItself() {
        ExactScore score = ExactScore.of(BLOBS);
        assertSame(BLOBS, score.noised(0));
        double[] x = points(2);
        double[] got = new double[N * 2];
        double[] want = new double[N * 2];
        score.score(0, x, N, got);
        BLOBS.score(x, N, want);
        assertArrayEquals(want, got, 0.0);
    }

    @Test
    void matchesFiniteDifferencesOfTheNoisedLogDensity() {
        // Independent of GaussianMixture.score: central differences of log q_t with step 1e-5 have
        // truncation error ~h^2 |d^3 log q| ~ 1e-9 and rounding ~eps |log q| / h ~ 1e-11.
        ExactScore score = ExactScore.of(BLOBS);
        double[] x = points(3);
        double[] s = new double[N * 2];
        double t = 0.1;
        score.score(t, x, N, s);
        GaussianMixture q = BLOBS.noised(t);
        double h = 1e-5;
        for (int j = 0; j < 20; j++) {
            for (int r = 0; r < 2; r++) {
                double[] p = {x[2 * j], x[2 * j + 1]};
                p[r] += h;
                double up = q.logDensity(p);
                p[r] -= 2 * h;
                double down = q.logDensity(p);
                double fd = (up - down) / (2 * h);
                assertEquals(fd, s[2 * j + r], 1e-6 * (1 + Math.abs(fd)), "point " + j + " coordinate " + r);
            }
        }
    }

    @Test
    void cacheKeepsRecentTimesAndEvictsTheOldest() {
        ExactScore score = ExactScore.of(BLOBS);
        GaussianMixture first = score.noised(0.25);
        assertSame(first, score.noised(0.25));
        GaussianMixture second = score.noised(1.25);
        for (int i = 2; i < ExactScore.CACHE_SIZE; i++) {
            score.noised(0.25 + i);
        }
        // The table is full. Touch 0.25 so that 1.25 is the least recently used, then add one more time.
        assertSame(first, score.noised(0.25));
        score.noised(100);
        assertSame(first, score.noised(0.25));
        assertNotSame(second, score.noised(1.25));
    }

    @Test
    void concurrentCallersGetTheSameNumbers() throws Exception {
        ExactScore score = ExactScore.of(BLOBS);
        double[] x = points(4);
        double[] times = new double[3 * ExactScore.CACHE_SIZE];
        double[][] want = new double[times.length][N * 2];
        for (int i = 0; i < times.length; i++) {
            times[i] = 1e-3 * Math.pow(1.4, i);
            BLOBS.noised(times[i]).score(x, N, want[i]);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                int offset = thread;
                results.add(pool.submit(() -> {
                    double[] out = new double[N * 2];
                    int checked = 0;
                    for (int rep = 0; rep < 200; rep++) {
                        int i = (rep * 7 + offset * 5) % times.length;
                        score.score(times[i], x, N, out);
                        assertArrayEquals(want[i], out, 0.0, "t = " + times[i]);
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(200, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExactScore.of(null));
        assertTrue(e.getMessage().contains("mixture"), e.getMessage());
        ExactScore score = ExactScore.of(BLOBS);
        for (double bad : new double[] {-1e-3, Double.NaN, Double.POSITIVE_INFINITY}) {
            e = assertThrows(IllegalArgumentException.class, () -> score.score(bad, new double[2], 1, new double[2]));
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
    }
}
