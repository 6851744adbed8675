package io.scoremix.core.linalg;

import dev.ludovic.netlib.blas.JavaBLAS;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class BlasTest {

    @Test
    void thePropertySelectsTheJavaFallback() {
        System.out.println("BLAS under test: " + Blas.name());
        if ("java".equals(System.getProperty("scoremix.blas"))) {
            assertSame(JavaBLAS.getInstance(), Blas.get(), "scoremix.blas=java must force the Java fallback");
        }
    }

    @Test
    void dgemmAgreesWithATripleLoop() {
        // C = A B for 3x4 times 4x2, column-major; exact in doubles (small integers).
        int m = 3;
        int k = 4;
        int n = 2;
        double[] a = new double[m * k];
        double[] b = new double[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = i - 5;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = 2 * i + 1;
        }
        double[] c = new double[m * n];
        Blas.get().dgemm("N", "N", m, n, k, 1.0, a, m, b, k, 0.0, c, m);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    s += a[i + l * m] * b[l + j * k];
                }
                assertEquals(s, c[i + j * m], 0.0);
            }
        }
    }
}
