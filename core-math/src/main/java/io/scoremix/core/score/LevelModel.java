package io.scoremix.core.score;

import io.scoremix.core.features.FeatureMap;

/**
 * What was learned at one noise level: the cells (built on the crude mixture noised to this level),
 * and per cell a feature map and its coefficients. {@code coefficients[c] == null} means the zero
 * coefficient: the cell uses its crude sub-mixture score (plug-in), or 0 in paper mode. Immutable.
 */
final class LevelModel {

    final double time;
    final Cells cells;
    final FeatureMap[] features;
    /** Per cell, rows x d coefficients (row-major) or null. */
    final double[][] coefficients;
    /** Per cell, the number of leading features in use (a degree prefix). */
    final int[] rows;

    LevelModel(double time, Cells cells, FeatureMap[] features, double[][] coefficients, int[] rows) {
        if (features.length != cells.count() || coefficients.length != cells.count() || rows.length != cells.count()) {
            throw new IllegalArgumentException("level at t = " + time + " has " + cells.count() + " cells but "
                    + features.length + " feature maps, " + coefficients.length + " coefficient sets and "
                    + rows.length + " row counts");
        }
        int d = cells.mixture().dimension();
        for (int c = 0; c < cells.count(); c++) {
            if (coefficients[c] != null && coefficients[c].length != rows[c] * d) {
                throw new IllegalArgumentException("level at t = " + time + ", cell " + c + ": " + coefficients[c].length
                        + " coefficients for " + rows[c] + " features x " + d + " outputs");
            }
            if (rows[c] < 0 || rows[c] > features[c].size()) {
                throw new IllegalArgumentException("level at t = " + time + ", cell " + c + ": " + rows[c]
                        + " rows in use but the feature map has " + features[c].size());
            }
        }
        this.time = time;
        this.cells = cells;
        this.features = features.clone();
        this.coefficients = coefficients.clone();
        this.rows = rows.clone();
    }
}
