package io.scoremix.core.mixture;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Immutable, validated settings of the crude mixture fit (ALGORITHM.md section 4.2): the number of
 * components, EM's stopping rule and eigenvalue floor, and which initialisations to try in which
 * coordinates, how often, with which held-out fraction and seed. Built with {@link #builder(int)}; every
 * setter rejects a bad value at once, with a message naming it.
 */
public final class CrudeMixtureConfig {

    /** How EM's starting mixture is found; each ends in a hard assignment whose counts, means and covariances start EM. */
    public enum Initialisation {
        /** Greedy k-means++ (D^2) seeding alone, then nearest-centre assignment. */
        KMEANS_PP_SEEDING,
        /** Lloyd's k-means to convergence from k-means++ seeds. */
        KMEANS,
        /**
         * The paper's (CKS Algorithm 2, practical reading): k-means in a top spectral subspace, points
         * assigned by their projections (CKS eq. 9). See {@link CrudeMixture} for the subspace used in each
         * coordinate system.
         */
        PAPER_SUBSPACE
    }

    /** The coordinates in which an initialisation measures distances. */
    public enum Coordinates {
        /** {@code z = C^{-1/2}(x - m)} with m, C the data's mean and covariance. */
        WHITENED,
        /** The input's own coordinates and scale. */
        RAW
    }

    public static final int DEFAULT_MAX_ITERATIONS = 500;
    public static final double DEFAULT_TOLERANCE = 1e-6;
    public static final double DEFAULT_REG = 1e-6;
    public static final int DEFAULT_RESTARTS = 2;
    public static final double DEFAULT_HELD_OUT_FRACTION = 0.1;
    /** Held-out fractions above this leave too little to train on. */
    public static final double MAX_HELD_OUT_FRACTION = 0.5;

    private final int k;
    private final int maxIterations;
    private final double tolerance;
    private final double reg;
    private final int restarts;
    private final Set<Initialisation> initialisations;
    private final Set<Coordinates> coordinates;
    private final double heldOutFraction;
    private final long seed;

    private CrudeMixtureConfig(Builder b) {
        this.k = b.k;
        this.maxIterations = b.maxIterations;
        this.tolerance = b.tolerance;
        this.reg = b.reg;
        this.restarts = b.restarts;
        this.initialisations = Collections.unmodifiableSet(EnumSet.copyOf(b.initialisations));
        this.coordinates = Collections.unmodifiableSet(EnumSet.copyOf(b.coordinates));
        this.heldOutFraction = b.heldOutFraction;
        this.seed = b.seed;
    }

    /**
     * A builder for k components with the defaults: {@value #DEFAULT_MAX_ITERATIONS} iterations,
     * tolerance {@value #DEFAULT_TOLERANCE}, reg {@value #DEFAULT_REG}, {@value #DEFAULT_RESTARTS}
     * restarts, every initialisation in both coordinate systems, held-out fraction
     * {@value #DEFAULT_HELD_OUT_FRACTION}, seed 0.
     *
     * @throws IllegalArgumentException if k is less than 1
     */
    public static Builder builder(int k) {
        return new Builder().k(k);
    }

    /** The defaults for k components. */
    public static CrudeMixtureConfig of(int k) {
        return builder(k).build();
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        return new Builder().k(k).maxIterations(maxIterations).tolerance(tolerance).reg(reg).restarts(restarts)
                .initialisations(initialisations).coordinates(coordinates).heldOutFraction(heldOutFraction).seed(seed);
    }

    /** The number of mixture components. */
    public int k() {
        return k;
    }

    /** EM iterations at most, per candidate. */
    public int maxIterations() {
        return maxIterations;
    }

    /** EM stops when the mean log-likelihood per row changes by at most this (nats). */
    public double tolerance() {
        return tolerance;
    }

    /**
     * The eigenvalue floor of every covariance, in whitened units: in the input's coordinates a
     * covariance Q satisfies {@code C^{-1/2} Q C^{-1/2} >= reg I}, C the data covariance.
     */
    public double reg() {
        return reg;
    }

    /** Restarts (different seeds) per initialisation and coordinate system. */
    public int restarts() {
        return restarts;
    }

    /** The initialisations tried (unmodifiable). */
    public Set<Initialisation> initialisations() {
        return initialisations;
    }

    /** The coordinate systems each initialisation is tried in (unmodifiable). */
    public Set<Coordinates> coordinates() {
        return coordinates;
    }

    /** The fraction of rows held out to choose among candidates; 0 chooses on the training log-likelihood. */
    public double heldOutFraction() {
        return heldOutFraction;
    }

    /** The seed of every random choice (held-out split, seeding). */
    public long seed() {
        return seed;
    }

    /** The number of EM candidates: initialisations x coordinates x restarts. */
    public int candidates() {
        return initialisations.size() * coordinates.size() * restarts;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof CrudeMixtureConfig)) {
            return false;
        }
        CrudeMixtureConfig c = (CrudeMixtureConfig) o;
        return k == c.k && maxIterations == c.maxIterations && Double.compare(tolerance, c.tolerance) == 0
                && Double.compare(reg, c.reg) == 0 && restarts == c.restarts
                && initialisations.equals(c.initialisations) && coordinates.equals(c.coordinates)
                && Double.compare(heldOutFraction, c.heldOutFraction) == 0 && seed == c.seed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(k, maxIterations, tolerance, reg, restarts, initialisations, coordinates, heldOutFraction, seed);
    }

    @Override
    public String toString() {
        return "CrudeMixtureConfig[k=" + k + ", maxIterations=" + maxIterations + ", tolerance=" + tolerance
                + ", reg=" + reg + ", restarts=" + restarts + ", initialisations=" + initialisations
                + ", coordinates=" + coordinates + ", heldOutFraction=" + heldOutFraction + ", seed=" + seed + "]";
    }

    /** Mutable builder of {@link CrudeMixtureConfig}; each setter validates its argument. */
    public static final class Builder {
        private int k = 1;
        private int maxIterations = DEFAULT_MAX_ITERATIONS;
        private double tolerance = DEFAULT_TOLERANCE;
        private double reg = DEFAULT_REG;
        private int restarts = DEFAULT_RESTARTS;
        private Set<Initialisation> initialisations = EnumSet.allOf(Initialisation.class);
        private Set<Coordinates> coordinates = EnumSet.allOf(Coordinates.class);
        private double heldOutFraction = DEFAULT_HELD_OUT_FRACTION;
        private long seed;

        private Builder() {
        }

        /** @throws IllegalArgumentException if k is less than 1 */
        public Builder k(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("k (number of components) must be at least 1, got " + k);
            }
            this.k = k;
            return this;
        }

        /** @throws IllegalArgumentException if less than 1 */
        public Builder maxIterations(int maxIterations) {
            if (maxIterations < 1) {
                throw new IllegalArgumentException("maxIterations must be at least 1, got " + maxIterations);
            }
            this.maxIterations = maxIterations;
            return this;
        }

        /** @throws IllegalArgumentException if negative or not finite */
        public Builder tolerance(double tolerance) {
            if (!(tolerance >= 0) || !Double.isFinite(tolerance)) {
                throw new IllegalArgumentException("tolerance must be finite and non-negative, got " + tolerance);
            }
            this.tolerance = tolerance;
            return this;
        }

        /** @throws IllegalArgumentException if not finite and positive */
        public Builder reg(double reg) {
            if (!(reg > 0) || !Double.isFinite(reg)) {
                throw new IllegalArgumentException("reg (eigenvalue floor) must be finite and positive, got " + reg);
            }
            this.reg = reg;
            return this;
        }

        /** @throws IllegalArgumentException if less than 1 */
        public Builder restarts(int restarts) {
            if (restarts < 1) {
                throw new IllegalArgumentException("restarts must be at least 1, got " + restarts);
            }
            this.restarts = restarts;
            return this;
        }

        /** @throws IllegalArgumentException if empty or holding null (the set is copied) */
        public Builder initialisations(Collection<Initialisation> initialisations) {
            this.initialisations = copy(initialisations, Initialisation.class, "initialisations");
            return this;
        }

        /** Varargs form of {@link #initialisations(Collection)}. */
        public Builder initialisations(Initialisation... initialisations) {
            return initialisations(java.util.Arrays.asList(initialisations));
        }

        /** @throws IllegalArgumentException if empty or holding null (the set is copied) */
        public Builder coordinates(Collection<Coordinates> coordinates) {
            this.coordinates = copy(coordinates, Coordinates.class, "coordinates");
            return this;
        }

        /** Varargs form of {@link #coordinates(Collection)}. */
        public Builder coordinates(Coordinates... coordinates) {
            return coordinates(java.util.Arrays.asList(coordinates));
        }

        /** @throws IllegalArgumentException unless in [0, {@value #MAX_HELD_OUT_FRACTION}] */
        public Builder heldOutFraction(double heldOutFraction) {
            if (!(heldOutFraction >= 0 && heldOutFraction <= MAX_HELD_OUT_FRACTION)) {
                throw new IllegalArgumentException("heldOutFraction must be in [0, " + MAX_HELD_OUT_FRACTION + "], got "
                        + heldOutFraction);
            }
            this.heldOutFraction = heldOutFraction;
            return this;
        }

        /** Any value. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The configuration. */
        public CrudeMixtureConfig build() {
            return new CrudeMixtureConfig(this);
        }

        private static <E extends Enum<E>> Set<E> copy(Collection<E> values, Class<E> type, String name) {
            if (values == null || values.isEmpty()) {
                throw new IllegalArgumentException(name + " must name at least one value of " + type.getSimpleName()
                        + ", got " + values);
            }
            EnumSet<E> set = EnumSet.noneOf(type);
            for (E e : values) {
                if (e == null) {
                    throw new IllegalArgumentException(name + " must not contain null, got " + values);
                }
                set.add(e);
            }
            return set;
        }
    }
}
