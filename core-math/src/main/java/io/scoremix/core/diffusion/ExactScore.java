package io.scoremix.core.diffusion;

import io.scoremix.core.mixture.GaussianMixture;

/**
 * The exact score {@code grad log q_t} of a known Gaussian mixture pushed through the OU forward
 * process (ALGORITHM.md section 1): {@code q_t} is the mixture {@link GaussianMixture#noised(double)},
 * and its score is evaluated in log space by {@link GaussianMixture#score}. It is the oracle every
 * learned score is measured against, and the "plug-in" score of a crude mixture. Immutable and
 * thread-safe.
 *
 * <p>Implementation notes. Building {@code q_t} costs k Cholesky factorisations and inversions, while a
 * sampler calls the score at the same t for every block of points; so the noised mixtures of the last
 * {@link #CACHE_SIZE} distinct times are kept in a small least-recently-used table keyed by the exact bit
 * pattern of t, guarded by its own lock. The mixture is built outside the lock, so two threads missing
 * the same t at once may both build it; the results are equal and either may be kept.
 */
public final class ExactScore implements ScoreFunction {

    /** How many noised mixtures are kept: more than the two times an ODE step touches. */
    public static final int CACHE_SIZE = 8;

    private final GaussianMixture mixture;
    private final Object lock = new Object();
    // Most recently used first; slots beyond `size` are empty. Guarded by `lock`.
    private final long[] keys = new long[CACHE_SIZE];
    private final GaussianMixture[] values = new GaussianMixture[CACHE_SIZE];
    private int size;

    private ExactScore(GaussianMixture mixture) {
        this.mixture = mixture;
    }

    /**
     * The exact score of the OU-noised law of {@code mixture}.
     *
     * @throws IllegalArgumentException if {@code mixture} is null
     */
    public static ExactScore of(GaussianMixture mixture) {
        if (mixture == null) {
            throw new IllegalArgumentException("mixture must be given");
        }
        return new ExactScore(mixture);
    }

    /** The data law {@code q_0} whose noised scores this returns. */
    public GaussianMixture mixture() {
        return mixture;
    }

    @Override
    public int dimension() {
        return mixture.dimension();
    }

    /**
     * The score of {@code q_t} at n points. Unlike the general contract, {@code t == 0} is accepted and
     * gives the score of the mixture itself.
     *
     * @param t   forward time, finite and non-negative
     * @param x   n x d points, row-major; not modified
     * @param n   number of points
     * @param out receives n x d scores, row-major; modified; must not alias {@code x}
     * @throws IllegalArgumentException if t is negative or not finite
     */
    @Override
    public void score(double t, double[] x, int n, double[] out) {
        noised(t).score(x, n, out);
    }

    /**
     * The noised mixture {@code q_t}, from the cache when t was asked recently.
     *
     * @param t forward time, finite and non-negative; 0 gives the mixture itself
     * @throws IllegalArgumentException if t is negative or not finite
     */
    public GaussianMixture noised(double t) {
        if (!(t >= 0) || !Double.isFinite(t)) {
            throw new IllegalArgumentException("noise time must be finite and non-negative, got " + t);
        }
        if (t == 0) {
            return mixture;
        }
        long key = Double.doubleToLongBits(t);
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                if (keys[i] == key) {
                    GaussianMixture hit = values[i];
                    moveToFront(i, key, hit);
                    return hit;
                }
            }
        }
        GaussianMixture built = mixture.noised(t);
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                if (keys[i] == key) {
                    // Another thread built it meanwhile: keep one instance.
                    GaussianMixture hit = values[i];
                    moveToFront(i, key, hit);
                    return hit;
                }
            }
            if (size < CACHE_SIZE) {
                size++;
            }
            moveToFront(size - 1, key, built);
        }
        return built;
    }

    // Shifts slots [0, i) down by one and puts (key, value) first; the old slot i is dropped.
    private void moveToFront(int i, long key, GaussianMixture value) {
        System.arraycopy(keys, 0, keys, 1, i);
        System.arraycopy(values, 0, values, 1, i);
        keys[0] = key;
        values[0] = value;
    }

    @Override
    public String toString() {
        return "ExactScore[" + mixture + "]";
    }
}
