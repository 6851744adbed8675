package io.scoremix.spark;

import io.scoremix.core.linalg.Cholesky;
import java.util.Arrays;
import java.util.Locale;

/**
 * Classifier two-sample test (ALGORITHM.md section 7): a lower bound on {@code TV(P, Q)} from samples x of
 * P and y of Q. A classifier is trained on one half of each sample and its balanced accuracy a is measured
 * on the other half; for the set A where it says "Q", {@code Q(A) - P(A) = 2 a - 1}, so {@code 2 a - 1} is
 * an unbiased held-out estimate of a lower bound on the TV. Pure Java, deterministic, no Spark.
 *
 * <p>Implementation notes. The classifier is L2-penalised logistic regression on quadratic features of
 * the coordinates standardised by the training halves' pooled mean and standard deviation: 1, z_r and
 * z_r z_s (r <= s) up to d = {@value #MAX_FULL_QUADRATIC_DIMENSION}, and 1, z_r, z_r^2 above (so the
 * normal equations stay at most a few thousand wide). Quadratic features separate two Gaussians exactly
 * (their log-likelihood ratio is quadratic) and detect wrong means, scales and correlations of mixtures.
 * Each class has total weight 1/2 in the loss (balanced), so unequal sample sizes do not bias the
 * accuracy. Newton's method (IRLS) with Cholesky solves; a failed factorisation doubles the penalty. The
 * halves are the even and the odd rows, so the rows must be in random order (draws of a sampler, or a
 * shuffled or uniformly subsampled data set). The standard error of the balanced accuracy is
 * {@code sqrt(a_x (1 - a_x) / m + a_y (1 - a_y) / n) / 2} over the held-out halves of sizes m and n.
 */
public final class ClassifierTwoSample {

    /** Above this dimension only squares (no cross products) enter the features. */
    public static final int MAX_FULL_QUADRATIC_DIMENSION = 20;
    private static final int MAX_NEWTON = 30;
    private static final double TOLERANCE = 1e-9;

    private ClassifierTwoSample() {
    }

