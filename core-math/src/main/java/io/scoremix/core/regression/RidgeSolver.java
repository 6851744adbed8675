package io.scoremix.core.regression;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.lapack.LAPACK;
import io.scoremix.core.linalg.Blas;
import io.scoremix.core.linalg.PackedSymmetric;
import io.scoremix.core.linalg.SymmetricEigen;
import org.netlib.util.doubleW;
import org.netlib.util.intW;

import java.util.ArrayList;
import java.util.List;

/**
 * Ridge least squares from normal-equation moments (ALGORITHM.md section 4.6): solves
 * {@code (G_q + lambda (tr G_q / q) I) beta = B_q} on the leading q features, and chooses lambda and the
 * degree prefix by a validation loss computed from validation moments alone. Immutable, thread-safe.
 *
 * <p>Fallback chain (STYLE.md item 6), recorded in {@link RidgeSolution#path()}:
 * <ol>
 *   <li>Cholesky (LAPACK dpotrf) at the requested lambda, accepted when it succeeds and the dpocon
 *       condition estimate is at most {@code maxCondition};</li>
 *   <li>otherwise the relative ridge is raised, {@code max(10 lambda, 1e-10)} then x10 each step, while
 *       it stays at most {@code maxRidge}, with the same acceptance test;</li>
 *   <li>otherwise a symmetric eigen-decomposition of {@code G_q + lambda (tr G_q / q) I} and its
 *       pseudo-inverse: eigenvalues at most {@code q * eps * max|eigenvalue|} are dropped (the usual
 *       numerical-rank cut), so exactly collinear features share the coefficient of their sum.</li>
 * </ol>
 * The ridge is relative to the mean eigenvalue {@code tr G_q / q}, so lambda is scale-free. A zero G
 * (all features zero) goes straight to the eigen step and gives zero coefficients.
 *
 * <p>Validation loss from moments: for coefficients beta (q x d) and validation sums G, B, {@code sum w||y||^2},
 * W, {@code loss = (tr(beta^T G_q beta) - 2 tr(beta^T B_q) + sum w ||y||^2) / W}, which equals the mean
 * weighted squared error {@code sum w ||y - beta^T phi||^2 / W} on the validation rows without a second
 * pass. The difference of large terms can cancel: the absolute rounding is about
 * {@code eps * (tr(beta^T G beta) + sum w||y||^2) / W}, and a loss may come out a few ulps below zero for
 * a perfect fit.
 */
public final class RidgeSolver {

    /** Default largest accepted condition estimate of a Cholesky solve. */
    public static final double DEFAULT_MAX_CONDITION = 1e12;
    /** Default cap on the raised relative ridge. */
    public static final double DEFAULT_MAX_RIDGE = 1e-2;
    /** First relative ridge tried when the requested one is 0. */
    public static final double FIRST_EXTRA_RIDGE = 1e-10;

    private static final double EPS = Math.ulp(1.0);
    private static final RidgeSolver DEFAULTS = new RidgeSolver(DEFAULT_MAX_CONDITION, DEFAULT_MAX_RIDGE);

    private final double maxCondition;
    private final double maxRidge;

    private RidgeSolver(double maxCondition, double maxRidge) {
        this.maxCondition = maxCondition;
        this.maxRidge = maxRidge;
    }

    /** The solver with {@link #DEFAULT_MAX_CONDITION} and {@link #DEFAULT_MAX_RIDGE}. */
    public static RidgeSolver defaults() {
        return DEFAULTS;
    }

    /**
     * A solver with its own acceptance threshold and ridge cap.
     *
     * @param maxCondition largest accepted condition estimate, at least 1 (may be infinite: accept any
     *                     successful Cholesky)
     * @param maxRidge     cap on the raised relative ridge, finite and non-negative (0: never raise)
     */
    public static RidgeSolver of(double maxCondition, double maxRidge) {
        if (!(maxCondition >= 1)) {
            throw new IllegalArgumentException("maxCondition must be at least 1, got " + maxCondition);
        }
        if (!(maxRidge >= 0) || !Double.isFinite(maxRidge)) {
            throw new IllegalArgumentException("maxRidge must be finite and non-negative, got " + maxRidge);
        }
        return new RidgeSolver(maxCondition, maxRidge);
    }

    /** Largest accepted condition estimate. */
    public double maxCondition() {
        return maxCondition;
    }

    /** Cap on the raised relative ridge. */
    public double maxRidge() {
        return maxRidge;
    }

