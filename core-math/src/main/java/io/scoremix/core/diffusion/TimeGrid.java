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
 *
 * <p>{@link #autoSteps} chooses the curvature grid's step count the same way delta is chosen, from the
 * reference: the grid's predicted discretisation integral is {@code I_pred(N) = I_1 / N} with
 * {@code I_1 = int c(t) h_1(t) dt} for the grid's own step length at one step ({@link CurvatureProfile#unitIntegral};
 * {@code (int sqrt(c) dt)^2} without the Benton floor), and
 * {@code N = clamp(ceil(I_1 / (2 * 0.01^2)), 2048, 2048 * max(1, floor(10 / d)))}: the fewest steps whose
 * discretisation term {@code sqrt(I / 2)} in the certified bound is at most 0.01, at least the former fixed
 * 2048, and at most {@code 20,480 / d} (sampling work per point within that of a 10-D model at 2048 steps,
 * since a point-step costs at least linear work in d), so models of dimension 10 or more keep 2048 steps.
 * One Monte Carlo of c serves both ({@link #curvatureProfile}).
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
     * Equal to {@code curvatureProfile(reference, horizon, delta).grid(steps)}.
     *
     * @param reference the mixture whose noised laws predict the discretisation error
     * @param horizon   T, at least 1
     * @param delta     early-stopping time in (0, 1)
     * @param steps     N, at least 1
     * @throws IllegalArgumentException naming the bad value
     */
    public static TimeGrid curvature(GaussianMixture reference, double horizon, double delta, int steps) {
        return curvatureProfile(reference, horizon, delta).grid(steps);
    }

    /**
     * The step count of the curvature grid chosen for the reference mixture ({@link StepChoice}); equal to
     * {@code curvatureProfile(reference, horizon, delta).autoSteps()}.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public static StepChoice autoSteps(GaussianMixture reference, double horizon, double delta) {
        return curvatureProfile(reference, horizon, delta).autoSteps();
    }

    /**
     * The reference's curvature c(t) on the fixed nodes, from which both the curvature grid of any step count
     * and the automatic step count follow (one Monte Carlo for both).
     *
     * @param reference the mixture whose noised laws predict the discretisation error
     * @param horizon   T, at least 1
     * @param delta     early-stopping time in (0, 1)
     * @throws IllegalArgumentException naming the bad value
     */
    public static CurvatureProfile curvatureProfile(GaussianMixture reference, double horizon, double delta) {
        if (reference == null) {
            throw new IllegalArgumentException("a reference mixture must be given");
        }
        if (!(horizon >= 1) || !Double.isFinite(horizon)) {
            throw new IllegalArgumentException("horizon T must be finite and at least 1, got " + horizon);
        }
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("early-stopping time delta must lie in (0, 1), got " + delta);
        }
        int g = CURVATURE_NODES;
        double[] u = new double[g + 1];
        double[] c = new double[g + 1];
        for (int i = 0; i <= g; i++) {
            u[i] = i == 0 ? delta : i == g ? horizon : delta * Math.pow(horizon / delta, (double) i / g);
            c[i] = curvatureAt(reference, u[i], i);
        }
        return new CurvatureProfile(reference.dimension(), u, c);
    }

    /** Target of the automatic step count: a discretisation term {@code sqrt(I / 2)} of the bound of 0.01. */
    public static final double AUTO_TARGET_INTEGRAL = 2 * 0.01 * 0.01;
    /** Fewest steps the automatic choice takes (the fixed default before it). */
    public static final int AUTO_MIN_STEPS = 2048;
    /** {@code N * d} at most this for the automatic choice unless N is {@link #AUTO_MIN_STEPS}: a 10-D model at 2048. */
    public static final int AUTO_STEP_DIMENSION_BUDGET = 10;

    /**
     * Most steps the automatic choice takes in dimension d: {@code 2048 * max(1, floor(10 / d))}. A sampler's
     * point-step costs at least linear work in d (normal draws, vector updates), so {@code N * d <= 20,480}
     * keeps every model's sampling work per point within that of a 10-D model at 2048 steps; d of 10 or more
     * stays at 2048.
     */
    public static int autoMaxSteps(int dimension) {
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be at least 1, got " + dimension);
        }
        return AUTO_MIN_STEPS * Math.max(1, AUTO_STEP_DIMENSION_BUDGET / dimension);
    }

    /**
     * A step count chosen from the predicted discretisation integral:
     * {@code N = clamp(ceil(unitIntegral / target), minSteps, maxSteps)}.
     *
     * @param steps        N
     * @param unitIntegral the predicted discretisation part of the score integral of the curvature grid
     *                     times its step count ({@link CurvatureProfile#unitIntegral})
     * @param target       the integral aimed at
     * @param minSteps     the lower clamp
     * @param maxSteps     the upper clamp ({@link #autoMaxSteps})
     */
    public record StepChoice(int steps, double unitIntegral, double target, int minSteps, int maxSteps) {

        /** The predicted discretisation integral at {@link #steps}: {@code unitIntegral / steps}. */
        public double predictedIntegral() {
            return unitIntegral / steps;
        }

        /** The discretisation term {@code sqrt(I / 2)} this predicts for the certified bound. */
        public double predictedBoundTerm() {
            return Math.sqrt(predictedIntegral() / 2);
        }
    }

    /**
     * The curvature {@code c(t) = E_{q_t} ||grad^2 log q_t + I||_F^2} of a reference mixture on
     * {@link #CURVATURE_NODES} + 1 log-spaced times from delta to T (fixed-seed Monte Carlo, deterministic), the
     * step shares of the curvature grid built from it, and the grid's predicted discretisation integral.
     */
    public static final class CurvatureProfile {

        private final int dimension;
        private final double[] u;
        private final double[] c;
        /** Cumulative share of the steps from delta (0) to T (1) at each node; strictly increasing. */
        private final double[] share;
        private final double unitIntegral;

        private CurvatureProfile(int dimension, double[] u, double[] c) {
            this.dimension = dimension;
            this.u = u;
            this.c = c;
            int g = u.length - 1;
            // Cumulative shares by the trapezoid rule: f for sqrt(c), b for Benton's density 1 / min(t, 1).
            double[] f = new double[g + 1];
            double[] b = new double[g + 1];
            for (int i = 1; i <= g; i++) {
                double dt = u[i] - u[i - 1];
                f[i] = f[i - 1] + 0.5 * (Math.sqrt(c[i]) + Math.sqrt(c[i - 1])) * dt;
                b[i] = b[i - 1] + 0.5 * (1 / Math.min(u[i], 1.0) + 1 / Math.min(u[i - 1], 1.0)) * dt;
            }
            // A curvature integral this small predicts no discretisation error (N(0, I) data give rounding noise
            // of about 1e-16): then every step follows Benton's density.
            double floorShare = f[g] > CURVATURE_NEGLIGIBLE && Double.isFinite(f[g]) ? CURVATURE_FLOOR_SHARE : 1.0;
            share = new double[g + 1];
            for (int i = 0; i <= g; i++) {
                double curved = floorShare < 1 ? f[i] / f[g] : 0.0;
                share[i] = (1 - floorShare) * curved + floorShare * b[i] / b[g];
            }
            // The grid interpolates the shares linearly, so on node interval i it has a constant step density
            // N * (share_i - share_{i-1}) / du per unit time and steps h = du / (N * dshare); the sum
            // sum_j c(s_j) h_j^2 ~ int c h dt is then (1/N) sum_i cbar_i du^2 / dshare (cbar by the trapezoid rule).
            double sum = 0;
            for (int i = 1; i <= g; i++) {
                double du = u[i] - u[i - 1];
                sum += 0.5 * (c[i] + c[i - 1]) * du * du / (share[i] - share[i - 1]);
            }
            unitIntegral = sum;
        }

        /**
         * The predicted discretisation part of the score integral of the curvature grid with N steps, times N
         * (so {@code I_pred(N) = unitIntegral() / N}): {@code int c(t) h(t) dt} for the grid's step length
         * {@code h(t)} at one step. Without the Benton floor it would be {@code (int sqrt(c) dt)^2}; the floor
         * raises it by a factor of at most about 1 / 0.9. A first-order prediction for the residual sampler with the reference's
         * own score; valid once the steps are short against the times where c changes.
         */
        public double unitIntegral() {
            return unitIntegral;
        }

        /** The automatic step count at the default target {@link #AUTO_TARGET_INTEGRAL}. */
        public StepChoice autoSteps() {
            return autoSteps(AUTO_TARGET_INTEGRAL);
        }

        /**
         * The fewest steps whose predicted integral is at most {@code target}, clamped to
         * [{@link #AUTO_MIN_STEPS}, {@link #autoMaxSteps}(d)].
         *
         * @throws IllegalArgumentException if the target is not positive and finite
         */
        public StepChoice autoSteps(double target) {
            if (!(target > 0) || !Double.isFinite(target)) {
                throw new IllegalArgumentException("target integral must be positive and finite, got " + target);
            }
            int max = autoMaxSteps(dimension);
            double wanted = Math.ceil(unitIntegral / target);
            int steps = Double.isFinite(wanted) ? (int) Math.max(AUTO_MIN_STEPS, Math.min(max, wanted)) : max;
            return new StepChoice(steps, unitIntegral, target, AUTO_MIN_STEPS, max);
        }

        /** The curvature grid with {@code steps} steps from T down to delta (class comment). */
        public TimeGrid grid(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be at least 1, got " + steps);
            }
            int g = u.length - 1;
            double horizon = u[g];
            double delta = u[0];
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

        /** c(t) at the nodes (a copy), for diagnostics. */
        public double[] curvature() {
            return c.clone();
        }

        /** The node times from delta to T (a copy). */
        public double[] nodes() {
            return u.clone();
        }
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
