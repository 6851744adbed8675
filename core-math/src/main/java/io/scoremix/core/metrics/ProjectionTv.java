package io.scoremix.core.metrics;

import dev.ludovic.netlib.lapack.LAPACK;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.netlib.util.intW;

/**
 * TV lower bounds from 1-D projections (ALGORITHM.md section 7, "lower bounds for a sampler").
 *
 * <p>Implementation notes. For any unit v and any set A on the line, {@code TV(p, q) >= q(v.x in A) -
 * p(v.x in A)}. Samples are split by index parity (even: first half, odd: second half), which keeps both
 * halves alike even if the input is ordered. On the first half only, every candidate direction gets B
 * bins of equal reference mass (under the projected mixture: means {@code v.mu_i}, variances
 * {@code v^T Q_i v}, CDF inverted by bisection; in the two-sample case: quantiles of the pooled first
 * halves), the set {@code A_v = {bins where the sample's frequency exceeds the reference mass}} and its
 * gap {@code sum_b (f_b - p_b)_+} (the complement of A has the same gap with the roles swapped, since
 * both sides sum to 1, so it need not be tried); the direction with the largest first-half gap wins. Only that one
 * (v, A) is then evaluated on the second half, so the reported value is an unbiased estimate of a
 * quantity that is at most TV: no maximum over held-out evaluations is taken. Standard errors are
 * binomial: {@code sqrt(q_hat(A)(1 - q_hat(A)) / n2)}, plus {@code p_hat(A)(1 - p_hat(A)) / m2} under the
 * root when the reference is itself a sample.
 *
 * <p>Candidate directions: normalised differences of the component means (all pairs i < j in order,
 * capped), the eigenvectors of the reference covariance (LAPACK dsyev), and seeded random directions
 * (normalised standard Gaussian vectors from {@link CounterRandom}).
 */
final class ProjectionTv {

    private static final long TAG_DIRECTIONS = 0x444952L;

    private ProjectionTv() {
    }

    /** Samples y (n x d) against the known mixture p. */
    static ProjectionLowerBound againstMixture(GaussianMixture p, double[] y, int n, ProjectionConfig config) {
        int d = p.dimension();
        checkSamples("samples", y, n, d);
        int k = p.components();
        double[][] means = new double[k][];
        for (int i = 0; i < k; i++) {
            means[i] = p.mean(i);
        }
        List<double[]> dirs = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int pairs = 0;
        for (int i = 0; i < k && pairs < config.maxPairs(); i++) {
            for (int j = i + 1; j < k && pairs < config.maxPairs(); j++) {
                double[] v = new double[d];
                for (int r = 0; r < d; r++) {
                    v[r] = means[i][r] - means[j][r];
                }
                if (normalise(v)) {
                    dirs.add(v);
                    labels.add("mean difference " + i + "-" + j);
                    pairs++;
                }
            }
        }
        addPrincipalAxes(p.overallCovariance(), d, config, dirs, labels);
        addRandom(d, config, dirs, labels);
        if (dirs.isEmpty()) {
            throw new IllegalArgumentException("no candidate directions: enable principal axes or random directions");
        }

        int n1 = (n + 1) / 2;
        int n2 = n / 2;
        int bins = config.bins();
        double[] proj1 = new double[n1];
        double[] edges = new double[bins - 1];
        double[] mass = new double[bins];
        double[] freq = new double[bins];
        double[] a = new double[k];
        double[] s = new double[k];
        double[] w = p.weights();
        int best = -1;
        double bestGap = Double.NEGATIVE_INFINITY;
        boolean[] bestSet = null;
        double[] bestEdges = null;
        double bestMass = 0;
        for (int v = 0; v < dirs.size(); v++) {
            double[] dir = dirs.get(v);
            for (int i = 0; i < k; i++) {
                a[i] = dot(dir, means[i]);
                s[i] = Math.sqrt(quadraticForm(p.covariance(i), dir));
            }
            mixtureQuantiles(w, a, s, edges);
            // Masses from the CDF at the edges found (exact up to rounding), not the nominal 1/B.
            double prev = 0;
            for (int b = 0; b < bins - 1; b++) {
                double c = mixtureCdf(w, a, s, edges[b]);
                mass[b] = Math.max(0.0, c - prev);
                prev = Math.max(prev, c);
            }
            mass[bins - 1] = Math.max(0.0, 1.0 - prev);
            project(y, 0, n, d, dir, proj1);
            histogram(proj1, n1, edges, freq);
            boolean[] set = new boolean[bins];
            double gap = 0;
            double setMass = 0;
            for (int b = 0; b < bins; b++) {
                if (freq[b] > mass[b]) {
                    set[b] = true;
                    gap += freq[b] - mass[b];
                    setMass += mass[b];
                }
            }
            if (gap > bestGap) {
                bestGap = gap;
                best = v;
                bestSet = set;
                bestEdges = edges.clone();
                bestMass = setMass;
            }
        }
        double[] dir = dirs.get(best);
        double[] proj2 = new double[n2];
        project(y, 1, n, d, dir, proj2);
        double q2 = fractionIn(proj2, n2, bestEdges, bestSet);
        double se = Math.sqrt(q2 * (1 - q2) / n2);
        return new ProjectionLowerBound(dir, labels.get(best), dirs.size(), bins, count(bestSet), bestGap,
                new Estimate(q2 - bestMass, se, n2), config.z());
    }