    /**
     * Solves the ridge system on the leading q features.
     *
     * @param train  training sums
     * @param q      feature prefix length in 1..p
     * @param lambda relative ridge, finite and non-negative
     */
    public RidgeSolution solve(NormalEquations.Snapshot train, int q, double lambda) {
        train.checkPrefix(q);
        checkLambda(lambda);
        int d = train.outputs();
        double[] ap = train.packedView();
        double[] g = new double[q * q];
        PackedSymmetric.unpack(ap, q, g);
        double scale = PackedSymmetric.trace(ap, q) / q;
        // B_q row-major q x d -> column-major q x d right-hand sides for LAPACK.
        double[] bq = train.rhsView();
        LAPACK lapack = LAPACK.getInstance();
        if (scale > 0) {
            double[] a = new double[q * q];
            double[] x = new double[q * d];
            double[] work = new double[3 * q];
            int[] iwork = new int[q];
            intW info = new intW(0);
            doubleW rcond = new doubleW(0);
            double r = lambda;
            while (true) {
                System.arraycopy(g, 0, a, 0, q * q);
                double ridge = r * scale;
                for (int i = 0; i < q; i++) {
                    a[i * q + i] += ridge;
                }
                double anorm = lapack.dlansy("1", "L", q, a, q, work);
                lapack.dpotrf("L", q, a, q, info);
                if (info.val == 0) {
                    lapack.dpocon("L", q, a, q, anorm, rcond, work, iwork, info);
                    double cond = rcond.val > 0 ? 1.0 / rcond.val : Double.POSITIVE_INFINITY;
                    if (info.val == 0 && cond <= maxCondition) {
                        transposeInto(bq, q, d, x);
                        lapack.dpotrs("L", q, d, a, q, x, q, info);
                        if (info.val == 0) {
                            double[] beta = new double[q * d];
                            transposeInto(x, d, q, beta);
                            return new RidgeSolution(q, d, beta, lambda, r, ridge,
                                    r == lambda ? RidgeSolution.Path.CHOLESKY : RidgeSolution.Path.CHOLESKY_MORE_RIDGE,
                                    cond, q);
                        }
                    }
                }
                double next = Math.max(10 * r, FIRST_EXTRA_RIDGE);
                if (next > maxRidge) {
                    break;
                }
                r = next;
            }
        }
        return eigenSolve(g, bq, q, d, lambda, scale);
    }

    private static RidgeSolution eigenSolve(double[] g, double[] bq, int q, int d, double lambda, double scale) {
        double ridge = scale > 0 ? lambda * scale : 0.0;
        for (int i = 0; i < q; i++) {
            g[i * q + i] += ridge;
        }
        double[] ev = new double[q];
        double[] vt = new double[q * q];
        int info = SymmetricEigen.decompose(g, q, ev, vt);
        if (info != SymmetricEigen.OK) {
            return new RidgeSolution(q, d, new double[q * d], lambda, lambda, ridge, RidgeSolution.Path.FAILED,
                    Double.POSITIVE_INFINITY, 0);
        }
        double max = 0;
        for (double v : ev) {
            max = Math.max(max, Math.abs(v));
        }
        double tol = q * EPS * max;
        // beta = V diag(1/ev) V^T B over retained eigenvalues; vt holds eigenvectors as rows (q x q).
        // proj = Vt B (q x d): row k is v_k^T B, scaled by 1/ev_k, then beta = Vt^T proj.
        BLAS blas = Blas.get();
        double[] proj = new double[q * d];
        // Column-major views: B^T is d x q, Vt row-major is column-major V (q x q); proj^T = B^T V.
        blas.dgemm("N", "N", d, q, q, 1.0, bq, 0, d, vt, 0, q, 0.0, proj, 0, d);
        int rank = 0;
        double minKept = Double.POSITIVE_INFINITY;
        for (int k = 0; k < q; k++) {
            double f;
            if (ev[k] > tol) {
                f = 1.0 / ev[k];
                rank++;
                minKept = Math.min(minKept, ev[k]);
            } else {
                f = 0.0;
            }
            int o = k * d;
            for (int c = 0; c < d; c++) {
                proj[o + c] *= f;
            }
        }
        double[] beta = new double[q * d];
        // beta^T (d x q column-major) = proj^T (d x q) * Vt (q x q column-major == V^T).
        blas.dgemm("N", "T", d, q, q, 1.0, proj, 0, d, vt, 0, q, 0.0, beta, 0, d);
        double cond = rank > 0 ? max / minKept : Double.POSITIVE_INFINITY;
        return new RidgeSolution(q, d, beta, lambda, lambda, ridge, RidgeSolution.Path.EIGEN_PSEUDO_INVERSE, cond, rank);
    }

    /** Transposes a rows x cols row-major matrix into cols x rows row-major. */
    private static void transposeInto(double[] src, int rows, int cols, double[] dst) {
        for (int i = 0; i < rows; i++) {
            int ri = i * cols;
            for (int j = 0; j < cols; j++) {
                dst[j * rows + i] = src[ri + j];
            }
        }
    }

