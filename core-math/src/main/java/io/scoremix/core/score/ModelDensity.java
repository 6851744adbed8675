package io.scoremix.core.score;

import io.scoremix.core.diffusion.ReverseSampler;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.DensityModel;
import io.scoremix.core.mixture.Whitening;
import io.scoremix.core.random.CounterRandom;

/**
 * The law of a {@link ScoreModel}'s probability-flow ODE model, with its exact log-density by the
 * instantaneous change of variables (ALGORITHM.md section 2), in the data's coordinates. The model's law
 * is: draw {@code y ~ N(0, I)} at forward time T, run the probability-flow ODE {@code dy = (y + s(y, t)) dtau}
 * back to delta, un-whiten. It approximates the data law noised to delta (in whitened coordinates,
 * {@code z_delta = e^{-delta} z_0 + sigma_delta xi}, then mapped back by {@code W^{-1}} and the mean), not the
 * data law itself: early stopping is part of the model. Implements {@link DensityModel}, so
 * {@code Divergences.monteCarloTv(truth, density, ...)} gives the TV of the ODE model to a known truth.
 * Immutable and thread-safe.
 *
 * <p>Implementation notes. For {@code dz/dt = f(z, t)} the density along a trajectory obeys
 * {@code d/dt log p_t(z_t) = -div f(z_t, t)} (Liouville). The forward probability-flow ODE of the OU
 * process is {@code f = -z - s(z, t)}, so {@code d/dt log p_t(z_t) = d + div s(z_t, t)} and
 * <pre>
 *   log p_delta(z) = log p_T(z_T) - d (T - delta) - int_delta^T div s(z_t, t) dt,
 * </pre>
 * with z_t the forward solution from {@code z_delta = z}. The model's law at T is N(0, I) by definition, so
 * {@code log p_T(z_T) = log N(z_T; 0, I)} is exact for the model; as an estimate of the true
 * {@code q_delta} it adds the error {@code log q_T(z_T) - log N(z_T; 0, I)}, whose mean under q_T is
 * {@code KL(q_T || N(0, I))} (of order {@code e^{-2T} ||mu||^2}; {@code Divergences.klBoundToStandardNormal}
 * bounds it for a mixture). The trajectory is integrated forward from delta to T on the reversed sampler
 * grid by the exponential trapezoidal predictor-corrector (the mirror of the sampler's ODE scheme):
 * <pre>
 *   a = 1 - e^{-h};  s1 = s(z, t_j);  z_pred = z - a (z + s1);  s2 = s(z_pred, t_{j+1})
 *   z = z - a (z + (s1 + s2) / 2)
 * </pre>
 * and the divergence integral by the trapezoid on the computed trajectory,
 * {@code h (div s(z_j, t_j) + div s(z_{j+1}, t_{j+1})) / 2}: both second order, two score and one
 * divergence evaluation per step. The forward map discretises the same ODE as the sampler with a
 * different scheme, so {@link #sample} and {@link #logDensity} agree up to the O(h^2) discretisation
 * error of either.
 */
public final class ModelDensity implements DensityModel {

    /** Default step count of the grid (Benton, T to delta). */
    public static final int DEFAULT_STEPS = 200;
    /** Points per internal block: one score call per block and half-step. */
    static final int BLOCK = 256;
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private final ScoreModel model;
    private final TimeGrid grid;
    /** Forward times delta = u_0 < ... < u_N = T. */
    private final double[] up;
    private final double[] oneMinusDecay;
    private final int d;

    private ModelDensity(ScoreModel model, TimeGrid grid) {
        this.model = model;
        this.grid = grid;
        double[] down = grid.times();
        int steps = down.length - 1;
        this.up = new double[steps + 1];
        for (int j = 0; j <= steps; j++) {
            up[j] = down[steps - j];
        }
        this.oneMinusDecay = new double[steps];
        for (int j = 0; j < steps; j++) {
            oneMinusDecay[j] = -Math.expm1(-(up[j + 1] - up[j]));
        }
        this.d = model.dimension();
    }

    /**
     * The ODE model of {@code model} on the Benton grid with {@code steps} steps between the model's first
     * and last learned level times (its delta and T).
     *
     * @throws IllegalArgumentException if the model has a single level (no T to read: pass a grid), or
     *                                  steps is too small for {@link TimeGrid#benton}
     */
    public static ModelDensity of(ScoreModel model, int steps) {
        double[] t = model.levelTimes();
        if (t.length < 2) {
            throw new IllegalArgumentException("the model has one learned level (t = " + t[0]
                    + "): give the grid from T to delta explicitly");
        }
        return of(model, TimeGrid.benton(t[t.length - 1], t[0], steps));
    }

