package io.scoremix.core.metrics;

/**
 * Gauss-Legendre quadrature on [-1, 1]: n nodes and weights, exact for polynomials of degree up to
 * {@code 2n - 1}. Immutable.
 *
 * <p>Implementation notes. The nodes are the roots of the Legendre polynomial P_n, found by Newton's
 * method from Tricomi's starting values {@code cos(pi (i + 3/4) / (n + 1/2))}; P_n and P_n' come from
 * Bonnet's recurrence {@code (m + 1) P_{m+1} = (2m + 1) x P_m - m P_{m-1}} and
 * {@code P_n'(x) = n (x P_n - P_{n-1}) / (x^2 - 1)}; the weights are {@code 2 / ((1 - x^2) P_n'(x)^2)}
 * (Abramowitz and Stegun 25.4.29). The roots are symmetric, so only half are iterated.
 */
final class GaussLegendre {

    private final double[] nodes;
    private final double[] weights;

    private GaussLegendre(double[] nodes, double[] weights) {
        this.nodes = nodes;
        this.weights = weights;
    }

    /** The n-point rule, nodes increasing. */
    static GaussLegendre of(int n) {
        if (n < 1 || n > 1000) {
            throw new IllegalArgumentException("Gauss-Legendre node count must lie in [1, 1000], got " + n);
        }
        double[] x = new double[n];
        double[] w = new double[n];
        for (int i = 0; i < (n + 1) / 2; i++) {
            double z = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
            double dp = 0;
            for (int it = 0; it < 100; it++) {
                double p0 = 1.0;
                double p1 = z;
                for (int m = 1; m < n; m++) {
                    double p2 = ((2 * m + 1) * z * p1 - m * p0) / (m + 1);
                    p0 = p1;
                    p1 = p2;
                }
                // n = 1: P_1 = z, P_0 = 1, and the formula below gives P_1' = 1.
                dp = n * (z * p1 - p0) / (z * z - 1);
                double step = p1 / dp;
                z -= step;
                if (Math.abs(step) < 1e-16) {
                    break;
                }
            }
            // Recompute the derivative at the final root for the weight.
            double p0 = 1.0;
            double p1 = z;
            for (int m = 1; m < n; m++) {
                double p2 = ((2 * m + 1) * z * p1 - m * p0) / (m + 1);
                p0 = p1;
                p1 = p2;
            }
            dp = n * (z * p1 - p0) / (z * z - 1);
            double wi = 2.0 / ((1 - z * z) * dp * dp);
            x[n - 1 - i] = z;
            x[i] = -z;
            w[i] = wi;
            w[n - 1 - i] = wi;
        }
        if (n % 2 == 1) {
            x[n / 2] = 0.0;
        }
        return new GaussLegendre(x, w);
    }

    /** The number of nodes. */
    int size() {
        return nodes.length;
    }

    /** Node i in (-1, 1). */
    double node(int i) {
        return nodes[i];
    }

    /** Weight i; the weights sum to 2. */
    double weight(int i) {
        return weights[i];
    }
}
