package io.scoremix.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * The bounds chart of compare.md: per method of one instance, bars of the certified upper bound, the exact
 * TV and the best lower bound, with one-standard-error whiskers, as a self-contained SVG (no scripts).
 * Missing figures leave a gap; a row with an error and no figures is labelled "failed"; negative lower
 * bounds are drawn as zero-height bars. Stateless.
 */
final class CompareCharts {

    private static final int WIDTH = 600;
    private static final int HEIGHT = 340;
    private static final int LEFT = 62;
    private static final int RIGHT = 16;
    private static final int TOP = 52;
    private static final int BOTTOM = 40;
    private static final String[] KEYS = {"certified_tv_upper", "tv_exact", "tv_lower"};
    private static final String[] LABELS = {"certified upper bound", "exact TV", "lower bound"};
    private static final String[] COLOURS = {"#d62728", "#1f77b4", "#2ca02c"};

    private CompareCharts() {
    }

    /** The chart of the rows of one instance (in their order). */
    static String bounds(String instance, List<ObjectNode> rows) {
        double max = 0;
        for (ObjectNode r : rows) {
            for (String key : KEYS) {
                if (r.path(key).isNumber()) {
                    max = Math.max(max, r.path(key).asDouble() + Math.max(0, r.path(key + "_se").asDouble()));
                }
            }
        }
        double top = niceCeiling(max > 0 && Double.isFinite(max) ? max : 1);
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        double bottom = TOP + plotH;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s: TV to the truth by method"
                + "</text>%n", LEFT, escape(instance)));
        // Axis, ticks at fifths of the top, grid lines.
        for (int i = 0; i <= 5; i++) {
            double v = top * i / 5;
            double y = bottom - plotH * i / 5;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    LEFT, y, LEFT + plotW, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 6, y + 4, String.format(Locale.ROOT, top >= 0.1 ? "%.2f" : "%.3f", v)));
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>%n",
                LEFT, TOP, LEFT, bottom));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>%n",
                LEFT, bottom, LEFT + plotW, bottom));
        svg.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
                + "text-anchor=\"middle\">total variation distance</text>%n", TOP + plotH / 2, TOP + plotH / 2));
        // Bars: one group per row, one bar per key.
        double group = plotW / Math.max(1, rows.size());
        double bar = group * 0.8 / KEYS.length;
        for (int g = 0; g < rows.size(); g++) {
            ObjectNode r = rows.get(g);
            double x0 = LEFT + g * group + group * 0.1;
            boolean any = false;
            for (int j = 0; j < KEYS.length; j++) {
                if (!r.path(KEYS[j]).isNumber() || !Double.isFinite(r.path(KEYS[j]).asDouble())) {
                    continue;
                }
                any = true;
                double v = Math.max(0, Math.min(top, r.path(KEYS[j]).asDouble()));
                double h = plotH * v / top;
                double x = x0 + j * bar;
                svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        + "fill=\"%s\"><title>%s %s: %s</title></rect>%n", x, bottom - h, bar * 0.9, Math.max(h, 0.5),
                        COLOURS[j], escape(r.path("method").asText()), LABELS[j],
                        String.format(Locale.ROOT, "%.4f", r.path(KEYS[j]).asDouble())));
                // The value above the bar, vertical, so small bars stay readable beside a tall one.
                double tx = x + bar * 0.45 + 4;
                double ty = bottom - h - 4;
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                        + "transform=\"rotate(-90 %.1f %.1f)\">%s</text>%n", tx, ty, tx, ty,
                        String.format(Locale.ROOT, "%.3f", r.path(KEYS[j]).asDouble())));
                double se = r.path(KEYS[j] + "_se").asDouble();
                if (se > 0 && Double.isFinite(se)) {
                    double hi = plotH * Math.min(top, Math.max(0, r.path(KEYS[j]).asDouble() + se)) / top;
                    double lo = plotH * Math.min(top, Math.max(0, r.path(KEYS[j]).asDouble() - se)) / top;
                    double cx = x + bar * 0.45;
                    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            + "stroke=\"black\"/>%n", cx, bottom - hi, cx, bottom - lo));
                }
            }
            double cx = LEFT + g * group + group / 2;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n", cx,
                    bottom + 16, escape(r.path("method").asText())));
            if (!any && !r.path("error").isNull()) {
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                        + "fill=\"#d62728\">failed</text>%n", cx, bottom - 8));
            }
        }
        // Legend above the plot.
        for (int j = 0; j < KEYS.length; j++) {
            double x = LEFT + j * 170;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"28\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
                    x, COLOURS[j]));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"38\">%s</text>%n", x + 16, LABELS[j]));
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    /** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least v (v > 0). */
    static double niceCeiling(double v) {
        double step = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * step >= v * (1 - 1e-12)) {
                return m * step;
            }
        }
        return 10 * step;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
