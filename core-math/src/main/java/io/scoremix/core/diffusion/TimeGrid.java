package io.scoremix.core.diffusion;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

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
 *
 * <p>{@link #curvature} is the default sampler grid: its steps follow a reference mixture's (the crude
 * mixture's) predicted discretisation error. Over a step of length h ending at forward time t, the
 * residual sampler's Girsanov integrand {@code E||r(y_s, s) - r(y_t, t)||^2} with
 * {@code r = grad log q + y} is, to first order, {@code h^2 c(t)} with
 * {@code c(t) = E_{q_t} ||grad^2 log q_t + I||_F^2} (the Brownian increment over the step times the
 * Jacobian of r). The sum {@code sum_j c(s_j) h_j^2 ~ int c(t) h(t) dt} under {@code int dt / h = N} is
 * least for {@code h proportional to c^(-1/2)}, where it equals {@code (int sqrt(c) dt)^2 / N}: the
 * grid puts equal shares of {@code int sqrt(c) dt} in every step. c is estimated by a small fixed-seed
 * Monte Carlo on the reference's noised mixtures, so the grid is a deterministic function of its
 * arguments. A tenth of the steps follow Benton's density ({@code 1/t} below 1, constant above) so that
 * no region is left with huge steps where the estimate of c is small or noisy.
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

    /** Log-spaced forward times at which {@link #curvature} estimates c(t). */
    static final int CURVATURE_NODES = 128;
    /** Points of q_t per node in the Monte Carlo estimate of c(t). */
    static final int CURVATURE_POINTS = 256;
    /** Share of the steps placed by Benton's density rather than by the curvature. */
    static final double CURVATURE_FLOOR_SHARE = 0.1;
    /** {@code int sqrt(c) dt} below this predicts a score integral under 1e-12 at one step: no curvature. */
    static final double CURVATURE_NEGLIGIBLE = 1e-6;
    private static final long TAG_CURVATURE = 0x4355525645L;

    /**
     * The curvature-adapted grid (class comment) with {@code steps} steps from T down to delta for the
     * reference mixture (in the sampler's coordinates, i.e. whitened: the crude mixture of a model).
     *
     * @param reference the mixture whose noised laws predict the discretisation error
     * @param horizon   T, at least 1
     * @param delta     early-stopping time in (0, 1)
     * @param steps     N, at least 1
     * @throws IllegalArgumentException naming the bad value
     */
    public static TimeGrid curvature(GaussianMixture reference, double horizon, double delta, int steps) {
        if (reference == null) {
            throw new IllegalArgumentException("a reference mixture must be given");
        }
        if (!(horizon >= 1) || !Double.isFinite(horizon)) {
            throw new IllegalArgumentException("horizon T must be finite and at least 1, got " + horizon);
        }
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("early-stopping time delta must lie in (0, 1), got " + delta);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        int g = CURVATURE_NODES;
        double[] u = new double[g + 1];
        double[] root = new double[g + 1];
        for (int i = 0; i <= g; i++) {
            u[i] = i == 0 ? delta : i == g ? horizon : delta * Math.pow(horizon / delta, (double) i / g);
            root[i] = Math.sqrt(curvatureAt(reference, u[i], i));
        }
        // Cumulative shares by the trapezoid rule: F for sqrt(c), B for Benton's density 1 / min(t, 1).
        double[] f = new double[g + 1];
        double[] b = new double[g + 1];
        for (int i = 1; i <= g; i++) {
            double dt = u[i] - u[i - 1];
            f[i] = f[i - 1] + 0.5 * (root[i] + root[i - 1]) * dt;
            b[i] = b[i - 1] + 0.5 * (1 / Math.min(u[i], 1.0) + 1 / Math.min(u[i - 1], 1.0)) * dt;
        }
        // A curvature integral this small predicts no discretisation error (N(0, I) data give rounding noise
        // of about 1e-16): then every step follows Benton's density.
        double floorShare = f[g] > CURVATURE_NEGLIGIBLE && Double.isFinite(f[g]) ? CURVATURE_FLOOR_SHARE : 1.0;
        double[] share = new double[g + 1];
        for (int i = 0; i <= g; i++) {
            double curved = floorShare < 1 ? f[i] / f[g] : 0.0;
            share[i] = (1 - floorShare) * curved + floorShare * b[i] / b[g];
        }
        // s_j is where the share (strictly increasing: Benton's part is) reaches 1 - j / N, linearly interpolated.
        double[] s = new double[steps + 1];
        s[0] = horizon;
        s[steps] = delta;
        int i = g;
        for (int j = 1; j < steps; j++) {
            double target = 1.0 - (double) j / steps;
            while (i > 1 && share[i - 1] > target) {
                i--;
            }
            double a = (target - share[i - 1]) / (share[i] - share[i - 1]);
            s[j] = u[i - 1] + a * (u[i] - u[i - 1]);
        }
        for (int j = 1; j <= steps; j++) {
            if (!(s[j] < s[j - 1])) {
                // Only when N is so large that neighbouring times round to the same double.
                throw new IllegalArgumentException("steps " + steps + " are too many for the curvature grid from "
                        + horizon + " to " + delta + ": times " + (j - 1) + " and " + j + " coincide");
            }
        }
        return new TimeGrid(s);
    }

    /** Monte Carlo {@code c(t) = E_{q_t} ||grad^2 log q_t + I||_F^2} on a fixed stream per node. */
    private static double curvatureAt(GaussianMixture reference, double t, int node) {
        GaussianMixture q = reference.noised(t);
        int d = q.dimension();
        int m = CURVATURE_POINTS;
        double[] x = new double[m * d];                 // m x d row-major
        q.sample(CounterRandom.of(0), CounterRandom.stream(TAG_CURVATURE, node), 0, m, x);
        double[] point = new double[d];
        double[] hessian = new double[d * d];           // d x d row-major
        double sum = 0;
        for (int p = 0; p < m; p++) {
            System.arraycopy(x, p * d, point, 0, d);
            q.hessian(point, hessian);
            double frob = 0;
            for (int r = 0; r < d; r++) {
                int ro = r * d;
                for (int c = 0; c < d; c++) {
                    double e = hessian[ro + c] + (r == c ? 1.0 : 0.0);
                    frob += e * e;
                }
            }
            sum += frob;
        }
        return sum / m;
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
