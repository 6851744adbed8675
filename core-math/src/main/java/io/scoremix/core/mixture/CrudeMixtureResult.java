package io.scoremix.core.mixture;

import java.util.List;

/**
 * The outcome of {@link CrudeMixture#fit}: the chosen mixture in the input's coordinates, and the record
 * of every EM candidate that was tried (its initialisation, coordinates, restart, iterations and held-out
 * mean log-likelihood), with the winner marked. Immutable.
 */
public final class CrudeMixtureResult {

    /**
     * One EM candidate.
     *
     * @param initialisation        how EM was started
     * @param coordinates           where the initialisation measured distances
     * @param restart               restart index, 0-based
     * @param iterations            EM iterations run (0 if the initialisation failed)
     * @param converged             whether the tolerance was met within the iteration budget
     * @param trainMeanLogLik       mean log-likelihood per row on the training rows, input coordinates
     *                              (NaN if failed)
     * @param heldOutMeanLogLik     the same on the held-out rows: the selection criterion (NaN if failed or
     *                              nothing was held out)
     * @param seconds               wall time of initialisation plus EM
     * @param sameStartAs           the index of an earlier candidate whose initialisation gave exactly the
     *                              same starting partition, so EM was not run again and its outcome is
     *                              repeated here; -1 otherwise
     * @param failure               why the candidate failed, or null
     */
    public record Candidate(CrudeMixtureConfig.Initialisation initialisation, CrudeMixtureConfig.Coordinates coordinates,
                            int restart, int iterations, boolean converged, double trainMeanLogLik,
                            double heldOutMeanLogLik, double seconds, int sameStartAs, String failure) {

        /** True unless the candidate failed. */
        public boolean succeeded() {
            return failure == null;
        }

        @Override
        public String toString() {
            if (failure != null) {
                return initialisation + "/" + coordinates + "#" + restart + " failed: " + failure;
            }
            return String.format("%s/%s#%d: %d iterations%s, train %.6f, held-out %.6f, %.2f s%s", initialisation,
                    coordinates, restart, iterations, converged ? "" : " (not converged)", trainMeanLogLik,
                    heldOutMeanLogLik, seconds, sameStartAs >= 0 ? " (same start as candidate " + sameStartAs + ")" : "");
        }
    }

    private final GaussianMixture mixture;
    private final List<Candidate> candidates;
    private final int winner;
    private final int finalIterations;
    private final double meanLogLik;
    private final int trainingRows;
    private final int heldOutRows;
    private final double seconds;

    CrudeMixtureResult(GaussianMixture mixture, List<Candidate> candidates, int winner, int finalIterations,
                       double meanLogLik, int trainingRows, int heldOutRows, double seconds) {
        this.mixture = mixture;
        this.candidates = List.copyOf(candidates);
        this.winner = winner;
        this.finalIterations = finalIterations;
        this.meanLogLik = meanLogLik;
        this.trainingRows = trainingRows;
        this.heldOutRows = heldOutRows;
        this.seconds = seconds;
    }

    /** The fitted mixture, in the input's coordinates. */
    public GaussianMixture mixture() {
        return mixture;
    }

    /** Every candidate, in the order tried (initialisation, then coordinates, then restart). */
    public List<Candidate> candidates() {
        return candidates;
    }

    /** The index of the chosen candidate in {@link #candidates()}. */
    public int winnerIndex() {
        return winner;
    }

    /** The chosen candidate. */
    public Candidate winner() {
        return candidates.get(winner);
    }

    /** EM iterations of the final refinement on all rows, started from the winner. */
    public int finalIterations() {
        return finalIterations;
    }

    /** The mean log-likelihood per row of all rows under {@link #mixture()}. */
    public double meanLogLikelihood() {
        return meanLogLik;
    }

    /** Rows used to train the candidates. */
    public int trainingRows() {
        return trainingRows;
    }

    /** Rows held out to choose among them. */
    public int heldOutRows() {
        return heldOutRows;
    }

    /**
     * This result with the mixture replaced by a refinement of it (for example EM iterations over more
     * rows than the fit saw, as the Spark job runs them): the candidates and the winner stay, the final
     * iterations, mean log-likelihood and seconds are added to this result's.
     *
     * @param refined         the refined mixture, in the input's coordinates
     * @param iterations      EM iterations of the refinement
     * @param meanLogLik      the mean log-likelihood per row under {@code refined}, input coordinates, of
     *                        the rows the refinement used
     * @param seconds         wall time of the refinement
     */
    public CrudeMixtureResult refined(GaussianMixture refined, int iterations, double meanLogLik, double seconds) {
        if (refined.dimension() != mixture.dimension() || refined.components() != mixture.components()) {
            throw new IllegalArgumentException("the refined mixture has " + refined.components() + " components in "
                    + refined.dimension() + " dimensions, this one " + mixture.components() + " in "
                    + mixture.dimension());
        }
        return new CrudeMixtureResult(refined, candidates, winner, finalIterations + iterations, meanLogLik,
                trainingRows, heldOutRows, this.seconds + seconds);
    }

    /** Wall time of the whole fit. */
    public double seconds() {
        return seconds;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("CrudeMixtureResult[").append(mixture).append(", winner ")
                .append(winner()).append(", ").append(String.format("%.2f s", seconds)).append("]");
        for (Candidate c : candidates) {
            sb.append("\n  ").append(c == winner() ? "* " : "  ").append(c);
        }
        return sb.toString();
    }
}
