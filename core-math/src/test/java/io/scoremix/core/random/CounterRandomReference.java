package io.scoremix.core.random;

/**
 * A frozen copy of {@link CounterRandom} as it was before its Gaussian and uniform fills were
 * restructured for speed (commit fe2191b): the per-element loop with one Philox call per block, an
 * {@code int[4]} scratch array and the key schedule recomputed for every block. Kept only as the
 * reference that {@code CounterRandomEquivalenceTest} compares the fast code with bit for bit; every
 * seeded model, test and committed benchmark row depends on those exact values.
 */
final class CounterRandomReference {

    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final double TWO_PI = 2.0 * Math.PI;
    private static final double INV_2_53 = 0x1.0p-53;

    private final long seed;

    private CounterRandomReference(long seed) {
        this.seed = seed;
    }

    /** A generator keyed by {@code seed}. */
    static CounterRandomReference of(long seed) {
        return new CounterRandomReference(seed);
    }

    /** The seed this generator is keyed by. */
    public long seed() {
        return seed;
    }

    /**
     * The raw Philox-4x32-10 block: four 32-bit words for counter {@code (c0, c1, c2, c3)} and key
     * {@code (k0, k1)}. Exposed for the known-answer tests.
     *
     * @param out receives the four output words; modified
     */
    public static void philox4x32(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0;
            int n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * Fills {@code out[off .. off+len)} with uniforms in (0, 1]: the uniforms with counters
     * {@code counter .. counter+len-1} of {@code stream}.
     */
    public void fillUniform(long stream, long counter, double[] out, int off, int len) {
        int[] words = new int[4];
        long block = Long.MIN_VALUE;
        long u0 = 0;
        long u1 = 0;
        for (int i = 0; i < len; i++) {
            long c = counter + i;
            long b = c >>> 1;
            if (b != block) {
                block = b;
                philox(b, stream, words);
                u0 = ((words[0] & 0xFFFFFFFFL) << 32 | (words[1] & 0xFFFFFFFFL)) >>> 11;
                u1 = ((words[2] & 0xFFFFFFFFL) << 32 | (words[3] & 0xFFFFFFFFL)) >>> 11;
            }
            out[off + i] = ((c & 1L) == 0 ? u0 + 1 : u1 + 1) * INV_2_53;
        }
    }

    /** The uniform in (0, 1] with this stream and counter. */
    public double uniform(long stream, long counter) {
        double[] one = new double[1];
        fillUniform(stream, counter, one, 0, 1);
        return one[0];
    }

    /**
     * Fills {@code out[off .. off+len)} with standard Gaussians: those with counters
     * {@code counter .. counter+len-1} of {@code stream}. Allocates one 4-word scratch array per call.
     */
    public void fillGaussian(long stream, long counter, double[] out, int off, int len) {
        int[] words = new int[4];
        long block = Long.MIN_VALUE;
        double radius = 0;
        double angle = 0;
        for (int i = 0; i < len; i++) {
            long c = counter + i;
            long b = c >>> 1;
            if (b != block) {
                block = b;
                philox(b, stream, words);
                long a = ((words[0] & 0xFFFFFFFFL) << 32 | (words[1] & 0xFFFFFFFFL)) >>> 11;
                long e = ((words[2] & 0xFFFFFFFFL) << 32 | (words[3] & 0xFFFFFFFFL)) >>> 11;
                // Box-Muller: u1 in (0, 1] keeps the logarithm finite.
                radius = Math.sqrt(-2.0 * Math.log((a + 1) * INV_2_53));
                angle = TWO_PI * (e * INV_2_53);
            }
            out[off + i] = (c & 1L) == 0 ? radius * Math.cos(angle) : radius * Math.sin(angle);
        }
    }

    /** The standard Gaussian with this stream and counter. */
    public double gaussian(long stream, long counter) {
        double[] one = new double[1];
        fillGaussian(stream, counter, one, 0, 1);
        return one[0];
    }

    /**
     * A stream key derived from several indices (for example level, partition and row block), mixed so
     * that distinct tuples give distinct, well-spread keys. Deterministic and order-sensitive.
     */
    public static long stream(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            h = mix64(h ^ mix64(p + 0x632BE59BD9B4E019L));
        }
        return h;
    }

    // SplitMix64's finaliser (Steele, Lea and Flood, OOPSLA 2014): a bijection on 64-bit values.
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void philox(long block, long stream, int[] words) {
        philox4x32((int) block, (int) (block >>> 32), (int) stream, (int) (stream >>> 32),
                (int) seed, (int) (seed >>> 32), words);
    }
}