    /**
     * The held-out result: balanced accuracy with its standard error, the per-class accuracies, held-out
     * sizes and the number of features.
     */
    public record Result(double accuracy, double standardError, double accuracyP, double accuracyQ, int testP,
                         int testQ, int features) {

        /** {@code max(0, 2 a - 1)}: the estimated TV lower bound. */
        public double tvLowerBound() {
            return Math.max(0, 2 * accuracy - 1);
        }

        /** {@code max(0, 2 (a - z se) - 1)}: a TV lower bound except with probability about 2.3 percent for z = 2. */
        public double conservative(double z) {
            return Math.max(0, 2 * (accuracy - z * standardError) - 1);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "balanced accuracy %.4f +- %.4f (held out %d + %d, %d features), TV >= %.4f",
                    accuracy, standardError, testP, testQ, features, tvLowerBound());
        }
    }

    /**
     * Runs the test.
     *
     * @param x m x d samples of P, row-major, in random order; not modified; finite
     * @param y n x d samples of Q, row-major, in random order; not modified; finite
     * @throws IllegalArgumentException if either sample has fewer than 4 rows, or a value is not finite
     */
    public static Result test(double[] x, int m, double[] y, int n, int d) {
        if (m < 4 || n < 4) {
            throw new IllegalArgumentException("the classifier two-sample test needs at least 4 points per sample, got "
                    + m + " and " + n);
        }
        if (x.length < m * d || y.length < n * d) {
            throw new IllegalArgumentException("sample arrays shorter than m x d or n x d");
        }
        requireFinite(x, m * d, "first");
        requireFinite(y, n * d, "second");
        int mTrain = (m + 1) / 2;
        int nTrain = (n + 1) / 2;
        // Standardisation from the pooled training halves.
        double[] mean = new double[d];
        double[] scale = new double[d];
        for (int j = 0; j < m; j += 2) {
            accumulate(x, j * d, d, mean, scale);
        }
        for (int j = 0; j < n; j += 2) {
            accumulate(y, j * d, d, mean, scale);
        }
        int total = mTrain + nTrain;
        for (int r = 0; r < d; r++) {
            mean[r] /= total;
            double var = scale[r] / total - mean[r] * mean[r];
            scale[r] = var > 0 ? 1 / Math.sqrt(var) : 1;
        }
        boolean full = d <= MAX_FULL_QUADRATIC_DIMENSION;
        int p = full ? 1 + d + d * (d + 1) / 2 : 1 + 2 * d;
        double[] beta = train(x, m, y, n, d, mean, scale, full, p);
        // Held-out halves (odd rows).
        double[] f = new double[p];
        int correctX = 0;
        int testX = 0;
        for (int j = 1; j < m; j += 2, testX++) {
            features(x, j * d, d, mean, scale, full, f);
            if (dot(beta, f, p) < 0) {
                correctX++;
            }
        }
        int correctY = 0;
        int testY = 0;
        for (int j = 1; j < n; j += 2, testY++) {
            features(y, j * d, d, mean, scale, full, f);
            if (dot(beta, f, p) >= 0) {
                correctY++;
            }
        }
        double ax = (double) correctX / testX;
        double ay = (double) correctY / testY;
        double se = 0.5 * Math.sqrt(ax * (1 - ax) / testX + ay * (1 - ay) / testY);
        // A perfect or null split has a zero plug-in variance: use the one-success bound instead.
        se = Math.max(se, 0.5 * Math.sqrt(1.0 / ((double) testX * testX) + 1.0 / ((double) testY * testY)));
        return new Result((ax + ay) / 2, se, ax, ay, testX, testY, p);
    }

    /** Balanced, penalised logistic regression by Newton's method; label 0 for x, 1 for y. */
    private static double[] train(double[] x, int m, double[] y, int n, int d, double[] mean, double[] scale,
                                  boolean full, int p) {
        int mTrain = (m + 1) / 2;
        int nTrain = (n + 1) / 2;
        double wx = 0.5 / mTrain;
        double wy = 0.5 / nTrain;
        double[] beta = new double[p];
        double[] f = new double[p];
        double[] hessian = new double[p * p];
        double[] l = new double[p * p];
        double[] grad = new double[p];
        // Penalty on the total weight 1: about 1e-4 / (training size), vanishing with more data.
        double lambda = 1e-4 / Math.sqrt(mTrain + nTrain) + 1e-8;
        for (int it = 0; it < MAX_NEWTON; it++) {
            Arrays.fill(hessian, 0);
            Arrays.fill(grad, 0);
            for (int c = 0; c < 2; c++) {
                double[] s = c == 0 ? x : y;
                int rows = c == 0 ? m : n;
                double w = c == 0 ? wx : wy;
                for (int j = 0; j < rows; j += 2) {
                    features(s, j * d, d, mean, scale, full, f);
                    double eta = dot(beta, f, p);
                    double prob = eta >= 0 ? 1 / (1 + Math.exp(-eta)) : Math.exp(eta) / (1 + Math.exp(eta));
                    double g = w * (prob - c);
                    double h = w * Math.max(prob * (1 - prob), 1e-12);
                    // Lower triangle of H += h f f^T (p x p row-major); G += g f.
                    for (int a = 0; a < p; a++) {
                        grad[a] += g * f[a];
                        double hf = h * f[a];
                        int ra = a * p;
                        for (int b = 0; b <= a; b++) {
                            hessian[ra + b] += hf * f[b];
                        }
                    }
                }
            }
            double pen = lambda;
            int status;
            do {
                System.arraycopy(hessian, 0, l, 0, p * p);
                for (int a = 1; a < p; a++) {
                    l[a * p + a] += pen;
                }
                status = Cholesky.factor(l, p, l);
                pen *= 2;
            } while (status != Cholesky.OK && pen < 1e6);
            if (status != Cholesky.OK) {
                break;
            }
            double[] stepv = grad.clone();
            for (int a = 1; a < p; a++) {
                stepv[a] += lambda * beta[a];
            }
            Cholesky.solve(l, p, stepv);
            double change = 0;
            for (int a = 0; a < p; a++) {
                // Damped: a separable pair would otherwise send beta to infinity in a few steps.
                double s = Math.max(-10, Math.min(10, stepv[a]));
                beta[a] -= s;
                change = Math.max(change, Math.abs(s));
            }
            if (change < TOLERANCE) {
                break;
            }
        }
        return beta;
    }

    private static void accumulate(double[] x, int off, int d, double[] sum, double[] sumSq) {
        for (int r = 0; r < d; r++) {
            double v = x[off + r];
            sum[r] += v;
            sumSq[r] += v * v;
        }
    }

    /** f = (1, z, quadratic terms) for the standardised row z of x at {@code off}. */
    private static void features(double[] x, int off, int d, double[] mean, double[] scale, boolean full, double[] f) {
        f[0] = 1;
        for (int r = 0; r < d; r++) {
            f[1 + r] = (x[off + r] - mean[r]) * scale[r];
        }
        int o = 1 + d;
        if (full) {
            for (int r = 0; r < d; r++) {
                double zr = f[1 + r];
                for (int s = r; s < d; s++) {
                    f[o++] = zr * f[1 + s];
                }
            }
        } else {
            for (int r = 0; r < d; r++) {
                f[o++] = f[1 + r] * f[1 + r];
            }
        }
    }

    private static double dot(double[] a, double[] b, int p) {
        double s = 0;
        for (int i = 0; i < p; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void requireFinite(double[] v, int len, String which) {
        for (int i = 0; i < len; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException("the " + which + " sample has a non-finite value at index " + i);
            }
        }
    }
}
