package io.scoremix.core.mixture;

import io.scoremix.core.linalg.Cholesky;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static io.scoremix.core.mixture.MomentsTest.assertClose;
import static io.scoremix.core.mixture.MomentsTest.gaussian;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link Whitening}.
 *
 * <p>Tolerances. The covariances below have condition numbers of at most about 1e2; the eigen-decomposition
 * is backward stable, so W = C^{-1/2} carries a relative error of order cond * eps ~ 1e-14, and
 * {@code W C W}, round trips and log-densities are accurate to a few 1e-13. 1e-10 leaves a wide margin
 * while any formula error (a missing transpose, a wrong sign of log|det W|) shows at O(1).
 */
class WhiteningTest {

    private static final double TOL = 1e-10;

    /** A random SPD d x d matrix A A^T + 0.5 I, row-major. */
    static double[] spd(SplittableRandom rnd, int d) {
        double[] a = new double[d * d];
        for (int i = 0; i < a.length; i++) {
            a[i] = gaussian(rnd);
        }
        double[] c = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < d; s++) {
                double v = r == s ? 0.5 : 0;
                for (int m = 0; m < d; m++) {
                    v += a[r * d + m] * a[s * d + m];
                }
                c[r * d + s] = v;
            }
        }
        return c;
    }

    static double[] mul(double[] a, double[] b, int d) {
        double[] c = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < d; s++) {
                double v = 0;
                for (int m = 0; m < d; m++) {
                    v += a[r * d + m] * b[m * d + s];
                }
                c[r * d + s] = v;
            }
        }
        return c;
    }

    static double[] identity(int d) {
        double[] e = new double[d * d];
        for (int i = 0; i < d; i++) {
            e[i * d + i] = 1;
        }
        return e;
    }

    @Test
    void whitensTheCovarianceToIdentity() {
        SplittableRandom rnd = new SplittableRandom(21);
        int d = 6;
        double[] c = spd(rnd, d);
        double[] m = {1, -2, 3, 0, 5e3, -7};
        Whitening wh = Whitening.of(m, c, Whitening.DEFAULT_FLOOR);
        double[] w = wh.matrix();
        assertClose(identity(d), mul(mul(w, c, d), w, d), TOL, "W C W^T");
        assertClose(identity(d), mul(w, wh.inverseMatrix(), d), TOL, "W W^{-1}");
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < d; s++) {
                assertEquals(w[r * d + s], w[s * d + r], 0.0, "W symmetric");
            }
        }
        assertEquals(0, wh.flooredCount());
        // log|det W| = -1/2 log det C, by an independent Cholesky.
        double[] l = new double[d * d];
        assertEquals(Cholesky.OK, Cholesky.factor(c, d, l));
        assertEquals(-0.5 * Cholesky.logDet(l, d), wh.logAbsDetW(), TOL * Math.abs(wh.logAbsDetW()) + TOL);
    }

    @Test
    void applyThenInvertIsTheIdentityAndWhitenedDataHaveUnitCovariance() {
        SplittableRandom rnd = new SplittableRandom(22);
        int n = 700;  // more than one internal chunk
        int d = 4;
        double[] x = MomentsTest.data(rnd, n, d, 100);
        Moments mom = new Moments(d).addBlock(x, n);
        Whitening wh = Whitening.of(mom);
        double[] z = new double[n * d];
        wh.apply(x, n, z);
        Moments mz = new Moments(d).addBlock(z, n);
        for (double v : mz.mean()) {
            assertTrue(Math.abs(v) < TOL, "whitened mean " + v);
        }
        assertClose(identity(d), mz.covariance(), TOL, "whitened covariance");
        double[] back = new double[n * d];
        wh.invert(z, n, back);
        assertClose(x, back, TOL, "invert(apply(x))");
        // Broadcast in flight by Java serialization: the copy whitens identically.
        try {
            Whitening copy = (Whitening) new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(
                    MomentsTest.serialize(wh))).readObject();
            double[] z2 = new double[n * d];
            copy.apply(x, n, z2);
            assertClose(z, z2, 0, "deserialised whitening");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        // In place, both ways.
        double[] y = x.clone();
        wh.apply(y, n, y);
        assertClose(z, y, 0, "apply in place");
        wh.invert(y, n, y);
        assertClose(back, y, 0, "invert in place");
    }

    @Test
    void whitenedMixtureDensityFollowsTheChangeOfVariables() {
        SplittableRandom rnd = new SplittableRandom(23);
        int d = 3;
        GaussianMixture g = GaussianMixture.of(new double[] {0.3, 0.7},
                new double[][] {{1, 2, 3}, {-4, 0.5, 2}},
                new double[][][] {rows(spd(rnd, d), d), rows(spd(rnd, d), d)});
        Whitening wh = Whitening.of(g.overallMean(), g.overallCovariance(), Whitening.DEFAULT_FLOOR);
        GaussianMixture gz = wh.toWhitened(g);
        // The whitened mixture has mean 0 and covariance I (it is the law of z).
        for (double v : gz.overallMean()) {
            assertTrue(Math.abs(v) < TOL, "whitened mixture mean " + v);
        }
        assertClose(identity(d), gz.overallCovariance(), TOL, "whitened mixture covariance");
        int n = 50;
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = 3 * gaussian(rnd);
        }
        double[] z = new double[n * d];
        wh.apply(x, n, z);
        double[] lx = new double[n];
        double[] lz = new double[n];
        g.logDensity(x, n, lx);
        gz.logDensity(z, n, lz);
        for (int j = 0; j < n; j++) {
            // p_z(z) = p_x(x) / |det W|.
            assertEquals(lx[j] - wh.logAbsDetW(), lz[j], TOL * Math.max(1, Math.abs(lz[j])), "point " + j);
        }
        GaussianMixture back = wh.fromWhitened(gz);
        for (int i = 0; i < 2; i++) {
            assertClose(g.mean(i), back.mean(i), TOL, "mean " + i);
            assertClose(flat(g.covariance(i)), flat(back.covariance(i)), TOL, "covariance " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> wh.toWhitened(GaussianMixture.of(new double[] {1},
                new double[][] {{0}}, new double[][][] {{{1}}})));
    }

    static double[][] rows(double[] a, int d) {
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(a, i * d, r[i], 0, d);
        }
        return r;
    }

    static double[] flat(double[][] a) {
        int d = a.length;
        double[] f = new double[d * d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(a[i], 0, f, i * d, d);
        }
        return f;
    }

    /**
     * A constant column gives a zero eigenvalue: it is floored (not an error), counted, W stays finite and
     * the whitened constant coordinate is 0; the other coordinates are still whitened exactly.
     */
    @Test
    void zeroVarianceDirectionIsFlooredAndCounted() {
        SplittableRandom rnd = new SplittableRandom(24);
        int n = 400;
        int d = 3;
        double[] x = MomentsTest.data(rnd, n, d, 0);
        for (int j = 0; j < n; j++) {
            x[j * d + 1] = 42.0;
        }
        Moments mom = new Moments(d).addBlock(x, n);
        Whitening wh = Whitening.of(mom);
        assertEquals(1, wh.flooredCount());
        for (double v : wh.matrix()) {
            assertTrue(Double.isFinite(v));
        }
        assertTrue(Double.isFinite(wh.logAbsDetW()));
        double[] z = new double[n * d];
        wh.apply(x, n, z);
        Moments mz = new Moments(d).addBlock(z, n);
        double[] cz = mz.covariance();
        double[] expected = identity(d);
        expected[d + 1] = 0;  // the constant coordinate has no spread after whitening either
        assertClose(expected, cz, TOL, "whitened covariance with a constant column");
        double[] back = new double[n * d];
        wh.invert(z, n, back);
        assertClose(x, back, TOL, "round trip with a floored direction");
    }

    @Test
    void smallEigenvalueIsRaisedToTheFloor() {
        double[] c = {1, 0, 0, 1e-14};
        Whitening wh = Whitening.of(new double[] {0, 0}, c, 1e-10);
        assertEquals(1, wh.flooredCount());
        assertEquals(1e-14, wh.eigenvalues()[0], 1e-20);
        double[] wcw = mul(mul(wh.matrix(), c, 2), wh.matrix(), 2);
        assertEquals(1.0, wcw[0], TOL);
        assertEquals(1e-14 / 1e-10, wcw[3], 1e-12);
        assertEquals(-0.5 * Math.log(1e-10), wh.logAbsDetW(), 1e-12);
    }

    @Test
    void degenerateInputsAreRejectedWithAReason() {
        double[] zero = new double[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Whitening.of(new double[] {1, 2}, zero, Whitening.DEFAULT_FLOOR));
        assertTrue(e.getMessage().contains("no positive eigenvalue"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Whitening.of(new double[] {0, 0}, new double[] {1, 0, 0, 0}, 0.0));
        assertTrue(e.getMessage().contains("singular"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Whitening.of(new double[] {0, 0}, new double[] {1, 0.5, 0, 1}, 0.0));
        assertThrows(IllegalArgumentException.class,
                () -> Whitening.of(new double[] {0, Double.NaN}, new double[] {1, 0, 0, 1}, 0.0));
        // A single row: the accumulator has a zero covariance.
        Moments one = new Moments(2).add(new double[] {3, 4});
        assertThrows(IllegalArgumentException.class, () -> Whitening.of(one));
    }
}
