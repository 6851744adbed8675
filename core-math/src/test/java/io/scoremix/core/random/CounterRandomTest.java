package io.scoremix.core.random;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CounterRandom: Random123 known answers, determinism and addressability, and statistical tests at fixed
 * seeds whose tolerances come from the sample size (5 standard errors, or a KS level of 1e-6).
 */
class CounterRandomTest {

    /** Sample size of the statistical tests. */
    private static final int N = 1 << 20;
    /** Standard errors allowed: a false alarm has probability about 6e-7 per check under a normal law. */
    private static final double Z = 5.0;
    private static final double KS_ALPHA = 1e-6;

    // --- Philox-4x32-10 known answers (Random123 kat_vectors) ----------------------------------------------

    private static void assertPhilox(int[] ctr, int[] key, int[] expected) {
        int[] out = new int[4];
        CounterRandom.philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out);
        assertArrayEquals(expected, out, () -> "got " + hex(out));
    }

    private static String hex(int[] w) {
        StringBuilder s = new StringBuilder();
        for (int v : w) {
            s.append(String.format("%08x ", v));
        }
        return s.toString();
    }

    @Test
    void philoxKnownAnswerZeros() {
        assertPhilox(new int[]{0, 0, 0, 0}, new int[]{0, 0},
                new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    }

    @Test
    void philoxKnownAnswerAllOnes() {
        assertPhilox(new int[]{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, new int[]{0xffffffff, 0xffffffff},
                new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    }

    @Test
    void philoxKnownAnswerPiDigits() {
        assertPhilox(new int[]{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, new int[]{0xa4093822, 0x299f31d0},
                new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
    }

    // --- determinism and addressability ----------------------------------------------------------------------

    @Test
    void sameSeedStreamAndCounterGiveTheSameNumbers() {
        double[] a = new double[1000];
        double[] b = new double[1000];
        CounterRandom.of(42).fillGaussian(7, 123, a, 0, a.length);
        CounterRandom.of(42).fillGaussian(7, 123, b, 0, b.length);
        assertArrayEquals(a, b, 0.0);
        CounterRandom.of(42).fillUniform(7, 123, a, 0, a.length);
        CounterRandom.of(42).fillUniform(7, 123, b, 0, b.length);
        assertArrayEquals(a, b, 0.0);
        assertEquals(42, CounterRandom.of(42).seed());
    }

    @Test
    void aRangeEqualsTheConcatenationOfItsSubRanges() {
        CounterRandom rng = CounterRandom.of(0x5EEDL);
        long stream = 99;
        // Odd and even starts and cut points, so the Box-Muller pairs are split in every way.
        long[] starts = {0, 1, 2, 1_000_003, (1L << 40) + 1, Long.MAX_VALUE - 200};
        int len = 101;
        int[][] cuts = {{0, 101}, {1, 100}, {2, 50, 51, 99}, {37}, {1, 2, 3, 4, 5, 6, 7, 8}};
        for (long start : starts) {
            double[] wholeG = new double[len];
            double[] wholeU = new double[len];
            rng.fillGaussian(stream, start, wholeG, 0, len);
            rng.fillUniform(stream, start, wholeU, 0, len);
            for (int[] cut : cuts) {
                double[] g = new double[len + 3];
                double[] u = new double[len + 3];
                int prev = 0;
                for (int p = 0; p <= cut.length; p++) {
                    int next = p < cut.length ? cut[p] : len;
                    // Write at an offset of 3 in the output array to exercise 'off'.
                    rng.fillGaussian(stream, start + prev, g, 3 + prev, next - prev);
                    rng.fillUniform(stream, start + prev, u, 3 + prev, next - prev);
                    prev = next;
                }
                assertArrayEquals(wholeG, Arrays.copyOfRange(g, 3, len + 3), 0.0,
                        "start " + start + " cuts " + Arrays.toString(cut));
                assertArrayEquals(wholeU, Arrays.copyOfRange(u, 3, len + 3), 0.0);
            }
            for (int j = 0; j < len; j++) {
                assertEquals(wholeG[j], rng.gaussian(stream, start + j), 0.0);
                assertEquals(wholeU[j], rng.uniform(stream, start + j), 0.0);
            }
        }
    }

    @Test
    void gaussianPairsAreBoxMullerOfTheBlockUniform() {
        // Class contract: Gaussians 2b and 2b+1 are the cosine and sine branch of block b, whose radius is
        // sqrt(-2 log u) for the uniform with counter 2b.
        CounterRandom rng = CounterRandom.of(3);
        for (long b = 0; b < 1000; b++) {
            double c = rng.gaussian(11, 2 * b);
            double s = rng.gaussian(11, 2 * b + 1);
            double r2 = -2 * Math.log(rng.uniform(11, 2 * b));
            assertEquals(r2, c * c + s * s, 1e-12 * Math.max(1, r2));
        }
    }

    @Test
    void distinctSeedsAndStreamsGiveDifferentSequences() {
        long[] seeds = {0, 1, 2, -1, 1L << 32, 1L << 63, 0x5EEDL};
        long[] streams = {0, 1, 2, -1, 1L << 32, 1L << 63, CounterRandom.stream(0), CounterRandom.stream(1)};
        Set<String> seen = new HashSet<>();
        int sequences = 0;
        for (long seed : seeds) {
            for (long stream : streams) {
                double[] g = new double[16];
                CounterRandom.of(seed).fillGaussian(stream, 0, g, 0, g.length);
                seen.add(Arrays.toString(g));
                sequences++;
            }
        }
        assertEquals(sequences, seen.size(), "some (seed, stream) pairs gave identical sequences");
        // Derived stream keys: distinct tuples give distinct keys, and order matters.
        Set<Long> keys = new HashSet<>();
        for (long a = 0; a < 50; a++) {
            for (long b = 0; b < 50; b++) {
                keys.add(CounterRandom.stream(a, b));
            }
            keys.add(CounterRandom.stream(a));
        }
        assertEquals(50 * 50 + 50, keys.size());
        assertNotEquals(CounterRandom.stream(1, 2), CounterRandom.stream(2, 1));
    }

    // --- statistics ----------------------------------------------------------------------------------------------

    private static double[] gaussians(long seed, long stream, int n) {
        double[] z = new double[n];
        CounterRandom.of(seed).fillGaussian(stream, 0, z, 0, n);
        return z;
    }

    private static double[] uniforms(long seed, long stream, int n) {
        double[] u = new double[n];
        CounterRandom.of(seed).fillUniform(stream, 0, u, 0, n);
        return u;
    }

    @Test
    void gaussianRawMomentsMatchTheNormalLaw() {
        double[] z = gaussians(20240601L, 5, N);
        double m1 = 0;
        double m2 = 0;
        double m3 = 0;
        double m4 = 0;
        for (double v : z) {
            double v2 = v * v;
            m1 += v;
            m2 += v2;
            m3 += v2 * v;
            m4 += v2 * v2;
        }
        m1 /= N;
        m2 /= N;
        m3 /= N;
        m4 /= N;
        // Raw moments of N(0,1): E z = 0, E z^2 = 1, E z^3 = 0, E z^4 = 3; the variances of the single-draw
        // terms are E z^2 = 1, E z^4 - 1 = 2, E z^6 = 15, E z^8 - 9 = 96, so SE = sqrt(var / N).
        assertEquals(0.0, m1, Z * Math.sqrt(1.0 / N), "mean");
        assertEquals(1.0, m2, Z * Math.sqrt(2.0 / N), "variance");
        assertEquals(0.0, m3, Z * Math.sqrt(15.0 / N), "third moment (skewness)");
        assertEquals(3.0, m4, Z * Math.sqrt(96.0 / N), "fourth moment (kurtosis)");
    }

    @Test
    void normalCdfMatchesReferenceValues() {
        // Reference values of Phi to 16 digits (e.g. from mpmath: 0.5*erfc(-x/sqrt(2))).
        double[][] ref = {{0, 0.5}, {1, 0.8413447460685429}, {-1.96, 0.024997895148220435},
                {3, 0.9986501019683699}, {-5, 2.866515718791939e-7}, {0.5, 0.6914624612740131}};
        for (double[] r : ref) {
            assertEquals(r[1], NormalCdf.phi(r[0]), NormalCdf.MAX_ERROR, "Phi(" + r[0] + ")");
        }
    }

    @Test
    void gaussiansPassKolmogorovSmirnov() {
        double[] z = gaussians(77, CounterRandom.stream(3, 4), N);
        Arrays.sort(z);
        double d = 0;
        for (int i = 0; i < N; i++) {
            double f = NormalCdf.phi(z[i]);
            d = Math.max(d, Math.max((i + 1.0) / N - f, f - (double) i / N));
        }
        // The CDF approximation error adds at most MAX_ERROR to D.
        double crit = NormalCdf.ksCritical(N, KS_ALPHA) + NormalCdf.MAX_ERROR;
        assertTrue(d < crit, "KS D = " + d + ", critical " + crit);
    }

    @Test
    void uniformsAreInTheUnitIntervalAndPassKolmogorovSmirnov() {
        double[] u = uniforms(78, 0, N);
        double mean = 0;
        for (double v : u) {
            assertTrue(v > 0 && v <= 1, "uniform out of (0, 1]: " + v);
            mean += v;
        }
        mean /= N;
        assertEquals(0.5, mean, Z * Math.sqrt(1.0 / 12 / N), "uniform mean (variance 1/12)");
        Arrays.sort(u);
        double d = 0;
        for (int i = 0; i < N; i++) {
            d = Math.max(d, Math.max((i + 1.0) / N - u[i], u[i] - (double) i / N));
        }
        double crit = NormalCdf.ksCritical(N, KS_ALPHA);
        assertTrue(d < crit, "KS D = " + d + ", critical " + crit);
    }

    /** Sample correlation of a[i] and b[i + lag], i < n - lag. */
    private static double correlation(double[] a, double[] b, int lag) {
        int n = a.length - lag;
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i];
            mb += b[i + lag];
        }
        ma /= n;
        mb /= n;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < n; i++) {
            double x = a[i] - ma;
            double y = b[i + lag] - mb;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        return sab / Math.sqrt(saa * sbb);
    }

    @Test
    void lagCorrelationsAreNearZero() {
        // For independent draws the sample correlation has SE 1/sqrt(n): allow 5/sqrt(n).
        double tol = Z / Math.sqrt(N);
        double[] z = gaussians(1, 0, N);
        double[] u = uniforms(1, 0, N);
        for (int lag = 1; lag <= 3; lag++) {
            assertEquals(0.0, correlation(z, z, lag), tol, "Gaussian lag " + lag);
            assertEquals(0.0, correlation(u, u, lag), tol, "uniform lag " + lag);
        }
        // Box-Muller partners share their radius, yet for a uniform angle z_c^2 and z_s^2 are independent
        // (chi-square 1 each), so their correlation is 0: this catches a biased angle.
        int pairs = N / 2;
        double[] c2 = new double[pairs];
        double[] s2 = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            c2[i] = z[2 * i] * z[2 * i];
            s2[i] = z[2 * i + 1] * z[2 * i + 1];
        }
        assertEquals(0.0, correlation(c2, s2, 0), Z / Math.sqrt(pairs), "squares of a Box-Muller pair");
    }

    @Test
    void neighbouringStreamsAndSeedsAreUncorrelated() {
        double tol = Z / Math.sqrt(N);
        double[] base = gaussians(10, 100, N);
        assertEquals(0.0, correlation(base, gaussians(10, 101, N), 0), tol, "adjacent stream");
        assertEquals(0.0, correlation(base, gaussians(10, 100 + (1L << 32), N), 0), tol, "stream high word");
        assertEquals(0.0, correlation(base, gaussians(11, 100, N), 0), tol, "adjacent seed");
        assertEquals(0.0, correlation(base, gaussians(10 + (1L << 32), 100, N), 0), tol, "seed high word");
        double[] ub = uniforms(10, CounterRandom.stream(0, 0), N);
        assertEquals(0.0, correlation(ub, uniforms(10, CounterRandom.stream(0, 1), N), 0), tol, "derived streams");
    }
}
