package io.scoremix.core.diffusion;

/**
 * An estimate of the score {@code grad log q_t} of the OU-noised data law at forward time t, evaluated
 * on blocks of points (flat, row-major: {@code x[j*d + r]}). Implementations must be safe to call from
 * several threads at once.
 */
public interface ScoreFunction {

    /** The dimension d. */
    int dimension();

    /**
     * The score at forward time t of n points.
     *
     * @param t   forward time, {@code > 0}
     * @param x   n x d points, row-major; not modified
     * @param n   number of points
     * @param out receives n x d scores, row-major; modified; must not alias {@code x}
     */
    void score(double t, double[] x, int n, double[] out);
}
