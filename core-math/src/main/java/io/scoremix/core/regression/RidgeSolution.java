package io.scoremix.core.regression;

/**
 * The coefficients of one ridge solve and how they were obtained. Immutable; accessors return copies.
 *
 * <p>{@code beta} is q x d row-major for a feature prefix of length q and d outputs: the score model
 * predicts {@code y = beta^T phi} from the leading q features.
 */
public final class RidgeSolution {

    /** Which step of {@link RidgeSolver}'s fallback chain produced the coefficients. */
    public enum Path {
        /** Cholesky of {@code G + lambda (tr G / q) I} at the requested lambda. */
        CHOLESKY,
        /** Cholesky after raising the ridge (x10 steps up to the solver's cap). */
        CHOLESKY_MORE_RIDGE,
        /** Symmetric eigen-decomposition pseudo-inverse at the requested lambda. */
        EIGEN_PSEUDO_INVERSE,
        /** Every step failed (not expected for finite input); the coefficients are zero. */
        FAILED
    }

    private final int prefix;
    private final int outputs;
    private final double[] beta;
    private final double lambdaRequested;
    private final double lambdaUsed;
    private final double ridge;
    private final Path path;
    private final double condition;
    private final int rank;

    RidgeSolution(int prefix, int outputs, double[] beta, double lambdaRequested, double lambdaUsed, double ridge,
                  Path path, double condition, int rank) {
        this.prefix = prefix;
        this.outputs = outputs;
        this.beta = beta;
        this.lambdaRequested = lambdaRequested;
        this.lambdaUsed = lambdaUsed;
        this.ridge = ridge;
        this.path = path;
        this.condition = condition;
        this.rank = rank;
    }

    /** Number of leading features q the coefficients use. */
    public int prefix() {
        return prefix;
    }

    /** Number of outputs d. */
    public int outputs() {
        return outputs;
    }

    /** A copy of the coefficients, q x d row-major. */
    public double[] beta() {
        return beta.clone();
    }

    double[] betaView() {
        return beta;
    }

    /** Coefficient of feature i for output c. */
    public double beta(int i, int c) {
        return beta[i * outputs + c];
    }

    /** The relative ridge asked for. */
    public double lambdaRequested() {
        return lambdaRequested;
    }

    /** The relative ridge of the system actually solved (larger than requested on {@link Path#CHOLESKY_MORE_RIDGE}). */
    public double lambdaUsed() {
        return lambdaUsed;
    }

    /** The absolute ridge added to the diagonal, {@code lambdaUsed * tr(G_q) / q}. */
    public double ridge() {
        return ridge;
    }

    /** The step of the fallback chain that produced the coefficients. */
    public Path path() {
        return path;
    }

    /**
     * Condition number estimate of the (ridged) system solved: LAPACK dpocon's 1-norm estimate on the
     * Cholesky paths, the ratio of the largest to the smallest retained eigenvalue on the eigen path
     * (infinite when nothing was retained or on failure).
     */
    public double conditionEstimate() {
        return condition;
    }

    /** Numerical rank used: q on the Cholesky paths, the number of retained eigenvalues on the eigen path. */
    public int rank() {
        return rank;
    }

    @Override
    public String toString() {
        return "RidgeSolution[q=" + prefix + ", d=" + outputs + ", path=" + path + ", lambda=" + lambdaUsed
                + ", cond~" + condition + ", rank=" + rank + "]";
    }
}