    /** Samples y (n x d) against reference samples x (m x d): both split, both empirical. */
    static ProjectionLowerBound againstSamples(double[] x, int m, double[] y, int n, int d, ProjectionConfig config) {
        checkSamples("reference samples", x, m, d);
        checkSamples("samples", y, n, d);
        int m1 = (m + 1) / 2;
        int m2 = m / 2;
        int n1 = (n + 1) / 2;
        int n2 = n / 2;
        // First-half moments: means of both, pooled covariance (Welford over rows).
        double[] meanX = halfMean(x, m, d);
        double[] meanY = halfMean(y, n, d);
        List<double[]> dirs = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        if (config.maxPairs() > 0) {
            double[] v = new double[d];
            for (int r = 0; r < d; r++) {
                v[r] = meanY[r] - meanX[r];
            }
            if (normalise(v)) {
                dirs.add(v);
                labels.add("mean difference");
            }
        }
        addPrincipalAxes(pooledCovariance(x, m, y, n, d), d, config, dirs, labels);
        addRandom(d, config, dirs, labels);
        if (dirs.isEmpty()) {
            throw new IllegalArgumentException("no candidate directions: enable principal axes or random directions");
        }
        int bins = config.bins();
        double[] px = new double[m1];
        double[] py = new double[n1];
        double[] pooled = new double[m1 + n1];
        double[] edges = new double[bins - 1];
        double[] fx = new double[bins];
        double[] fy = new double[bins];
        int best = -1;
        double bestGap = Double.NEGATIVE_INFINITY;
        boolean[] bestSet = null;
        double[] bestEdges = null;
        for (int v = 0; v < dirs.size(); v++) {
            double[] dir = dirs.get(v);
            project(x, 0, m, d, dir, px);
            project(y, 0, n, d, dir, py);
            System.arraycopy(px, 0, pooled, 0, m1);
            System.arraycopy(py, 0, pooled, m1, n1);
            Arrays.sort(pooled);
            for (int b = 1; b < bins; b++) {
                edges[b - 1] = pooled[(int) ((long) b * pooled.length / bins)];
            }
            histogram(px, m1, edges, fx);
            histogram(py, n1, edges, fy);
            boolean[] set = new boolean[bins];
            double gap = 0;
            for (int b = 0; b < bins; b++) {
                if (fy[b] > fx[b]) {
                    set[b] = true;
                    gap += fy[b] - fx[b];
                }
            }
            if (gap > bestGap) {
                bestGap = gap;
                best = v;
                bestSet = set;
                bestEdges = edges.clone();
            }
        }
        double[] dir = dirs.get(best);
        double[] px2 = new double[m2];
        double[] py2 = new double[n2];
        project(x, 1, m, d, dir, px2);
        project(y, 1, n, d, dir, py2);
        double x2 = fractionIn(px2, m2, bestEdges, bestSet);
        double y2 = fractionIn(py2, n2, bestEdges, bestSet);
        double se = Math.sqrt(y2 * (1 - y2) / n2 + x2 * (1 - x2) / m2);
        return new ProjectionLowerBound(dir, labels.get(best), dirs.size(), bins, count(bestSet), bestGap,
                new Estimate(y2 - x2, se, n2), config.z());
    }

