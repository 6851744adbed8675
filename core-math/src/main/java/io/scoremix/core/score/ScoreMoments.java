package io.scoremix.core.score;

import io.scoremix.core.regression.NormalEquations;

import java.io.Serializable;

/**
 * The one-pass statistics of the score regression for every (level, cell, split), split 0 = training
 * and 1 = validation: normal equations of the rows inside each cell's gate, and per (level, split) the
 * DSM loss of the plug-in crude score on all rows and on the rows outside the gates (where the fallback
 * is used), with the total weight. A mergeable accumulator: {@link #merge} is associative with the empty
 * value as identity and rejects a shape mismatch. Serializable for Spark's in-flight shipping only.
 */
public final class ScoreMoments implements Serializable {

    private static final long serialVersionUID = 1L;

    private final int[] featureCounts; // per (level, cell), flattened by level offsets
    private final int[] levelOffset;   // level -> first (level, cell) index
    private final int d;
    private final NormalEquations[][] equations; // [(level, cell)][split]
    private final double[][] pluginSq;    // [level][split]
    private final double[][] outsideSq;   // [level][split]
    private final double[][] weight;      // [level][split]

    /**
     * Empty statistics.
     *
     * @param featureCounts per level, per cell, the number of features
     * @param d             number of outputs (the dimension)
     */
    public ScoreMoments(int[][] featureCounts, int d) {
        int levels = featureCounts.length;
        this.d = d;
        this.levelOffset = new int[levels + 1];
        for (int l = 0; l < levels; l++) {
            levelOffset[l + 1] = levelOffset[l] + featureCounts[l].length;
        }
        this.featureCounts = new int[levelOffset[levels]];
        this.equations = new NormalEquations[levelOffset[levels]][2];
        for (int l = 0; l < levels; l++) {
            for (int c = 0; c < featureCounts[l].length; c++) {
                int idx = levelOffset[l] + c;
                this.featureCounts[idx] = featureCounts[l][c];
                equations[idx][0] = new NormalEquations(featureCounts[l][c], d);
                equations[idx][1] = new NormalEquations(featureCounts[l][c], d);
            }
        }
        this.pluginSq = new double[levels][2];
        this.outsideSq = new double[levels][2];
        this.weight = new double[levels][2];
    }

    /** Bytes the accumulators need while rows are added, for the memory check before any pass. */
    public static long workingBytes(int[][] featureCounts, int d) {
        long doubles = 0;
        for (int[] level : featureCounts) {
            for (int p : level) {
                doubles += 2 * NormalEquations.workingDoubles(p, d);
            }
        }
        return 8 * doubles;
    }

    public int levels() {
        return pluginSq.length;
    }

    public int cells(int level) {
        return levelOffset[level + 1] - levelOffset[level];
    }

    public NormalEquations equations(int level, int cell, int split) {
        return equations[levelOffset[level] + cell][split];
    }

    /** Adds per-(level, split) scalar sums (weights already applied). */
    void addScalars(int level, int split, double plugin, double outside, double w) {
        pluginSq[level][split] += plugin;
        outsideSq[level][split] += outside;
        weight[level][split] += w;
    }

    /** Sum of w ||y_residual||^2 over all rows of a level and split: the plug-in's DSM loss times weight. */
    public double pluginSquares(int level, int split) {
        return pluginSq[level][split];
    }

    /** The same sum restricted to rows outside their cell's gate. */
    public double outsideSquares(int level, int split) {
        return outsideSq[level][split];
    }

    /** Total weight of the rows of a level and split. */
    public double weight(int level, int split) {
        return weight[level][split];
    }

    /** Merges {@code other} into this; returns this. */
    public ScoreMoments merge(ScoreMoments other) {
        if (other.d != d || !java.util.Arrays.equals(other.featureCounts, featureCounts)
                || !java.util.Arrays.equals(other.levelOffset, levelOffset)) {
            throw new IllegalArgumentException("cannot merge score moments of different shapes");
        }
        for (int i = 0; i < equations.length; i++) {
            equations[i][0].merge(other.equations[i][0]);
            equations[i][1].merge(other.equations[i][1]);
        }
        for (int l = 0; l < pluginSq.length; l++) {
            for (int s = 0; s < 2; s++) {
                pluginSq[l][s] += other.pluginSq[l][s];
                outsideSq[l][s] += other.outsideSq[l][s];
                weight[l][s] += other.weight[l][s];
            }
        }
        return this;
    }
}
