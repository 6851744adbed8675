package io.scoremix.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The sections the fit, evaluate and demo reports share: a model's per-level validation losses (from its
 * model.json {@code levels_report}) and a reference point set against samples (principal-direction scatter
 * and marginal histograms).
 */
public final class ReportSections {

    /** Marginal histograms shown at most. */
    public static final int MAX_MARGINALS = 12;

    private ReportSections() {
    }

    /**
     * The per-level validation DSM loss of the fit against the plug-in (crude mixture) score: a chart and a
     * table of about ten levels. Adds nothing when model.json has no {@code levels_report}.
     */
    public static void levelLosses(HtmlReport report, JsonNode modelJson) {
        JsonNode levels = modelJson.path("levels_report");
        if (!levels.isArray() || levels.isEmpty()) {
            return;
        }
        int l = levels.size();
        double[] t = new double[l];
        double[] fit = new double[l];
        double[] plugin = new double[l];
        int fitted = 0;
        for (int i = 0; i < l; i++) {
            JsonNode e = levels.get(i);
            t[i] = e.path("t").asDouble(Double.NaN);
            fit[i] = number(e.path("validation_loss_fit"));
            plugin[i] = number(e.path("validation_loss_plugin"));
            fitted += e.path("fitted_cells").asInt(0) > 0 ? 1 : 0;
        }
        report.heading("Score fit per noise level");
        report.figure(Plots.levelLosses(t, fit, plugin), "Held-out denoising score-matching loss of the learned score "
                + "(fit) and of the crude mixture's exact score (plug-in) at each learned level; lower is better. "
                + fitted + " of " + l + " levels use a fitted correction somewhere.");
        report.figure(Plots.levelLossRatio(t, fit, plugin), "Ratio of the two losses per level: below 1 where the "
                + "fitted correction beats the plug-in on held-out noisy samples (levels where it does not keep the plug-in).");
        List<List<String>> rows = new ArrayList<>();
        int step = Math.max(1, l / 10);
        for (int i = 0; i < l; i++) {
            if (i % step != 0 && i != l - 1) {
                continue;
            }
            JsonNode e = levels.get(i);
            rows.add(List.of(Integer.toString(i), String.format(Locale.ROOT, "%.4g", t[i]), e.path("cells").asText(""),
                    e.path("fitted_cells").asText(""), String.format(Locale.ROOT, "%.6g", fit[i]),
                    String.format(Locale.ROOT, "%.6g", plugin[i])));
        }
        report.table(List.of("level", "t", "cells", "fitted cells", "val. loss fit", "val. loss plug-in"), rows);
    }

    /**
     * The reference points x (m x d, e.g. data or truth draws) against samples y (n x d): scatter in the
     * top two principal directions of x, and marginal histograms of the first {@value #MAX_MARGINALS} columns.
     */
    public static void dataVersusSamples(HtmlReport report, double[] x, int m, double[] y, int n, List<String> names,
                                         String labelX, String labelY) {
        int d = names.size();
        report.heading(labelX + " and " + labelY);
        report.figure(Plots.principalScatter(x, m, y, n, d, labelX, labelY), "Both point sets projected on the top two "
                + "principal directions of the " + labelX + " (at most " + Plots.MAX_SCATTER_POINTS + " points each).");
        List<String> hist = Plots.marginalHistograms(x, m, y, n, d, names, labelX, labelY, MAX_MARGINALS);
        for (int r = 0; r < hist.size(); r++) {
            report.figure(hist.get(r), "Marginal density of " + names.get(r) + " (" + m + " " + labelX + " points, " + n
                    + " " + labelY + ").");
        }
        if (d > MAX_MARGINALS) {
            report.note("Marginals of the other " + (d - MAX_MARGINALS) + " columns are not shown.");
        }
    }

    private static double number(JsonNode v) {
        if (v.isNumber()) {
            return v.asDouble();
        }
        try {
            return Double.parseDouble(v.asText("NaN"));
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
