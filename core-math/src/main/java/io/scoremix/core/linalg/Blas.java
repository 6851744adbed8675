package io.scoremix.core.linalg;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;

/**
 * The BLAS that scoremix kernels call: dev.ludovic.netlib's choice (native OpenBLAS where
 * {@code libopenblas} is installed, its vectorised Java fallback elsewhere), unless the system property
 * {@code scoremix.blas=java} forces the Java fallback, which benchmarks use to measure both in one build.
 */
public final class Blas {

    private static final BLAS INSTANCE =
            "java".equalsIgnoreCase(System.getProperty("scoremix.blas")) ? JavaBLAS.getInstance() : BLAS.getInstance();

    private Blas() {
    }

    /** The BLAS in use. */
    public static BLAS get() {
        return INSTANCE;
    }

    /** The implementation's class name, for logs and benchmark reports. */
    public static String name() {
        return INSTANCE.getClass().getName();
    }
}
