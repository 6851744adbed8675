package io.scoremix.core.regression;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static io.scoremix.core.regression.NormalEquationsTest.assertClose;
import static io.scoremix.core.regression.NormalEquationsTest.gaussian;
import static io.scoremix.core.regression.NormalEquationsTest.gaussians;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ridge solves, the fallback chain and validation-moment selection of {@link RidgeSolver}. */
class RidgeSolverTest {

    /** y = X beta + sigma * noise: n x d, with X n x p and beta p x d row-major. */
    static double[] linear(double[] x, double[] beta, int n, int p, int d, double sigma, SplittableRandom rnd) {
        double[] y = new double[n * d];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < d; c++) {
                double s = sigma * gaussian(rnd);
                for (int i = 0; i < p; i++) {
                    s += x[j * p + i] * beta[i * d + c];
                }
                y[j * d + c] = s;
            }
        }
        return y;
    }

    /**
     * Least squares by Householder QR of X (n x p, full column rank), column by column of y: an
     * independent reference that never forms X^T X.
     */
    static double[] qrLeastSquares(double[] x, double[] y, int n, int p, int d) {
        double[] a = x.clone();
        double[] b = y.clone();
        for (int k = 0; k < p; k++) {
            double norm = 0;
            for (int i = k; i < n; i++) {
                norm += a[i * p + k] * a[i * p + k];
            }
            norm = Math.sqrt(norm);
            double alpha = a[k * p + k] > 0 ? -norm : norm;
            double[] v = new double[n];
            for (int i = k; i < n; i++) {
                v[i] = a[i * p + k];
            }
            v[k] -= alpha;
            double vv = 0;
            for (int i = k; i < n; i++) {
                vv += v[i] * v[i];
            }
            for (int c = k; c < p; c++) {
                double s = 0;
                for (int i = k; i < n; i++) {
                    s += v[i] * a[i * p + c];
                }
                s = 2 * s / vv;
                for (int i = k; i < n; i++) {
                    a[i * p + c] -= s * v[i];
                }
            }
            for (int c = 0; c < d; c++) {
                double s = 0;
                for (int i = k; i < n; i++) {
                    s += v[i] * b[i * d + c];
                }
                s = 2 * s / vv;
                for (int i = k; i < n; i++) {
                    b[i * d + c] -= s * v[i];
                }
            }
        }
        double[] beta = new double[p * d];
        for (int c = 0; c < d; c++) {
            for (int i = p - 1; i >= 0; i--) {
                double s = b[i * d + c];
                for (int m = i + 1; m < p; m++) {
                    s -= a[i * p + m] * beta[m * d + c];
                }
                beta[i * d + c] = s / a[i * p + i];
            }
        }
        return beta;
    }

    static NormalEquations.Snapshot moments(double[] x, double[] y, double[] w, int n, int p, int d) {
        return new NormalEquations(p, d).addBlock(x, y, w, n).snapshot();
    }

    /**
     * lambda = 0 on a well-conditioned design equals least squares by QR. X has columns of scales 1..8,
     * so cond(X) is about 10 and cond(G) about 1e2; both solvers are backward stable, so they agree to
     * cond(G) * eps ~ 1e-14 relative. Tolerance 1e-10.
     */
    @Test
    void lambdaZeroIsExactLeastSquares() {
        SplittableRandom rnd = new SplittableRandom(41);
        int n = 300;
        int p = 8;
        int d = 2;
        double[] x = gaussians(rnd, n * p);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < p; i++) {
                x[j * p + i] *= 1 + i;
            }
        }
        double[] beta = gaussians(rnd, p * d);
        double[] y = linear(x, beta, n, p, d, 0.3, rnd);
        RidgeSolution s = RidgeSolver.defaults().solve(moments(x, y, null, n, p, d), p, 0.0);
        assertEquals(RidgeSolution.Path.CHOLESKY, s.path());
        assertEquals(0.0, s.lambdaUsed());
        assertEquals(p, s.rank());
        assertTrue(s.conditionEstimate() > 1 && s.conditionEstimate() < 1e4, "condition " + s.conditionEstimate());
        assertClose(qrLeastSquares(x, y, n, p, d), s.beta(), 1e-10, "beta");
        // Weighted least squares is least squares on sqrt(w)-scaled rows.
        double[] w = new double[n];
        double[] xs = x.clone();
        double[] ys = y.clone();
        for (int j = 0; j < n; j++) {
            w[j] = 0.5 + rnd.nextDouble();
            double sw = Math.sqrt(w[j]);
            for (int i = 0; i < p; i++) {
                xs[j * p + i] *= sw;
            }
            for (int c = 0; c < d; c++) {
                ys[j * d + c] *= sw;
            }
        }
        RidgeSolution sw = RidgeSolver.defaults().solve(moments(x, y, w, n, p, d), p, 0.0);
        assertClose(qrLeastSquares(xs, ys, n, p, d), sw.beta(), 1e-10, "weighted beta");
    }

    /**
     * Ridge: the solution satisfies (G + lambda tr(G)/q I) beta = B, checked by the residual, for a prefix.
     */
    @Test
    void ridgeSolvesTheShiftedSystemOnAPrefix() {
        SplittableRandom rnd = new SplittableRandom(42);
        int n = 100;
        int p = 6;
        int d = 3;
        double[] x = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        NormalEquations.Snapshot s = moments(x, y, null, n, p, d);
        int q = 4;
        double lambda = 0.3;
        RidgeSolution r = RidgeSolver.defaults().solve(s, q, lambda);
        double[] g = s.gram(q);
        double[] b = s.rhs(q);
        double shift = lambda * s.trace(q) / q;
        assertEquals(shift, r.ridge(), 1e-12 * shift);
        double[] lhs = new double[q * d];
        for (int i = 0; i < q; i++) {
            for (int c = 0; c < d; c++) {
                double v = shift * r.beta(i, c);
                for (int m = 0; m < q; m++) {
                    v += g[i * q + m] * r.beta(m, c);
                }
                lhs[i * d + c] = v;
            }
        }
        assertClose(b, lhs, 1e-12, "(G + ridge I) beta = B");
    }

    /**
     * Noise level. With rows x ~ N(0, I_p) and y = X beta + sigma e, the least-squares error of each output
     * column is N(0, sigma^2 (X^T X)^{-1}) and X^T X = n (I + O(sqrt(p/n))), so n ||err||^2 / sigma^2 is
     * close to a chi-square with p degrees of freedom: ||err|| is about sigma sqrt(p/n). For p = 10,
     * P(chi2_10 > 40) ~ 2e-5 and P(chi2_10 < 0.4) ~ 1e-7, so asserting 0.2 sigma sqrt(p/n) <= ||err|| <=
     * 2 sigma sqrt(p/n) per column fails with probability below 1e-4 over seeds (and the seed is fixed).
     * The lower bound shows the bound is not vacuous (the estimate really is noise-limited).
     */
    @Test
    void recoversCoefficientsToTheNoiseLevel() {
        SplittableRandom rnd = new SplittableRandom(43);
        int n = 20000;
        int p = 10;
        int d = 2;
        double sigma = 0.5;
        double[] x = gaussians(rnd, n * p);
        double[] beta = gaussians(rnd, p * d);
        double[] y = linear(x, beta, n, p, d, sigma, rnd);
        RidgeSolution s = RidgeSolver.defaults().solve(moments(x, y, null, n, p, d), p, 0.0);
        double scale = sigma * Math.sqrt((double) p / n);
        for (int c = 0; c < d; c++) {
            double e2 = 0;
            for (int i = 0; i < p; i++) {
                double e = s.beta(i, c) - beta[i * d + c];
                e2 += e * e;
            }
            double err = Math.sqrt(e2);
            assertTrue(err <= 2 * scale && err >= 0.2 * scale, "output " + c + ": error " + err + " vs sigma sqrt(p/n) " + scale);
        }
    }

    /** Design with column 4 an exact copy of column 3: G is singular. */
    @Test
    void duplicateColumnsTakeTheFallbackAndStayFinite() {
        SplittableRandom rnd = new SplittableRandom(44);
        int n = 200;
        int p = 5;
        int d = 2;
        double[] xr = gaussians(rnd, n * (p - 1));
        double[] x = new double[n * p];
        for (int j = 0; j < n; j++) {
            System.arraycopy(xr, j * (p - 1), x, j * p, p - 1);
            x[j * p + p - 1] = xr[j * (p - 1) + p - 2];
        }
        double[] y = linear(xr, gaussians(rnd, (p - 1) * d), n, p - 1, d, 0.1, rnd);
        double[] reduced = qrLeastSquares(xr, y, n, p - 1, d);
        NormalEquations.Snapshot s = moments(x, y, null, n, p, d);

        // Default chain: Cholesky is refused (singular or condition above 1e12), a small extra ridge works.
        RidgeSolution r = RidgeSolver.defaults().solve(s, p, 0.0);
        assertNotEquals(RidgeSolution.Path.CHOLESKY, r.path());
        for (double v : r.beta()) {
            assertTrue(Double.isFinite(v));
        }
        // Predictions equal those of the reduced least-squares fit: the duplicated pair's coefficients
        // sum to the reduced coefficient. The extra ridge (at most 1e-10 relative if the Cholesky path
        // ran) perturbs that by ~1e-10, hence 1e-7.
        for (int c = 0; c < d; c++) {
            for (int i = 0; i < p - 2; i++) {
                assertEquals(reduced[i * d + c], r.beta(i, c), 1e-7, "coefficient " + i);
            }
            assertEquals(reduced[(p - 2) * d + c], r.beta(p - 2, c) + r.beta(p - 1, c), 1e-7, "duplicated pair");
        }

        // With no ridge allowed, the eigen pseudo-inverse runs: rank p - 1, minimum norm splits the pair equally.
        RidgeSolution e = RidgeSolver.of(1e12, 0.0).solve(s, p, 0.0);
        assertEquals(RidgeSolution.Path.EIGEN_PSEUDO_INVERSE, e.path());
        assertEquals(p - 1, e.rank());
        for (int c = 0; c < d; c++) {
            for (int i = 0; i < p - 2; i++) {
                assertEquals(reduced[i * d + c], e.beta(i, c), 1e-9, "coefficient " + i);
            }
            assertEquals(0.5 * reduced[(p - 2) * d + c], e.beta(p - 2, c), 1e-9);
            assertEquals(0.5 * reduced[(p - 2) * d + c], e.beta(p - 1, c), 1e-9);
        }

        // All-zero features: G = 0, straight to the eigen step, zero coefficients.
        RidgeSolution z = RidgeSolver.defaults().solve(moments(new double[n * p], y, null, n, p, d), p, 0.1);
        assertEquals(RidgeSolution.Path.EIGEN_PSEUDO_INVERSE, z.path());
        assertEquals(0, z.rank());
        for (double v : z.beta()) {
            assertEquals(0.0, v);
        }
    }

    /**
     * The loss from validation moments equals the weighted mean squared error on the validation rows.
     * Both sides are O(1) and the moment formula's terms are O(10), so cancellation costs at most a
     * factor 10 over eps-level summation errors; tolerance 1e-11 relative.
     */
    @Test
    void validationLossFromMomentsEqualsTheDirectLoss() {
        SplittableRandom rnd = new SplittableRandom(45);
        int n = 500;
        int p = 6;
        int d = 3;
        double[] x = gaussians(rnd, n * p);
        double[] y = gaussians(rnd, n * d);
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = rnd.nextDouble();
        }
        NormalEquations.Snapshot val = moments(x, y, w, n, p, d);
        for (int q : new int[] {1, 4, 6}) {
            double[] beta = gaussians(rnd, q * d);
            double direct = 0;
            double wsum = 0;
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < d; c++) {
                    double r = y[j * d + c];
                    for (int i = 0; i < q; i++) {
                        r -= x[j * p + i] * beta[i * d + c];
                    }
                    direct += w[j] * r * r;
                }
                wsum += w[j];
            }
            direct /= wsum;
            assertEquals(direct, RidgeSolver.validationLoss(val, q, beta), 1e-11 * direct, "prefix " + q);
        }
    }

    /**
     * Degree selection. Features [1, t, u_1..u_18] with y = 1 + 2 t + e (sigma 1) and u independent of y;
     * prefixes 2 (the true model) and 20. With n_train = 40, least squares on 20 features has an expected
     * excess validation loss of about sigma^2 p / (n - p - 1) ~ 1.05 (ridge on the grid trades that for
     * shrinking the true signal of variance 4), against 2 / 37 ~ 0.05 for prefix 2; the validation
     * losses are estimated from 20,000 rows with standard error ~ sigma^2 sqrt(2 / 20000) = 0.01, so
     * prefix 2 wins by tens of standard errors. In residual mode it must also beat zero (loss 1 + 1 + 4 = 6).
     */
    @Test
    void selectionPicksTheTrueDegreePrefixAndBeatsZero() {
        SplittableRandom rnd = new SplittableRandom(46);
        int p = 20;
        int nTrain = 40;
        int nVal = 20000;
        double[][] xy = new double[4][];
        for (int part = 0; part < 2; part++) {
            int n = part == 0 ? nTrain : nVal;
            double[] x = new double[n * p];
            double[] y = new double[n];
            for (int j = 0; j < n; j++) {
                x[j * p] = 1;
                for (int i = 1; i < p; i++) {
                    x[j * p + i] = gaussian(rnd);
                }
                y[j] = 1 + 2 * x[j * p + 1] + gaussian(rnd);
            }
            xy[2 * part] = x;
            xy[2 * part + 1] = y;
        }
        NormalEquations.Snapshot train = moments(xy[0], xy[1], null, nTrain, p, 1);
        NormalEquations.Snapshot val = moments(xy[2], xy[3], null, nVal, p, 1);
        double[] lambdas = {0, 1e-3, 1e-2, 1e-1, 1};
        int[] prefixes = {2, p};
        RidgeSelection sel = RidgeSolver.defaults().select(train, val, lambdas, prefixes, true);
        assertFalse(sel.zeroWon());
        assertEquals(2, sel.prefix());
        assertTrue(sel.bestLoss() < 1.2, "best loss " + sel.bestLoss() + " (noise floor 1)");
        assertTrue(sel.bestLoss() < sel.zeroLoss());
        assertEquals(lambdas.length * prefixes.length, sel.candidates().size());
        for (RidgeSelection.Candidate c : sel.candidates()) {
            double direct = RidgeSolver.validationLoss(val, c.prefix(),
                    RidgeSolver.defaults().solve(train, c.prefix(), c.lambda()).beta());
            assertEquals(direct, c.loss(), 1e-12 * direct);
            assertTrue(c.loss() >= sel.bestLoss());
        }
        assertEquals(2 * 1, sel.coefficients().length);
        assertEquals(2.0, sel.coefficients()[1], 0.5);
        // Paper mode: zero is not a candidate.
        RidgeSelection paper = RidgeSolver.defaults().select(train, val, lambdas, prefixes, false);
        assertTrue(Double.isNaN(paper.zeroLoss()));
        assertFalse(paper.zeroWon());
        assertEquals(sel.bestLoss(), paper.bestLoss());
    }

    /**
     * Zero wins on a pure-noise target (y independent of the features, mean 0). For fitted beta (norm
     * ~ sigma sqrt(q d / n_train)), the validation loss exceeds zero's by ||beta||^2_G - 2 <beta, B_val> / W,
     * whose second term is ~ 2 ||beta|| sigma N(0, 1) / sqrt(n_val); the fit beats zero only if
     * chi2_{q d} < 4 N^2 (1 + lambda) n_train / n_val. With q d >= 6, n_train = 1000, n_val = 100,000 and
     * lambda <= 1 that needs chi2_6 < 0.08 N^2: probability about 1e-5 per candidate, so the test is
     * reliable (and the seed is fixed).
     */
    @Test
    void zeroWinsWhenTheTargetIsPureNoise() {
        SplittableRandom rnd = new SplittableRandom(47);
        int p = 6;
        int d = 2;
        NormalEquations.Snapshot[] s = new NormalEquations.Snapshot[2];
        for (int part = 0; part < 2; part++) {
            int n = part == 0 ? 1000 : 100000;
            double[] x = gaussians(rnd, n * p);
            for (int j = 0; j < n; j++) {
                x[j * p] = 1;
            }
            s[part] = moments(x, gaussians(rnd, n * d), null, n, p, d);
        }
        RidgeSelection sel = RidgeSolver.defaults().select(s[0], s[1], new double[] {0, 0.01, 0.1, 1}, new int[] {3, 6}, true);
        assertTrue(sel.zeroWon(), sel.toString());
        assertEquals(0, sel.prefix());
        assertEquals(0, sel.coefficients().length);
        assertEquals(sel.zeroLoss(), sel.bestLoss());
        assertEquals(s[1].sumSquaredTargets() / s[1].weight(), sel.zeroLoss(), 0.0);
        for (RidgeSelection.Candidate c : sel.candidates()) {
            assertTrue(c.loss() > sel.zeroLoss(), c.toString());
        }
    }

    @Test
    void badArgumentsAreRejectedWithAReason() {
        SplittableRandom rnd = new SplittableRandom(48);
        NormalEquations.Snapshot a = moments(gaussians(rnd, 40), gaussians(rnd, 10), null, 10, 4, 1);
        NormalEquations.Snapshot b = moments(gaussians(rnd, 50), gaussians(rnd, 10), null, 10, 5, 1);
        RidgeSolver r = RidgeSolver.defaults();
        assertThrows(IllegalArgumentException.class, () -> r.select(a, b, new double[] {0}, new int[] {1}, true));
        assertThrows(IllegalArgumentException.class, () -> r.select(a, a, new double[0], new int[] {1}, true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> r.select(a, a, new double[] {0}, new int[] {2, 2}, true));
        assertTrue(e.getMessage().contains("increasing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> r.select(a, a, new double[] {-1}, new int[] {1}, true));
        assertThrows(IllegalArgumentException.class, () -> r.select(a, a, new double[] {0}, new int[] {5}, true));
        assertThrows(IllegalArgumentException.class,
                () -> r.select(a, new NormalEquations(4, 1).snapshot(), new double[] {0}, new int[] {1}, true));
        assertThrows(IllegalArgumentException.class, () -> r.solve(a, 0, 0.0));
        assertThrows(IllegalArgumentException.class, () -> r.solve(a, 4, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> RidgeSolver.of(0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> RidgeSolver.of(1e12, -1));
    }
}
