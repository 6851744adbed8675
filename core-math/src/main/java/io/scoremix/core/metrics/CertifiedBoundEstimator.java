package io.scoremix.core.metrics;

import io.scoremix.core.diffusion.ScoreFunction;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Computes a {@link CertifiedTvBound}.
 *
 * <p>Implementation notes. Step j covers forward times {@code [e, s] = [s_{j+1}, s_j]}, h = s - e. The
 * integrand {@code g(t) = E||s_hat(x_s, s) - grad log q_t(x_t)||^2} is taken along exact forward paths
 * (the true reverse process has the path law of the forward one), the true score being that of the
 * noised mixture {@code p.noised(t)}. The time integral is the K-node Gauss-Legendre sum
 * {@code (h/2) sum_k w_k g(t_k)}, {@code t_k = e + h (1 + xi_k) / 2} (nodes increasing). Path m of a step
 * draws {@code x_0 ~ p} and runs the exact OU transitions
 * {@code x_u = e^{-(u-v)} x_v + sqrt(1 - e^{-2(u-v)}) z} through {@code 0 < t_0 < ... < t_{K-1} < s}, so
 * every pair {@code (x_{t_k}, x_s)} has the forward process's joint law and {@code s_hat} is evaluated
 * once per path. Its contribution
 * {@code F_m = (h/2) sum_k w_k ||s_hat(x_s^{(m)}, s) - grad log q_{t_k}(x_{t_k}^{(m)})||^2} is unbiased for
 * the quadrature sum, and the F_m are i.i.d., so the step's standard error is {@code sd(F) / sqrt(M)}
 * whatever the correlation between nodes of one path. Steps use disjoint streams (independent), so the
 * variances of the step estimates add for the total.
 *
 * <p>For {@link CertifiedBoundConfig.Scheme#RESIDUAL_EXPONENTIAL} the same paths give the integrand
 * {@code ||(s_hat(x_s, s) + x_s) - (grad log q_t(x_t) + x_t)||^2} instead; the matched-time split is the
 * same for both schemes (the x_t terms cancel).
 *
 * <p>Randomness: stream {@code (TAG_PATHS, j, 0)} gives the x_0 of path m at counter m; stream
 * {@code (TAG_PATHS, j, 1)} gives its {@code (K + 1) d} hop Gaussians at counters {@code m (K + 1) d ..}.
 * Results therefore do not depend on the block size or on the parallel schedule. Scores go out on blocks:
 * {@code s_hat} once per block of B paths at time s, the true score once per node on the same B paths.
 */
final class CertifiedBoundEstimator {

    private static final long TAG_PATHS = 0x5041544853L;
    private static final long TAG_TV = 0x5456L;
    private static final long TAG_KL = 0x4B4CL;

    private CertifiedBoundEstimator() {
    }

    static CertifiedTvBound estimate(GaussianMixture p, ScoreFunction score, TimeGrid grid,
            CertifiedBoundConfig config) {
        if (score.dimension() != p.dimension()) {
            throw new IllegalArgumentException("score has dimension " + score.dimension() + " but the mixture has "
                    + p.dimension());
        }
        int n = grid.steps();
        if (!(grid.time(1) < grid.time(0))) {
            throw new IllegalArgumentException("the sampler grid must decrease from T to delta, got " + grid);
        }
        double horizon = grid.time(0);
        double delta = grid.time(n);
        CounterRandom rng = CounterRandom.of(config.seed());
        GaussLegendre rule = GaussLegendre.of(config.nodes());

        Estimate[][] perStep = new Estimate[n][];
        IntStream js = IntStream.range(0, n);
        if (config.parallel()) {
            js = js.parallel();
        }
        js.forEach(j -> perStep[j] = step(p, score, grid.time(j), grid.time(j + 1), j, rule, config, rng));

        List<CertifiedTvBound.Step> steps = new ArrayList<>(n);
        double sum = 0;
        double var = 0;
        double errSum = 0;
        double errVar = 0;
        for (int j = 0; j < n; j++) {
            Estimate e = perStep[j][0];
            Estimate err = perStep[j][1];
            steps.add(new CertifiedTvBound.Step(j, grid.time(j), grid.time(j + 1), e, err));
            sum += e.value();
            var += e.standardError() * e.standardError();
            if (err != null) {
                errSum += err.value();
                errVar += err.standardError() * err.standardError();
            }
        }
        long draws = (long) config.paths() * n;
        Estimate integral = new Estimate(sum, Math.sqrt(var), draws);
        Estimate scoreError = config.scoreErrorSplit() ? new Estimate(errSum, Math.sqrt(errVar), draws) : null;

        Estimate tv = MonteCarloTv.tv(p, p.noised(delta), config.tvSamples(), rng, CounterRandom.stream(TAG_TV));
        GaussianMixture qT = p.noised(horizon);
        double klBound = MonteCarloTv.klBoundToStandardNormal(qT);
        Estimate klMc = MonteCarloTv.klToStandardNormal(qT, config.klSamples(), rng, CounterRandom.stream(TAG_KL));
        return new CertifiedTvBound(horizon, delta, tv, klBound, klMc, integral, scoreError, steps, rule.size(),
                config.z(), config.scheme());
    }

    /**
     * The step integral over forward times [end, start] and, when the configuration asks for the split,
     * the matched-time score error over the same step (else null), each with its standard error.
     */
    static Estimate[] step(GaussianMixture p, ScoreFunction score, double start, double end, int j,
            GaussLegendre rule, CertifiedBoundConfig config, CounterRandom rng) {
        int d = p.dimension();
        int kn = rule.size();
        double h = start - end;
        // Node times increase with the Gauss-Legendre nodes; hop k goes from t_{k-1} (t_{-1} = 0) to t_k,
        // hop kn from t_{kn-1} to the step start s.
        GaussianMixture[] noised = new GaussianMixture[kn];
        double[] decay = new double[kn + 1];
        double[] spread = new double[kn + 1];
        double[] weight = new double[kn];
        double[] nodeTime = new double[kn];
        double previous = 0.0;
        for (int k = 0; k <= kn; k++) {
            double t = k < kn ? end + 0.5 * h * (1 + rule.node(k)) : start;
            double gap = t - previous;
            decay[k] = Math.exp(-gap);
            spread[k] = Math.sqrt(-Math.expm1(-2 * gap));
            if (k < kn) {
                noised[k] = p.noised(t);
                nodeTime[k] = t;
                weight[k] = 0.5 * h * rule.weight(k);
            }
            previous = t;
        }
        int paths = config.paths();
        int block = Math.min(config.blockSize(), paths);
        long x0Stream = CounterRandom.stream(TAG_PATHS, j, 0);
        long zStream = CounterRandom.stream(TAG_PATHS, j, 1);
        int perPath = (kn + 1) * d;
        double[] x = new double[block * d];             // the path's current point, B x d row-major
        double[] noise = new double[block * perPath];   // per path: kn + 1 hops of d Gaussians
        double[][] trueScore = new double[kn][block * d];
        double[] hatScore = new double[block * d];
        double[] contribution = new double[block];
        boolean residual = config.scheme() == CertifiedBoundConfig.Scheme.RESIDUAL_EXPONENTIAL;
        // Residual scheme: the frozen part is s_hat(x_s) + x_s, the true part grad log q_t(x_t) + x_t.
        double[][] trueResidual = residual ? new double[kn][block * d] : null;
        double[] hatResidual = residual ? new double[block * d] : null;
        boolean split = config.scoreErrorSplit();
        double[] hatAtNode = split ? new double[block * d] : null;
        double[] errContribution = split ? new double[block] : null;
        MeanAccumulator acc = new MeanAccumulator();
        MeanAccumulator errAcc = new MeanAccumulator();
        for (int first = 0; first < paths; first += block) {
            int b = Math.min(block, paths - first);
            p.sample(rng, x0Stream, first, b, x);
            rng.fillGaussian(zStream, (long) first * perPath, noise, 0, b * perPath);
            // Exact OU hops 0 -> t_0 -> ... -> t_{kn-1} -> s; x ends at x_s.
            for (int k = 0; k <= kn; k++) {
                double a = decay[k];
                double sd = spread[k];
                for (int m = 0; m < b; m++) {
                    int xo = m * d;
                    int no = m * perPath + k * d;
                    for (int r = 0; r < d; r++) {
                        x[xo + r] = a * x[xo + r] + sd * noise[no + r];
                    }
                }
                if (k < kn) {
                    noised[k].score(x, b, trueScore[k]);
                    if (residual) {
                        double[] tr = trueResidual[k];
                        double[] ts = trueScore[k];
                        for (int i = 0; i < b * d; i++) {
                            tr[i] = ts[i] + x[i];
                        }
                    }
                    if (split) {
                        score.score(nodeTime[k], x, b, hatAtNode);
                        addSquaredDistance(hatAtNode, trueScore[k], b, d, weight[k], errContribution, k == 0);
                    }
                }
            }
            // s_hat frozen at the step start, once per path for all nodes.
            score.score(start, x, b, hatScore);
            if (residual) {
                for (int i = 0; i < b * d; i++) {
                    hatResidual[i] = hatScore[i] + x[i];
                }
            }
            for (int k = 0; k < kn; k++) {
                if (residual) {
                    addSquaredDistance(hatResidual, trueResidual[k], b, d, weight[k], contribution, k == 0);
                } else {
                    addSquaredDistance(hatScore, trueScore[k], b, d, weight[k], contribution, k == 0);
                }
            }
            for (int m = 0; m < b; m++) {
                if (!Double.isFinite(contribution[m])) {
                    throw new IllegalArgumentException("the score error is not finite on path " + (first + m)
                            + " of step " + j + " (forward times " + end + " to " + start
                            + "): the score function returned a non-finite or overflowing value");
                }
                acc.add(contribution[m]);
                if (split) {
                    errAcc.add(errContribution[m]);
                }
            }
        }
        return new Estimate[] {acc.estimate(), split ? errAcc.estimate() : null};
    }

    /** {@code out[m] (+)= w ||a_m - b_m||^2} for m < n (a, b: n x d row-major); {@code reset} overwrites. */
    private static void addSquaredDistance(double[] a, double[] b, int n, int d, double w, double[] out,
            boolean reset) {
        for (int m = 0; m < n; m++) {
            int o = m * d;
            double sq = 0;
            for (int r = 0; r < d; r++) {
                double diff = a[o + r] - b[o + r];
                sq += diff * diff;
            }
            out[m] = (reset ? 0.0 : out[m]) + w * sq;
        }
    }
}
