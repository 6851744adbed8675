package io.scoremix.core.mixture;

import io.scoremix.core.random.CounterRandom;

import java.util.Arrays;

/**
 * Weighted k-means on flat row-major points: k-means++ seeding and Lloyd's iterations, the
 * initialisations of the crude mixture (ALGORITHM.md section 4.2).
 *
 * <p>Implementation notes. Seeding is D^2 sampling (Arthur and Vassilvitskii, "k-means++: the
 * advantages of careful seeding", SODA 2007) in its greedy form: each new centre is the best, by the
 * resulting potential {@code sum_j w_j min_c ||y_j - c||^2}, of {@code 2 + floor(ln k)} D^2-sampled
 * candidates (the variant the same paper's experiments use). Every uniform comes from the counter-based
 * generator at (stream, counter = centre * trials + trial), so a seeding is a pure function of the seed.
 * Lloyd's iterations stop when no label changes; an emptied cluster takes the point with the largest
 * weighted squared distance to its centre. Distances are direct sums of squared differences (no
 * {@code ||y||^2 - 2 y.c + ||c||^2} cancellation).
 */
final class KMeans {

    /** Lloyd iterations at most, whatever happens. */
    static final int MAX_LLOYD_ITERATIONS = 300;

    private KMeans() {
    }

    /**
     * Greedy k-means++ centres.
     *
     * @param y       n x p points, row-major; not modified
     * @param w       n non-negative weights with a positive sum, or null for all ones; not modified
     * @param centres receives k x p centres, row-major; modified
     * @throws IllegalArgumentException if the points with positive weight have fewer than k distinct values
     */
    static void seed(double[] y, double[] w, int n, int p, int k, CounterRandom rng, long stream, double[] centres) {
        int trials = 2 + (int) Math.floor(Math.log(k));
        double[] d2 = new double[n];
        double[] cand = new double[n];
        double[] best = new double[n];
        // First centre: weighted uniform over the rows.
        Arrays.fill(d2, 1.0);
        int first = sample(d2, w, n, total(d2, w, n) * rng.uniform(stream, 0));
        System.arraycopy(y, first * p, centres, 0, p);
        distances(y, n, p, centres, 0, d2);
        for (int c = 1; c < k; c++) {
            double potential = total(d2, w, n);
            if (!(potential > 0)) {
                throw new IllegalArgumentException("k = " + k + " exceeds the number of distinct rows with positive weight ("
                        + c + "): a mixture of k distinct components cannot be initialised");
            }
            double bestPotential = Double.POSITIVE_INFINITY;
            int bestRow = -1;
            for (int t = 0; t < trials; t++) {
                double u = rng.uniform(stream, (long) c * trials + t);
                int row = sample(d2, w, n, potential * u);
                System.arraycopy(y, row * p, centres, c * p, p);
                distances(y, n, p, centres, c * p, cand);
                double candPotential = 0;
                for (int j = 0; j < n; j++) {
                    double m = Math.min(d2[j], cand[j]);
                    cand[j] = m;
                    candPotential += w == null ? m : w[j] * m;
                }
                if (candPotential < bestPotential) {
                    bestPotential = candPotential;
                    bestRow = row;
                    System.arraycopy(cand, 0, best, 0, n);
                }
            }
            System.arraycopy(y, bestRow * p, centres, c * p, p);
            System.arraycopy(best, 0, d2, 0, n);
        }
    }

    /**
     * Nearest-centre labels.
     *
     * @param labels receives n labels in [0, k); modified
     * @param d2     receives each point's squared distance to its centre; modified
     * @return the weighted potential {@code sum_j w_j d2_j}
     */
    static double assign(double[] y, double[] w, int n, int p, double[] centres, int k, int[] labels, double[] d2) {
        double potential = 0;
        for (int j = 0; j < n; j++) {
            int yr = j * p;
            double bestD = Double.POSITIVE_INFINITY;
            int bestC = 0;
            for (int c = 0; c < k; c++) {
                int co = c * p;
                double s = 0;
                for (int r = 0; r < p; r++) {
                    double e = y[yr + r] - centres[co + r];
                    s += e * e;
                }
                if (s < bestD) {
                    bestD = s;
                    bestC = c;
                }
            }
            labels[j] = bestC;
            d2[j] = bestD;
            potential += w == null ? bestD : w[j] * bestD;
        }
        return potential;
    }

    /**
     * Lloyd's iterations from the given centres until no label changes (or {@link #MAX_LLOYD_ITERATIONS}).
     *
     * @param centres k x p starting centres; replaced by the final centres
     * @param labels  receives the final n labels; modified
     * @return the number of iterations run
     */
    static int lloyd(double[] y, double[] w, int n, int p, double[] centres, int k, int[] labels) {
        double[] d2 = new double[n];
        double[] sums = new double[k * p];
        double[] mass = new double[k];
        int[] previous = new int[n];
        assign(y, w, n, p, centres, k, labels, d2);
        int it = 0;
        while (it < MAX_LLOYD_ITERATIONS) {
            it++;
            Arrays.fill(sums, 0.0);
            Arrays.fill(mass, 0.0);
            for (int j = 0; j < n; j++) {
                double wj = w == null ? 1.0 : w[j];
                if (wj == 0) {
                    continue;
                }
                int c = labels[j];
                mass[c] += wj;
                int yr = j * p;
                int co = c * p;
                for (int r = 0; r < p; r++) {
                    sums[co + r] += wj * y[yr + r];
                }
            }
            for (int c = 0; c < k; c++) {
                int co = c * p;
                if (mass[c] > 0) {
                    double inv = 1.0 / mass[c];
                    for (int r = 0; r < p; r++) {
                        centres[co + r] = sums[co + r] * inv;
                    }
                } else {
                    // Emptied cluster: restart it at the worst-served point, which then leaves its old cluster.
                    int far = 0;
                    double farD = -1;
                    for (int j = 0; j < n; j++) {
                        double v = w == null ? d2[j] : w[j] * d2[j];
                        if (v > farD) {
                            farD = v;
                            far = j;
                        }
                    }
                    System.arraycopy(y, far * p, centres, co, p);
                    d2[far] = 0;
                }
            }
            System.arraycopy(labels, 0, previous, 0, n);
            assign(y, w, n, p, centres, k, labels, d2);
            if (Arrays.equals(labels, previous)) {
                break;
            }
        }
        return it;
    }

    // Squared distances of all points to the centre at centres[co ..].
    private static void distances(double[] y, int n, int p, double[] centres, int co, double[] out) {
        for (int j = 0; j < n; j++) {
            int yr = j * p;
            double s = 0;
            for (int r = 0; r < p; r++) {
                double e = y[yr + r] - centres[co + r];
                s += e * e;
            }
            out[j] = s;
        }
    }

    private static double total(double[] v, double[] w, int n) {
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += w == null ? v[j] : w[j] * v[j];
        }
        return s;
    }

    // The first row whose cumulative weighted value reaches target (> 0); rounding falls back to the
    // last row with positive mass.
    private static int sample(double[] v, double[] w, int n, double target) {
        double acc = 0;
        int last = -1;
        for (int j = 0; j < n; j++) {
            double m = w == null ? v[j] : w[j] * v[j];
            if (m > 0) {
                acc += m;
                last = j;
                if (acc >= target) {
                    return j;
                }
            }
        }
        if (last < 0) {
            throw new IllegalArgumentException("no row has positive weight");
        }
        return last;
    }
}