    /**
     * The validation loss of coefficients on the leading q features, from validation moments alone:
     * {@code (tr(beta^T G_q beta) - 2 tr(beta^T B_q) + sum w ||y||^2) / W}.
     *
     * @param beta q x d row-major; not modified
     * @throws IllegalArgumentException if the validation weight is not positive or shapes disagree
     */
    public static double validationLoss(NormalEquations.Snapshot validation, int q, double[] beta) {
        validation.checkPrefix(q);
        int d = validation.outputs();
        if (beta.length != q * d) {
            throw new IllegalArgumentException("beta must be q x d = " + q + " x " + d + ", got length " + beta.length);
        }
        if (!(validation.weight() > 0)) {
            throw new IllegalArgumentException("validation moments have no weight: the loss is undefined");
        }
        double[] g = new double[q * q];
        PackedSymmetric.unpack(validation.packedView(), q, g);
        return loss(g, validation, q, d, beta, new double[q * d]);
    }

    /** Loss with G_q already unpacked (q x q); gb is q x d scratch, modified. */
    private static double loss(double[] g, NormalEquations.Snapshot val, int q, int d, double[] beta, double[] gb) {
        // gb = G beta: row-major q x d == column-major d x q; gb^T = beta^T G (G symmetric).
        Blas.get().dgemm("N", "N", d, q, q, 1.0, beta, 0, d, g, 0, q, 0.0, gb, 0, d);
        double[] bv = val.rhsView();
        double quad = 0;
        double cross = 0;
        for (int i = 0; i < q * d; i++) {
            quad += beta[i] * gb[i];
            cross += beta[i] * bv[i];
        }
        return (quad - 2 * cross + val.sumSquaredTargets()) / val.weight();
    }

    /**
     * Chooses lambda and the degree prefix on validation moments. Every (prefix, lambda) pair is solved
     * on the training sums and scored on the validation sums; ties go to the earlier candidate (smaller
     * prefix, earlier lambda in the grid). In residual mode the zero coefficient is a candidate with loss
     * {@code sum w ||y_val||^2 / W_val}, and it wins ties: a fit must strictly beat the plug-in.
     *
     * @param train        training sums
     * @param validation   validation sums of the same shape, with positive weight
     * @param lambdas      relative ridges, non-empty, each finite and non-negative
     * @param prefixes     prefix lengths, strictly increasing, within 1..p
     * @param residualMode whether coefficient 0 is a candidate
     * @throws IllegalArgumentException naming the bad argument
     */
    public RidgeSelection select(NormalEquations.Snapshot train, NormalEquations.Snapshot validation, double[] lambdas,
                                 int[] prefixes, boolean residualMode) {
        if (train.features() != validation.features() || train.outputs() != validation.outputs()) {
            throw new IllegalArgumentException("training sums have p = " + train.features() + ", d = " + train.outputs()
                    + " but validation sums have p = " + validation.features() + ", d = " + validation.outputs());
        }
        if (!(validation.weight() > 0)) {
            throw new IllegalArgumentException("validation moments have no weight: nothing to select on");
        }
        if (lambdas == null || lambdas.length == 0) {
            throw new IllegalArgumentException("the lambda grid is empty");
        }
        for (double l : lambdas) {
            checkLambda(l);
        }
        if (prefixes == null || prefixes.length == 0) {
            throw new IllegalArgumentException("the list of degree prefixes is empty");
        }
        for (int i = 0; i < prefixes.length; i++) {
            train.checkPrefix(prefixes[i]);
            if (i > 0 && prefixes[i] <= prefixes[i - 1]) {
                throw new IllegalArgumentException("prefixes must be strictly increasing, got " + prefixes[i - 1]
                        + " then " + prefixes[i]);
            }
        }
        int d = train.outputs();
        List<RidgeSelection.Candidate> all = new ArrayList<>();
        RidgeSolution best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (int q : prefixes) {
            double[] gv = new double[q * q];
            PackedSymmetric.unpack(validation.packedView(), q, gv);
            double[] gb = new double[q * d];
            for (double lambda : lambdas) {
                RidgeSolution s = solve(train, q, lambda);
                double l = loss(gv, validation, q, d, s.betaView(), gb);
                all.add(new RidgeSelection.Candidate(q, lambda, l, s.path(), s.lambdaUsed()));
                if (l < bestLoss || best == null) {
                    best = s;
                    bestLoss = l;
                }
            }
        }
        double zeroLoss = Double.NaN;
        boolean zeroWon = false;
        if (residualMode) {
            zeroLoss = validation.sumSquaredTargets() / validation.weight();
            if (!(bestLoss < zeroLoss)) {
                zeroWon = true;
            }
        }
        return new RidgeSelection(all, zeroLoss, zeroWon, best, zeroWon ? zeroLoss : bestLoss);
    }

    private static void checkLambda(double lambda) {
        if (!(lambda >= 0) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("lambda must be finite and non-negative, got " + lambda);
        }
    }
}
