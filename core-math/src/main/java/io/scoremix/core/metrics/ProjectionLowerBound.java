package io.scoremix.core.metrics;

import java.util.Locale;

/**
 * A held-out lower bound on {@code TV(p, q)} from one 1-D projection: for the direction v and the set A
 * (a union of bins on the line) both chosen on the first half of the samples,
 * {@code TV(p, q) >= TV(v.p, v.q) >= q(A) - p(A)}, and {@code q(A) - p(A)} is estimated on the second
 * half only, so the estimate is unbiased for a quantity that is at most TV (no selection bias).
 * Immutable.
 *
 * <p>{@link #value()} is the signed held-out estimate (near 0 or negative when nothing differs);
 * {@link #standardError()} is the binomial {@code sqrt(q_hat(A)(1 - q_hat(A)) / n2)} (plus the same term for
 * the reference sample in the two-sample case); {@link #conservative()} is {@code max(0, value - z se)}.
 */
public final class ProjectionLowerBound {

    private final double[] direction;
    private final String directionLabel;
    private final int directionsTried;
    private final int bins;
    private final int binsInSet;
    private final double firstHalfGap;
    private final Estimate estimate;
    private final double z;

    ProjectionLowerBound(double[] direction, String directionLabel, int directionsTried, int bins, int binsInSet,
            double firstHalfGap, Estimate estimate, double z) {
        this.direction = direction.clone();
        this.directionLabel = directionLabel;
        this.directionsTried = directionsTried;
        this.bins = bins;
        this.binsInSet = binsInSet;
        this.firstHalfGap = firstHalfGap;
        this.estimate = estimate;
        this.z = z;
    }

    /** The chosen unit direction (a copy). */
    public double[] direction() {
        return direction.clone();
    }

    /** Where the direction came from: "mean difference i-j", "principal axis r" or "random r". */
    public String directionLabel() {
        return directionLabel;
    }

    /** The number of candidate directions scored on the first half. */
    public int directionsTried() {
        return directionsTried;
    }

    /** Bins per direction. */
    public int bins() {
        return bins;
    }

    /** The number of bins in the chosen set A. */
    public int binsInSet() {
        return binsInSet;
    }

    /** The chosen set's gap on the first half: optimistic (it selected the set), for information only. */
    public double firstHalfGap() {
        return firstHalfGap;
    }

    /** The held-out estimate of {@code q(A) - p(A)} with its standard error and the held-out sample size. */
    public Estimate estimate() {
        return estimate;
    }

    /** The held-out estimate of {@code q(A) - p(A)}. */
    public double value() {
        return estimate.value();
    }

    /** Its standard error. */
    public double standardError() {
        return estimate.standardError();
    }

    /** {@code max(0, value - z se)}: a lower bound on TV except with probability about 2.3 percent for z = 2. */
    public double conservative() {
        return Math.max(0.0, estimate.lower(z));
    }

    /** The z used by {@link #conservative()}. */
    public double z() {
        return z;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "ProjectionLowerBound[TV >= %.5f +- %.1e (conservative %.5f), direction %s, %d of %d bins,"
                        + " first-half gap %.5f, %d directions tried, n2 = %d]",
                value(), standardError(), conservative(), directionLabel, binsInSet, bins, firstHalfGap,
                directionsTried, estimate.samples());
    }
}