    private static void checkSamples(String what, double[] y, int n, int d) {
        if (n < 2) {
            throw new IllegalArgumentException(what + ": need at least 2 points to split in halves, got " + n);
        }
        if (y.length < (long) n * d) {
            throw new IllegalArgumentException(what + ": array holds " + y.length + " values, fewer than n d = "
                    + ((long) n * d));
        }
        for (int i = 0; i < n * d; i++) {
            if (!Double.isFinite(y[i])) {
                throw new IllegalArgumentException(what + ": point " + (i / d) + " coordinate " + (i % d)
                        + " is not finite (" + y[i] + ")");
            }
        }
    }

    /** The 1-D mixture CDF {@code sum_i w_i Phi((x - a_i) / s_i)}. */
    static double mixtureCdf(double[] w, double[] a, double[] s, double x) {
        double c = 0;
        for (int i = 0; i < w.length; i++) {
            c += w[i] * Normal.cdf((x - a[i]) / s[i]);
        }
        return c;
    }

    /** Quantiles at levels b / B, b = 1..B-1 (B = edges.length + 1), by bisection on the bracketing CDF. */
    static void mixtureQuantiles(double[] w, double[] a, double[] s, double[] edges) {
        int bins = edges.length + 1;
        double lo0 = Double.POSITIVE_INFINITY;
        double hi0 = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < w.length; i++) {
            lo0 = Math.min(lo0, a[i] - 40 * s[i]);
            hi0 = Math.max(hi0, a[i] + 40 * s[i]);
        }
        double lo = lo0;
        for (int b = 1; b < bins; b++) {
            double level = (double) b / bins;
            double hi = hi0;
            // The quantiles increase, so each search starts from the previous edge.
            for (int it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1.0, Math.abs(lo) + Math.abs(hi)); it++) {
                double mid = 0.5 * (lo + hi);
                if (mixtureCdf(w, a, s, mid) < level) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            edges[b - 1] = 0.5 * (lo + hi);
        }
    }

    private static boolean normalise(double[] v) {
        double n2 = 0;
        double scale = 0;
        for (double c : v) {
            scale = Math.max(scale, Math.abs(c));
        }
        if (scale == 0) {
            return false;
        }
        for (double c : v) {
            n2 += (c / scale) * (c / scale);
        }
        double inv = 1.0 / (scale * Math.sqrt(n2));
        for (int r = 0; r < v.length; r++) {
            v[r] *= inv;
        }
        return true;
    }

    private static void addPrincipalAxes(double[] cov, int d, ProjectionConfig config, List<double[]> dirs,
            List<String> labels) {
        if (!config.principalAxes()) {
            return;
        }
        // Symmetric, so row-major = column-major; dsyev overwrites a with the eigenvectors as columns.
        double[] a = cov.clone();
        double[] eig = new double[d];
        double[] query = new double[1];
        intW info = new intW(0);
        LAPACK lapack = LAPACK.getInstance();
        lapack.dsyev("V", "U", d, a, d, eig, query, -1, info);
        double[] work = new double[Math.max(1, (int) query[0])];
        lapack.dsyev("V", "U", d, a, d, eig, work, work.length, info);
        if (info.val != 0) {
            return; // no axes rather than a failure: the other directions still give a valid bound
        }
        for (int c = d - 1; c >= 0; c--) {
            double[] v = new double[d];
            for (int r = 0; r < d; r++) {
                v[r] = a[r + c * d];
            }
            if (normalise(v)) {
                dirs.add(v);
                labels.add("principal axis " + (d - 1 - c));
            }
        }
    }

    private static void addRandom(int d, ProjectionConfig config, List<double[]> dirs, List<String> labels) {
        CounterRandom rng = CounterRandom.of(config.seed());
        long stream = CounterRandom.stream(TAG_DIRECTIONS);
        for (int i = 0; i < config.randomDirections(); i++) {
            double[] v = new double[d];
            rng.fillGaussian(stream, (long) i * d, v, 0, d);
            if (normalise(v)) {
                dirs.add(v);
                labels.add("random " + i);
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int r = 0; r < a.length; r++) {
            s += a[r] * b[r];
        }
        return s;
    }

    private static double quadraticForm(double[][] q, double[] v) {
        double s = 0;
        for (int r = 0; r < v.length; r++) {
            double row = 0;
            for (int c = 0; c < v.length; c++) {
                row += q[r][c] * v[c];
            }
            s += v[r] * row;
        }
        return s;
    }

    /** Projections of the points of one half (parity 0: even indices, 1: odd) onto dir. */
    private static void project(double[] y, int parity, int n, int d, double[] dir, double[] out) {
        int o = 0;
        for (int j = parity; j < n; j += 2) {
            int row = j * d;
            double s = 0;
            for (int r = 0; r < d; r++) {
                s += y[row + r] * dir[r];
            }
            out[o++] = s;
        }
    }

    /** Bin b holds x with edges[b-1] <= x < edges[b] (edges.length = B - 1). */
    private static int bin(double[] edges, double x) {
        int lo = 0;
        int hi = edges.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (x < edges[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static void histogram(double[] proj, int n, double[] edges, double[] freq) {
        Arrays.fill(freq, 0.0);
        for (int j = 0; j < n; j++) {
            freq[bin(edges, proj[j])] += 1.0;
        }
        double inv = 1.0 / n;
        for (int b = 0; b < freq.length; b++) {
            freq[b] *= inv;
        }
    }

    private static double fractionIn(double[] proj, int n, double[] edges, boolean[] set) {
        long c = 0;
        for (int j = 0; j < n; j++) {
            if (set[bin(edges, proj[j])]) {
                c++;
            }
        }
        return (double) c / n;
    }

    private static int count(boolean[] set) {
        int c = 0;
        for (boolean b : set) {
            if (b) {
                c++;
            }
        }
        return c;
    }

    private static double[] halfMean(double[] x, int n, int d) {
        double[] mean = new double[d];
        int c = 0;
        for (int j = 0; j < n; j += 2) {
            c++;
            for (int r = 0; r < d; r++) {
                mean[r] += (x[j * d + r] - mean[r]) / c;
            }
        }
        return mean;
    }

    // Pooled first-half covariance (d x d row-major), centred on the pooled first-half mean; two passes.
    private static double[] pooledCovariance(double[] x, int m, double[] y, int n, int d) {
        double[] mean = new double[d];
        int count = 0;
        for (int pass = 0; pass < 2; pass++) {
            double[] src = pass == 0 ? x : y;
            int len = pass == 0 ? m : n;
            for (int j = 0; j < len; j += 2) {
                count++;
                for (int r = 0; r < d; r++) {
                    mean[r] += (src[j * d + r] - mean[r]) / count;
                }
            }
        }
        double[] cov = new double[d * d];
        for (int pass = 0; pass < 2; pass++) {
            double[] src = pass == 0 ? x : y;
            int len = pass == 0 ? m : n;
            for (int j = 0; j < len; j += 2) {
                int row = j * d;
                for (int r = 0; r < d; r++) {
                    double dr = src[row + r] - mean[r];
                    for (int c = 0; c <= r; c++) {
                        cov[r * d + c] += dr * (src[row + c] - mean[c]);
                    }
                }
            }
        }
        for (int r = 0; r < d; r++) {
            for (int c = 0; c <= r; c++) {
                double v = cov[r * d + c] / Math.max(1, count - 1);
                cov[r * d + c] = v;
                cov[c * d + r] = v;
            }
        }
        return cov;
    }
}