    /**
     * The ODE model of {@code model} on a sampler grid {@code T = s_0 > ... > s_N = delta}.
     *
     * @throws IllegalArgumentException if the grid is not decreasing
     */
    public static ModelDensity of(ScoreModel model, TimeGrid grid) {
        if (model == null || grid == null) {
            throw new IllegalArgumentException("a model and a grid must be given");
        }
        if (!(grid.time(0) > grid.time(grid.steps()))) {
            throw new IllegalArgumentException("the grid must decrease from T to delta, got " + grid);
        }
        return new ModelDensity(model, grid);
    }

    /** The sampler grid, decreasing from T to delta. */
    public TimeGrid grid() {
        return grid;
    }

    /** The early-stopping time: this is the density of the model's law at delta. */
    public double delta() {
        return up[0];
    }

    /** The horizon T where the model's law is N(0, I). */
    public double horizon() {
        return up[up.length - 1];
    }

    /** The score model. */
    public ScoreModel model() {
        return model;
    }

    @Override
    public int dimension() {
        return d;
    }

    /**
     * Log-densities of n points in the data's coordinates: {@code log p_z(W (x - m)) + log |det W|}.
     *
     * @param x   n x d points, row-major; not modified
     * @param out receives n log-densities; modified
     */
    @Override
    public void logDensity(double[] x, int n, double[] out) {
        Whitening w = model.whitening();
        double[] z = new double[n * d];
        w.apply(x, n, z);
        logDensityWhitened(z, n, out);
        double logDet = w.logAbsDetW();
        for (int j = 0; j < n; j++) {
            out[j] += logDet;
        }
    }

    /**
     * Log-densities of n points in the model's whitened coordinates.
     *
     * @param z   n x d points, row-major; not modified
     * @param out receives n log-densities; modified
     */
    public void logDensityWhitened(double[] z, int n, double[] out) {
        double[] zT = new double[Math.min(n, BLOCK) * d];
        double[] integral = new double[Math.min(n, BLOCK)];
        double[] block = new double[Math.min(n, BLOCK) * d];
        for (int start = 0; start < n; start += BLOCK) {
            int m = Math.min(BLOCK, n - start);
            System.arraycopy(z, start * d, block, 0, m * d);
            flow(block, m, zT, integral);
            for (int j = 0; j < m; j++) {
                double q = 0;
                for (int r = 0; r < d; r++) {
                    double v = zT[j * d + r];
                    q += v * v;
                }
                out[start + j] = -0.5 * q - 0.5 * d * LOG_2PI - integral[j];
            }
        }
    }

    /**
     * Integrates the forward probability-flow ODE from delta to T for n points (no blocking).
     *
     * @param z        n x d starting points at delta, whitened; not modified
     * @param zT       receives the n x d end points at T; modified
     * @param integral receives {@code int_delta^T (d + div s(z_t, t)) dt} per point, so that
     *                 {@code log p_delta(z) = log p_T(zT) - integral}; modified
     */
    void flow(double[] z, int n, double[] zT, double[] integral) {
        int nd = n * d;
        double[] y = zT;
        System.arraycopy(z, 0, y, 0, nd);
        double[] s1 = new double[nd];
        double[] s2 = new double[nd];
        double[] pred = new double[nd];
        double[] div0 = new double[n];
        double[] div1 = new double[n];
        double[] acc = new double[n];
        model.divergence(up[0], y, n, div0);
        for (int j = 0; j < oneMinusDecay.length; j++) {
            double a = oneMinusDecay[j];
            double h = up[j + 1] - up[j];
            model.score(up[j], y, n, s1);
            // y, s1, pred, s2: n x d row-major.
            for (int i = 0; i < nd; i++) {
                pred[i] = y[i] - a * (y[i] + s1[i]);
            }
            model.score(up[j + 1], pred, n, s2);
            for (int i = 0; i < nd; i++) {
                y[i] -= a * (y[i] + 0.5 * (s1[i] + s2[i]));
            }
            model.divergence(up[j + 1], y, n, div1);
            for (int p = 0; p < n; p++) {
                acc[p] += 0.5 * h * (div0[p] + div1[p]);
            }
            double[] swap = div0;
            div0 = div1;
            div1 = swap;
        }
        double linear = d * (up[up.length - 1] - up[0]);
        for (int p = 0; p < n; p++) {
            integral[p] = linear + acc[p];
        }
    }

    /**
     * Draws n points of the model's law in the data's coordinates: the {@link ReverseSampler} ODE on this
     * grid from N(0, I) (its addressing of points by {@code (stream, counter + j)}), then un-whitened.
     */
    @Override
    public void sample(CounterRandom rng, long stream, long counter, int n, double[] out) {
        SamplerConfig config = SamplerConfig.builder(grid).method(SamplerConfig.Method.ODE).build();
        ReverseSampler.of(config).sample(model, rng, stream, counter, n, out);
        model.whitening().invert(out, n, out);
    }

    @Override
    public String toString() {
        return "ModelDensity[d=" + d + ", delta=" + delta() + ", T=" + horizon() + ", steps=" + oneMinusDecay.length + "]";
    }
}
