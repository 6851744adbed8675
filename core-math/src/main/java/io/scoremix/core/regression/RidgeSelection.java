package io.scoremix.core.regression;

import java.util.List;

/**
 * The outcome of choosing a ridge lambda and a degree prefix on validation moments
 * ({@link RidgeSolver#select}): every candidate's validation loss for reporting, and the winner, which
 * may be the zero coefficient in residual mode. Immutable.
 */
public final class RidgeSelection {

    /**
     * One fitted candidate: its prefix length, requested lambda, validation loss (mean squared error per
     * unit validation weight, from moments) and the solver path that produced it.
     */
    public record Candidate(int prefix, double lambda, double loss, RidgeSolution.Path path, double lambdaUsed) {
    }

    private final List<Candidate> candidates;
    private final double zeroLoss;
    private final boolean zeroWon;
    private final RidgeSolution best;
    private final double bestLoss;

    RidgeSelection(List<Candidate> candidates, double zeroLoss, boolean zeroWon, RidgeSolution best, double bestLoss) {
        this.candidates = List.copyOf(candidates);
        this.zeroLoss = zeroLoss;
        this.zeroWon = zeroWon;
        this.best = best;
        this.bestLoss = bestLoss;
    }

    /** Every fitted candidate in evaluation order (prefixes ascending, lambdas in grid order). */
    public List<Candidate> candidates() {
        return candidates;
    }

    /** Validation loss of the zero coefficient ({@code sum w ||y||^2 / W}), or NaN if it was not a candidate. */
    public double zeroLoss() {
        return zeroLoss;
    }

    /** Whether the zero coefficient won (only possible when it was a candidate). */
    public boolean zeroWon() {
        return zeroWon;
    }

    /** Validation loss of the winner (the zero loss when zero won). */
    public double bestLoss() {
        return bestLoss;
    }

    /** The best fitted solution, whether or not zero beat it. */
    public RidgeSolution bestFit() {
        return best;
    }

    /** The winning prefix length, 0 when zero won. */
    public int prefix() {
        return zeroWon ? 0 : best.prefix();
    }

    /** The winning requested lambda, NaN when zero won. */
    public double lambda() {
        return zeroWon ? Double.NaN : best.lambdaRequested();
    }

    /** A copy of the winning coefficients (q x d row-major), an empty array when zero won. */
    public double[] coefficients() {
        return zeroWon ? new double[0] : best.beta();
    }

    @Override
    public String toString() {
        return "RidgeSelection[" + (zeroWon ? "zero" : "prefix=" + best.prefix() + ", lambda=" + best.lambdaRequested())
                + ", loss=" + bestLoss + ", zeroLoss=" + zeroLoss + ", candidates=" + candidates.size() + "]";
    }
}
