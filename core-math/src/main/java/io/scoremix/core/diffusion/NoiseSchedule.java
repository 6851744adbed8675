package io.scoremix.core.diffusion;

/**
 * The exact quantities of the OU forward process {@code dx = -x dt + sqrt(2) dw} (ALGORITHM.md section
 * 1): {@code x_t = e^{-t} x_0 + sigma_t z} with {@code sigma_t^2 = 1 - e^{-2t}}. The rate is constant;
 * there is no other schedule. Computed with expm1 so that small t keeps full relative precision.
 */
public final class NoiseSchedule {

    private NoiseSchedule() {
    }

    /** The signal scale {@code alpha_t = e^{-t}}. */
    public static double alpha(double t) {
        return Math.exp(-t);
    }

    /** The noise variance {@code sigma_t^2 = 1 - e^{-2t}}. */
    public static double sigma2(double t) {
        return -Math.expm1(-2 * t);
    }

    /** The noise scale {@code sigma_t}. */
    public static double sigma(double t) {
        return Math.sqrt(sigma2(t));
    }

    /** The forward time with noise variance {@code s2} in (0, 1): {@code t = -1/2 log(1 - s2)}. */
    public static double timeOfSigma2(double s2) {
        if (!(s2 > 0 && s2 < 1)) {
            throw new IllegalArgumentException("sigma^2 must lie in (0, 1), got " + s2);
        }
        return -0.5 * Math.log1p(-s2);
    }
}
