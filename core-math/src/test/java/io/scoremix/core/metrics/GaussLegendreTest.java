package io.scoremix.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GaussLegendreTest {

    @Test
    void fourPointRuleMatchesTabulatedValues() {
        // Abramowitz and Stegun table 25.4: x = +-sqrt(3/7 -+ 2/7 sqrt(6/5)), w = (18 +- sqrt 30) / 36.
        GaussLegendre g = GaussLegendre.of(4);
        double inner = Math.sqrt(3.0 / 7 - 2.0 / 7 * Math.sqrt(6.0 / 5));
        double outer = Math.sqrt(3.0 / 7 + 2.0 / 7 * Math.sqrt(6.0 / 5));
        double[] x = {-outer, -inner, inner, outer};
        double[] w = {(18 - Math.sqrt(30)) / 36, (18 + Math.sqrt(30)) / 36, (18 + Math.sqrt(30)) / 36,
            (18 - Math.sqrt(30)) / 36};
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i], g.node(i), 1e-15);
            assertEquals(w[i], g.weight(i), 1e-15);
        }
    }

    @Test
    void exactForPolynomialsUpToDegree2nMinus1() {
        for (int n = 1; n <= 12; n++) {
            GaussLegendre g = GaussLegendre.of(n);
            for (int deg = 0; deg <= 2 * n - 1; deg++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += g.weight(i) * Math.pow(g.node(i), deg);
                }
                double exact = deg % 2 == 1 ? 0.0 : 2.0 / (deg + 1);
                assertEquals(exact, s, 1e-14, "n = " + n + ", degree " + deg);
            }
        }
    }
}
