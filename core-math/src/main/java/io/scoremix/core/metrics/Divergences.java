package io.scoremix.core.metrics;

import io.scoremix.core.diffusion.ScoreFunction;
import io.scoremix.core.diffusion.TimeGrid;
import io.scoremix.core.mixture.DensityModel;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

/**
 * The evaluation metrics of ALGORITHM.md section 7: Monte Carlo total variation between densities, KL to
 * the standard normal, the certified TV upper bound for a diffusion sampler against a known mixture, and
 * held-out TV lower bounds from 1-D projections of samples. Every estimate comes with its Monte Carlo
 * standard error and is reproducible from its seed and stream. Stateless and thread-safe.
 */
public final class Divergences {

    private Divergences() {
    }

    /**
     * Monte Carlo total variation {@code TV(p, q) = E_{x~p}[max(0, 1 - q(x)/p(x))]}, the integrand computed
     * in log space as {@code 1 - exp(min(0, log q - log p))} (ALGORITHM.md section 7). The integrand lies in
     * [0, 1], so the standard error is at most {@code 0.5 / sqrt(samples)}; it is the sample standard
     * deviation over {@code sqrt(samples)}, capped at that bound (Popoviciu's inequality).
     *
     * @param p       the distribution sampled from; its log-density must be finite at its samples
     * @param q       the other density, same dimension
     * @param samples number of draws from p, at least 2
     * @param rng     the generator; draw j uses counter j of {@code stream} (see {@link DensityModel#sample})
     * @throws IllegalArgumentException on a dimension mismatch or too few samples
     */
    public static Estimate monteCarloTv(DensityModel p, DensityModel q, long samples, CounterRandom rng, long stream) {
        return MonteCarloTv.tv(p, q, samples, rng, stream);
    }

    /**
     * A certified upper bound on {@code KL(q || N(0, I))} for a Gaussian mixture
     * {@code q = sum_i lambda_i N(m_i, S_i)}: by joint convexity of KL,
     * {@code KL(q || N(0, I)) <= sum_i lambda_i KL(N(m_i, S_i) || N(0, I))}, and each term is the closed form
     * {@code 1/2 (tr S_i - d - log det S_i + ||m_i||^2)}. Exact (no Monte Carlo) and equal to the KL when
     * k = 1. Accurate to a few ulps of 1 per dimension in absolute terms, also when S_i is close to I.
     */
    public static double klBoundToStandardNormal(GaussianMixture q) {
        return MonteCarloTv.klBoundToStandardNormal(q);
    }

    /**
     * Monte Carlo {@code KL(q || N(0, I)) = E_{x~q}[log q(x) + ||x||^2 / 2 + d/2 log 2 pi]}, with the sample
     * standard error; draw j uses counter j of {@code stream}.
     */
    public static Estimate monteCarloKlToStandardNormal(DensityModel q, long samples, CounterRandom rng, long stream) {
        return MonteCarloTv.klToStandardNormal(q, samples, rng, stream);
    }

    /**
     * The certified upper bound of ALGORITHM.md section 7 on the TV between the known mixture p and the
     * output law (at delta) of the reverse SDE exponential integrator driven by {@code score} on
     * {@code grid} (the update of {@link CertifiedBoundConfig#scheme()}; shown here for the default):
     * {@code TV(p, q_out) <= TV(p, q_delta) + sqrt((KL(q_T || N(0, I)) + sum_j int_{s_{j+1}}^{s_j}
     * E||s_hat(y_{s_j}, s_j) - grad log q_t(y_t)||^2 dt) / 2)}; see {@link CertifiedTvBound} for the
     * derivation, the parts reported and what "certified" means.
     *
     * @param p      the true data law
     * @param score  the score the sampler uses; called on blocks of at most {@code blockSize} points (at the
     *               step starts, and at the quadrature nodes when the score-error split is on), possibly
     *               from several threads at once
     * @param grid   the sampler's grid, decreasing from T to delta
     * @param config paths, nodes, sample sizes, seed
     * @throws IllegalArgumentException on a dimension mismatch, an increasing grid, or a score that returns
     *                                  non-finite values on the forward paths (the message names path and step)
     */
    public static CertifiedTvBound certifiedTvUpperBound(GaussianMixture p, ScoreFunction score, TimeGrid grid,
            CertifiedBoundConfig config) {
        return CertifiedBoundEstimator.estimate(p, score, grid, config);
    }

    /**
     * A held-out lower bound on {@code TV(p, q)} for samples y of an unknown q against a known mixture p,
     * from 1-D projections (component-mean differences, principal axes, random directions), with direction
     * and set chosen on one half of the samples and evaluated on the other; see {@link ProjectionLowerBound}.
     *
     * @param y n x d samples, row-major; not modified; all finite
     * @throws IllegalArgumentException naming the bad point, or on too few points
     */
    public static ProjectionLowerBound projectionTvLowerBound(GaussianMixture p, double[] y, int n,
            ProjectionConfig config) {
        return ProjectionTv.againstMixture(p, y, n, config);
    }

    /**
     * The same lower bound for two sample sets: y (n x d) against the reference x (m x d), both split in
     * halves; bins are equal-mass under the pooled first halves and the standard error combines both
     * held-out halves.
     *
     * @throws IllegalArgumentException naming the bad point, or on too few points
     */
    public static ProjectionLowerBound projectionTvLowerBound(double[] x, int m, double[] y, int n, int d,
            ProjectionConfig config) {
        return ProjectionTv.againstSamples(x, m, y, n, d, config);
    }
}
