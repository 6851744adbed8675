package io.scoremix.core.diffusion;

import io.scoremix.core.random.CounterRandom;

/**
 * The probability-flow ODE {@code dy = (y + s(y, t)) dtau} in reverse time, by the exponential
 * trapezoidal predictor-corrector. Deterministic given the starting point.
 *
 * <p>Implementation notes. Over a step {@code h = s_j - s_{j+1}} the variation-of-constants formula is
 * {@code y(h) = e^h y + int_0^h e^{h-u} f(u) du} with {@code f(u) = s(y(u), s_j - u)}. The linear part is
 * exact; the integral is approximated with the trapezoid {@code (e^h - 1)(f(0) + f(h)) / 2}, f(h) taken at
 * the exponential-Euler predictor:
 * <pre>
 *   s1 = s(y, s_j);  y_pred = e^h y + (e^h - 1) s1;  s2 = s(y_pred, s_{j+1})
 *   y  = e^h y + (e^h - 1) (s1 + s2) / 2
 * </pre>
 * For f linear in u the exact integral differs from the trapezoid by {@code -f' h^3 / 12 + O(h^4)}, and
 * the predictor's {@code O(h^2)} error enters multiplied by {@code (e^h - 1) / 2 = O(h)}: local error
 * {@code O(h^3)}, global order 2 (measured 2.0 on blobs-2d). Two score calls per step.
 *
 * <p>The ODE does not forget where it starts: the {@code O(e^{-T} |mu|)} mean offset between q_T and the
 * N(0, I) start reaches delta almost undamped (7e-4 for a Gaussian target at T = 6), whereas the SDE damps
 * it like {@code e^{-2T}}. Take T larger when the ODE's output law matters at that level.
 */
final class ProbabilityFlowSampler extends BlockReverseSampler {

    ProbabilityFlowSampler(SamplerConfig config) {
        super(config);
    }

    @Override
    Scratch newScratch(int len, long stream) {
        return new Scratch(len, true, null);
    }

    @Override
    void integrate(ScoreFunction score, CounterRandom rng, long firstPoint, int d, int m, Scratch scratch) {
        double[] y = scratch.y;
        double[] s1 = scratch.s;
        double[] pred = scratch.w;
        double[] s2 = scratch.w2;
        int md = m * d;
        for (int j = 0; j < steps; j++) {
            double e = expm1Step[j];
            score.score(times[j], y, m, s1);
            // y, s1, pred, s2: m x d row-major.
            for (int i = 0; i < md; i++) {
                pred[i] = y[i] + e * (y[i] + s1[i]);
            }
            score.score(times[j + 1], pred, m, s2);
            for (int i = 0; i < md; i++) {
                y[i] += e * (y[i] + 0.5 * (s1[i] + s2[i]));
            }
        }
    }

    @Override
    public String toString() {
        return "ReverseSampler[" + config + "]";
    }
}
