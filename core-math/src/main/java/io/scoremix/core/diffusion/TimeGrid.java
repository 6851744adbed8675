package io.scoremix.core.diffusion;

import java.util.Arrays;

/**
 * A decreasing grid of forward times {@code T = s_0 > s_1 > ... > s_N = delta} for the reverse sampler,
 * or an increasing set of learned noise levels. Immutable.
 *
 * <p>Implementation notes. {@link #benton} is the grid of Benton, De Bortoli, Doucet and Deligiannidis
 * (ICLR 2024) as used in CKS Lemma 12, in the clean form of PAPER-NOTES.md section 2.4: constant steps of
 * about kappa from T down to forward time 1, then geometric steps {@code s_{j+1} = s_j / (1 + kappa)} from
 * 1 down to delta. Given a total step count N, kappa is the root of
 * {@code (T - 1) / kappa + log(1 / delta) / log(1 + kappa) = N}; the two phases then get the rounded step
 * counts and exact step sizes so that they end on 1 and on delta.
 */
public final class TimeGrid {

    private final double[] times;

    private TimeGrid(double[] times) {
        this.times = times;
    }

    /**
     * The Benton grid with {@code steps} steps from T down to delta.
     *
     * @param horizon T, at least 1
     * @param delta   early-stopping time in (0, 1)
     * @param steps   N, at least 2 (one step per phase), and at least 1 when T = 1
     * @throws IllegalArgumentException naming the bad value
     */
    public static TimeGrid benton(double horizon, double delta, int steps) {
        if (!(horizon >= 1) || !Double.isFinite(horizon)) {
            throw new IllegalArgumentException("horizon T must be finite and at least 1, got " + horizon);
        }
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("early-stopping time delta must lie in (0, 1), got " + delta);
        }
        boolean flatPhase = horizon > 1;
        int minSteps = flatPhase ? 2 : 1;
        if (steps < minSteps) {
            throw new IllegalArgumentException("steps must be at least " + minSteps + ", got " + steps);
        }
        double logInvDelta = -Math.log(delta);
        int nFlat = 0;
        if (flatPhase) {
            double lo = 1e-12;
            double hi = 1e6;
            for (int it = 0; it < 200; it++) {
                double mid = Math.sqrt(lo * hi);
                double f = (horizon - 1) / mid + logInvDelta / Math.log1p(mid);
                if (f > steps) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            double kappa = Math.sqrt(lo * hi);
            nFlat = (int) Math.round((horizon - 1) / kappa);
            nFlat = Math.max(1, Math.min(steps - 1, nFlat));
        }
        int nGeo = steps - nFlat;
        double[] s = new double[steps + 1];
        s[0] = horizon;
        double h = flatPhase ? (horizon - 1) / nFlat : 0;
        for (int j = 1; j <= nFlat; j++) {
            s[j] = horizon - j * h;
        }
        s[nFlat] = 1.0;
        double ratio = Math.exp(-logInvDelta / nGeo);
        for (int j = 1; j <= nGeo; j++) {
            s[nFlat + j] = Math.pow(ratio, j);
        }
        s[steps] = delta;
        return new TimeGrid(s);
    }

    /**
     * L learned levels, geometric in {@code sigma_t^2} between {@code sigma_delta^2} and {@code sigma_T^2},
     * as increasing forward times (ALGORITHM.md section 5).
     */
    public static TimeGrid learnedLevels(int levels, double delta, double horizon) {
        if (levels < 1) {
            throw new IllegalArgumentException("levels must be at least 1, got " + levels);
        }
        if (!(delta > 0 && delta < horizon) || !Double.isFinite(horizon)) {
            throw new IllegalArgumentException("need 0 < delta < T, got delta = " + delta + ", T = " + horizon);
        }
        double lo = Math.log(NoiseSchedule.sigma2(delta));
        double hi = Math.log(NoiseSchedule.sigma2(horizon));
        double[] t = new double[levels];
        for (int i = 0; i < levels; i++) {
            double f = levels == 1 ? 0 : (double) i / (levels - 1);
            t[i] = NoiseSchedule.timeOfSigma2(Math.exp(lo + f * (hi - lo)));
        }
        t[0] = delta;
        if (levels > 1) {
            t[levels - 1] = horizon;
        }
        return new TimeGrid(t);
    }

    /** A grid from explicit times, strictly monotone and positive. */
    public static TimeGrid of(double... times) {
        if (times.length < 2) {
            throw new IllegalArgumentException("a grid needs at least two times");
        }
        boolean decreasing = times[1] < times[0];
        for (int j = 0; j < times.length; j++) {
            if (!(times[j] > 0) || !Double.isFinite(times[j])) {
                throw new IllegalArgumentException("time " + j + " must be finite and positive, got " + times[j]);
            }
            if (j > 0 && (decreasing ? !(times[j] < times[j - 1]) : !(times[j] > times[j - 1]))) {
                throw new IllegalArgumentException("times must be strictly monotone; time " + j + " = " + times[j]
                        + " after " + times[j - 1]);
            }
        }
        return new TimeGrid(times.clone());
    }

    /** The number of points on the grid (steps + 1 for a sampler grid). */
    public int size() {
        return times.length;
    }

    /** The number of steps, {@code size() - 1}. */
    public int steps() {
        return times.length - 1;
    }

    /** The j-th time. */
    public double time(int j) {
        return times[j];
    }

    /** A copy of the times. */
    public double[] times() {
        return times.clone();
    }

    @Override
    public String toString() {
        return "TimeGrid" + Arrays.toString(times);
    }
}
