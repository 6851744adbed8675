package io.scoremix.core.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The certified upper bound on {@code TV(p, law of the sampler's output)} for a score sampled by the SDE
 * exponential integrator on a grid {@code T = s_0 > ... > s_N = delta} (ALGORITHM.md sections 3 and 7;
 * shown for {@link CertifiedBoundConfig.Scheme#EXPONENTIAL}, see there for the residual variant):
 *
 * <pre>
 * TV(p, q_out) <= TV(p, q_delta) + sqrt( (KL(q_T || N(0, I)) + I) / 2 ),
 * I = sum_j int_{s_{j+1}}^{s_j} E || s_hat(y_{s_j}, s_j) - grad log q_t(y_t) ||^2 dt.
 * </pre>
 *
 * The first term is the triangle inequality through {@code q_delta}; the square root is Pinsker's
 * inequality applied to {@code KL(q_delta || q_out)}, which the data-processing inequality and Girsanov's
 * theorem (diffusion sqrt 2, drift difference {@code 2 (s_hat - grad log q)}, hence coefficient 1) bound
 * by the KL of the initial laws plus I. {@code KL(q_T || N(0, I))} enters through its closed-form
 * convexity bound, so the only estimated quantities are I and {@code TV(p, q_delta)}.
 *
 * <p>What "certified" means here: {@link #total()} uses the Monte Carlo estimates themselves;
 * {@link #conservative()} adds z standard errors to each estimated term before the square root and sum,
 * so with z = 2 it is an upper bound except with probability about 2.3 percent per term under the normal
 * approximation of the Monte Carlo error. Beyond that it is exact for the stated truth p, apart from the
 * Gauss-Legendre quadrature error of the time integral within each step (deterministic; it vanishes as
 * the steps shrink). The bound covers the output at delta; a final Tweedie step is outside it. Immutable.
 */
public final class CertifiedTvBound {

    /**
     * One step of the grid: forward times {@code start = s_j > end = s_{j+1}}, the estimated step integral
     * {@code int_end^start E||s_hat(y_start, start) - grad log q_t(y_t)||^2 dt}, and, only when the
     * configuration asked for the split (else null), the matched-time score error
     * {@code int_end^start E||s_hat(y_t, t) - grad log q_t(y_t)||^2 dt} on the same paths.
     */
    public record Step(int index, double start, double end, Estimate integral, Estimate scoreError) {
    }

    private final double horizon;
    private final double delta;
    private final Estimate earlyStoppingTv;
    private final double klTerminalBound;
    private final Estimate klTerminalMonteCarlo;
    private final Estimate scoreIntegral;
    private final Estimate scoreError;
    private final List<Step> steps;
    private final int nodes;
    private final double z;
    private final CertifiedBoundConfig.Scheme scheme;

    CertifiedTvBound(double horizon, double delta, Estimate earlyStoppingTv, double klTerminalBound,
            Estimate klTerminalMonteCarlo, Estimate scoreIntegral, Estimate scoreError, List<Step> steps, int nodes,
            double z, CertifiedBoundConfig.Scheme scheme) {
        this.horizon = horizon;
        this.delta = delta;
        this.earlyStoppingTv = earlyStoppingTv;
        this.klTerminalBound = klTerminalBound;
        this.klTerminalMonteCarlo = klTerminalMonteCarlo;
        this.scoreIntegral = scoreIntegral;
        this.scoreError = scoreError;
        this.steps = List.copyOf(steps);
        this.nodes = nodes;
        this.z = z;
        this.scheme = scheme;
    }

    /** The sampler update this bound is for. */
    public CertifiedBoundConfig.Scheme scheme() {
        return scheme;
    }

    /** The bound from the estimates: {@code TV(p, q_delta) + sqrt((KL_T bound + I) / 2)}. */
    public double total() {
        return earlyStoppingTv.value() + Math.sqrt(Math.max(0.0, klTerminalBound + scoreIntegral.value()) / 2);
    }

    /**
     * The standard error of {@link #total()} by the delta method:
     * {@code sqrt(se_TV^2 + (se_I / (4 r))^2)} with {@code r = sqrt((KL_T + I) / 2)}.
     */
    public double totalStandardError() {
        double r = Math.sqrt(Math.max(0.0, klTerminalBound + scoreIntegral.value()) / 2);
        double a = earlyStoppingTv.standardError();
        double b = r > 0 ? scoreIntegral.standardError() / (4 * r) : Math.sqrt(scoreIntegral.standardError() / 2);
        return Math.sqrt(a * a + b * b);
    }

    /**
     * The conservative bound {@code (TV + z se_TV) + sqrt((KL_T bound + I + z se_I) / 2)}, with z from the
     * configuration (see the class comment for what it certifies).
     */
    public double conservative() {
        return earlyStoppingTv.upper(z) + Math.sqrt(Math.max(0.0, klTerminalBound + scoreIntegral.upper(z)) / 2);
    }

    /** The z used by {@link #conservative()}. */
    public double z() {
        return z;
    }

    /** The Pinsker term {@code sqrt((KL_T bound + I) / 2)}. */
    public double pinskerTerm() {
        return Math.sqrt(Math.max(0.0, klTerminalBound + scoreIntegral.value()) / 2);
    }

    /** T, the grid's first time. */
    public double horizon() {
        return horizon;
    }

    /** delta, the grid's last time. */
    public double delta() {
        return delta;
    }

    /** The early-stopping term {@code TV(p, q_delta)}, Monte Carlo. */
    public Estimate earlyStoppingTv() {
        return earlyStoppingTv;
    }

    /** The closed-form convexity bound {@code sum_i lambda_i KL(N(m_i(T), S_i(T)) || N(0, I))} (exact). */
    public double klTerminalBound() {
        return klTerminalBound;
    }

    /** A Monte Carlo estimate of the exact {@code KL(q_T || N(0, I))}, for information; not used in the bound. */
    public Estimate klTerminalMonteCarlo() {
        return klTerminalMonteCarlo;
    }

    /** The score integral I: the sum of the step integrals, standard errors added in quadrature. */
    public Estimate scoreIntegral() {
        return scoreIntegral;
    }

    /**
     * The matched-time score error {@code sum_j int E||s_hat(y_t, t) - grad log q_t(y_t)||^2 dt}, present
     * only when {@link CertifiedBoundConfig#scoreErrorSplit()} was set. Not a term of the bound: it is the
     * part of the score integral a perfect time discretisation would leave (what a continuous-time
     * analysis charges); the score integral minus it is, roughly, the price of freezing the score over
     * each step.
     */
    public Optional<Estimate> scoreErrorIntegral() {
        return Optional.ofNullable(scoreError);
    }

    /** The per-step table, in grid order (from T down to delta). */
    public List<Step> steps() {
        return steps;
    }

    /** Gauss-Legendre nodes per step. */
    public int nodes() {
        return nodes;
    }

    /** A one-line summary of the bound and its parts. */
    public String summary() {
        String split = scoreError == null ? "" : String.format(Locale.ROOT,
                " {matched-time score error %.5e +- %.1e}", scoreError.value(), scoreError.standardError());
        return String.format(Locale.ROOT,
                "TV <= %.5f (+- %.1e; conservative z=%.1f: %.5f) = TV(p,q_delta) %.5f +- %.1e"
                        + " + sqrt((KL_T bound %.3e [MC %.3e +- %.1e] + score integral %.5e +- %.1e) / 2)"
                        + "%s [%s, T=%.3g, delta=%.3g, N=%d, %d nodes/step, %d paths/step]",
                total(), totalStandardError(), z, conservative(), earlyStoppingTv.value(),
                earlyStoppingTv.standardError(), klTerminalBound, klTerminalMonteCarlo.value(),
                klTerminalMonteCarlo.standardError(), scoreIntegral.value(), scoreIntegral.standardError(), split,
                scheme, horizon, delta, steps.size(), nodes,
                steps.isEmpty() ? 0 : steps.get(0).integral().samples());
    }

    /** The per-step table as text: index, start, end, step length, integral, its standard error. */
    public String stepTable() {
        StringBuilder sb = new StringBuilder("step  s_j          s_j+1        h            integral     se");
        sb.append(scoreError == null ? "\n" : "        score error  se\n");
        for (Step s : steps) {
            sb.append(String.format(Locale.ROOT, "%4d  %.5e  %.5e  %.5e  %.5e  %.2e", s.index(), s.start(),
                    s.end(), s.start() - s.end(), s.integral().value(), s.integral().standardError()));
            if (s.scoreError() != null) {
                sb.append(String.format(Locale.ROOT, "  %.5e  %.2e", s.scoreError().value(),
                        s.scoreError().standardError()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "CertifiedTvBound[" + summary() + "]";
    }
}
