package io.scoremix.report;

import io.scoremix.core.linalg.SymmetricEigen;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Inline SVG figures of the reports (no scripts): the per-level validation loss of a fit against the
 * plug-in, two point sets in the top two principal directions, and marginal histograms of two point
 * sets. Point sets are n x d row-major {@code double[]}; non-finite values are skipped. Stateless.
 */
public final class Plots {

    static final int WIDTH = 520;
    static final int HEIGHT = 340;
    private static final int LEFT = 62;
    private static final int RIGHT = 16;
    private static final int TOP = 30;
    private static final int BOTTOM = 44;
    /** Colours of the first (reference: data or truth) and second (model samples) series. */
    static final String FIRST = "#1f77b4";
    static final String SECOND = "#d62728";
    /** At most this many points of each set are drawn in a scatter plot (evenly spaced rows). */
    public static final int MAX_SCATTER_POINTS = 2000;

    private Plots() {
    }

    /**
     * Validation DSM loss per level against time t (log axis): the fit and the plug-in (crude mixture) score.
     * Levels with a non-finite loss are left out.
     */
    public static String levelLosses(double[] t, double[] fit, double[] plugin) {
        Frame f = new Frame("validation loss per level", "t (log scale)", "DSM loss (log scale)");
        double[] lt = log10(t);
        double[] lf = log10(fit);
        double[] lp = log10(plugin);
        f.rangeX(lt, lt.length);
        f.rangeY(lf, lf.length);
        f.rangeY(lp, lp.length);
        f.axes(true, true);
        f.polyline(lt, lp, SECOND, "4 3");
        f.polyline(lt, lf, FIRST, null);
        f.legend(new String[] {"fit", "plug-in"}, new String[] {FIRST, SECOND});
        return f.close();
    }

    /**
     * The ratio of the fit's validation loss to the plug-in's per level (below 1: the fitted correction
     * helps), against t on a log axis, with the line at 1.
     */
    public static String levelLossRatio(double[] t, double[] fit, double[] plugin) {
        Frame f = new Frame("validation loss of the fit / of the plug-in", "t (log scale)", "loss ratio");
        double[] lt = log10(t);
        double[] ratio = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            ratio[i] = fit[i] / plugin[i];
        }
        f.rangeX(lt, lt.length);
        f.rangeY(ratio, ratio.length);
        f.includeY(1);
        f.axes(true, false);
        double[] ones = new double[t.length];
        Arrays.fill(ones, 1);
        f.polyline(lt, ones, "#888", "2 2");
        f.polyline(lt, ratio, FIRST, null);
        return f.close();
    }

    /** log10 of each value; non-positive values become NaN (left out of plots). */
    private static double[] log10(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] > 0 ? Math.log10(v[i]) : Double.NaN;
        }
        return out;
    }

    /**
     * The first set (blue) and the second (red) projected on the top two principal directions of the
     * first set's covariance, at most {@value #MAX_SCATTER_POINTS} points each.
     */
    public static String principalScatter(double[] a, int na, double[] b, int nb, int d, String labelA, String labelB) {
        double[] dirs = principalDirections(a, na, d);
        int dims = Math.min(2, d);
        double[] pa = project(a, na, d, dirs, dims);
        double[] pb = project(b, nb, d, dirs, dims);
        if (dims == 1) {
            return histogram(pa, na, pb, nb, "principal direction 1", labelA, labelB);
        }
        Frame f = new Frame(labelA + " and " + labelB + " in the top two principal directions", "principal direction 1",
                "principal direction 2");
        double[][] xy = {column(pa, na, 0), column(pa, na, 1), column(pb, nb, 0), column(pb, nb, 1)};
        f.rangeX(xy[0], na);
        f.rangeX(xy[2], nb);
        f.rangeY(xy[1], na);
        f.rangeY(xy[3], nb);
        f.axes(false, false);
        f.points(xy[0], xy[1], na, FIRST);
        f.points(xy[2], xy[3], nb, SECOND);
        f.legend(new String[] {labelA, labelB}, new String[] {FIRST, SECOND});
        return f.close();
    }

    /** One histogram per coordinate (at most {@code maxColumns}), the two sets overlaid as densities. */
    public static List<String> marginalHistograms(double[] a, int na, double[] b, int nb, int d, List<String> names,
                                                  String labelA, String labelB, int maxColumns) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < Math.min(d, maxColumns); r++) {
            out.add(histogram(columnOf(a, na, d, r), na, columnOf(b, nb, d, r), nb, names.get(r), labelA, labelB));
        }
        return out;
    }

    /** Two samples of one variable as step-line densities over 40 common bins between robust limits. */
    static String histogram(double[] a, int na, double[] b, int nb, String name, String labelA, String labelB) {
        double[] lim = robustRange(a, na, b, nb);
        int bins = 40;
        double width = (lim[1] - lim[0]) / bins;
        double[] ha = density(a, na, lim[0], width, bins);
        double[] hb = density(b, nb, lim[0], width, bins);
        Frame f = new Frame("marginal of " + name, name, "density");
        double[] xs = new double[bins + 1];
        for (int i = 0; i <= bins; i++) {
            xs[i] = lim[0] + i * width;
        }
        f.rangeX(xs, xs.length);
        f.rangeY(ha, bins);
        f.rangeY(hb, bins);
        f.includeY(0);
        f.axes(false, false);
        f.steps(xs, ha, FIRST);
        f.steps(xs, hb, SECOND);
        f.legend(new String[] {labelA, labelB}, new String[] {FIRST, SECOND});
        return f.close();
    }

    /** The eigenvectors of the two largest eigenvalues of the covariance of x, as rows of a 2 x d array. */
    static double[] principalDirections(double[] x, int n, int d) {
        double[] mean = new double[d];
        int count = 0;
        for (int j = 0; j < n; j++) {
            if (finiteRow(x, j, d)) {
                for (int r = 0; r < d; r++) {
                    mean[r] += x[j * d + r];
                }
                count++;
            }
        }
        double[] cov = new double[d * d];
        if (count < 2) {
            double[] id = new double[2 * d];
            id[0] = 1;
            if (d > 1) {
                id[d + 1] = 1;
            }
            return id;
        }
        for (int r = 0; r < d; r++) {
            mean[r] /= count;
        }
        // Lower triangle of the centred scatter (d x d row-major), mirrored below.
        for (int j = 0; j < n; j++) {
            if (!finiteRow(x, j, d)) {
                continue;
            }
            int o = j * d;
            for (int r = 0; r < d; r++) {
                double cr = x[o + r] - mean[r];
                for (int s = 0; s <= r; s++) {
                    cov[r * d + s] += cr * (x[o + s] - mean[s]);
                }
            }
        }
        for (int r = 0; r < d; r++) {
            for (int s = 0; s < r; s++) {
                cov[s * d + r] = cov[r * d + s];
            }
        }
        double[] values = new double[d];
        double[] vectors = new double[d * d];
        double[] dirs = new double[2 * d];
        if (SymmetricEigen.decompose(cov, d, values, vectors) != SymmetricEigen.OK) {
            dirs[0] = 1;
            if (d > 1) {
                dirs[d + 1] = 1;
            }
            return dirs;
        }
        // Ascending order: the last two rows are the top two directions.
        System.arraycopy(vectors, (d - 1) * d, dirs, 0, d);
        if (d > 1) {
            System.arraycopy(vectors, (d - 2) * d, dirs, d, d);
        }
        return dirs;
    }

    private static double[] project(double[] x, int n, int d, double[] dirs, int dims) {
        double[] out = new double[n * dims];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < dims; c++) {
                double s = 0;
                for (int r = 0; r < d; r++) {
                    s += x[j * d + r] * dirs[c * d + r];
                }
                out[j * dims + c] = s;
            }
        }
        return out;
    }

    private static boolean finiteRow(double[] x, int j, int d) {
        for (int r = 0; r < d; r++) {
            if (!Double.isFinite(x[j * d + r])) {
                return false;
            }
        }
        return true;
    }

    private static double[] column(double[] x, int n, int c) {
        return columnOf(x, n, 2, c);
    }

    private static double[] columnOf(double[] x, int n, int d, int c) {
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            out[j] = x[j * d + c];
        }
        return out;
    }

    /** The 0.5 and 99.5 percentiles of the pooled finite values, widened by 5 percent. */
    private static double[] robustRange(double[] a, int na, double[] b, int nb) {
        double[] all = new double[na + nb];
        int m = 0;
        for (int j = 0; j < na; j++) {
            if (Double.isFinite(a[j])) {
                all[m++] = a[j];
            }
        }
        for (int j = 0; j < nb; j++) {
            if (Double.isFinite(b[j])) {
                all[m++] = b[j];
            }
        }
        if (m == 0) {
            return new double[] {0, 1};
        }
        double[] sorted = Arrays.copyOf(all, m);
        Arrays.sort(sorted);
        double lo = sorted[(int) Math.floor(0.005 * (m - 1))];
        double hi = sorted[(int) Math.ceil(0.995 * (m - 1))];
        if (!(hi > lo)) {
            lo -= 0.5;
            hi += 0.5;
        }
        double pad = 0.05 * (hi - lo);
        return new double[] {lo - pad, hi + pad};
    }

    /** Histogram of v over bins [lo + b width, lo + (b+1) width), normalised to a density of all finite values. */
    static double[] density(double[] v, int n, double lo, double width, int bins) {
        double[] h = new double[bins];
        int count = 0;
        for (int j = 0; j < n; j++) {
            if (!Double.isFinite(v[j])) {
                continue;
            }
            count++;
            int b = (int) Math.floor((v[j] - lo) / width);
            if (b >= 0 && b < bins) {
                h[b]++;
            }
        }
        for (int b = 0; b < bins; b++) {
            h[b] = count == 0 ? 0 : h[b] / (count * width);
        }
        return h;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** One plot area: data ranges, axes with ticks, series, legend. */
    static final class Frame {
        private final StringBuilder svg = new StringBuilder();
        private final String title;
        private final String xLabel;
        private final String yLabel;
        private double x0 = Double.POSITIVE_INFINITY;
        private double x1 = Double.NEGATIVE_INFINITY;
        private double y0 = Double.POSITIVE_INFINITY;
        private double y1 = Double.NEGATIVE_INFINITY;

        Frame(String title, String xLabel, String yLabel) {
            this.title = title;
            this.xLabel = xLabel;
            this.yLabel = yLabel;
            svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">", WIDTH, HEIGHT, WIDTH, HEIGHT));
            svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        }

        void rangeX(double[] v, int n) {
            for (int i = 0; i < n; i++) {
                if (Double.isFinite(v[i])) {
                    x0 = Math.min(x0, v[i]);
                    x1 = Math.max(x1, v[i]);
                }
            }
        }

        void rangeY(double[] v, int n) {
            for (int i = 0; i < n; i++) {
                if (Double.isFinite(v[i])) {
                    y0 = Math.min(y0, v[i]);
                    y1 = Math.max(y1, v[i]);
                }
            }
        }

        void includeY(double v) {
            y0 = Math.min(y0, v);
            y1 = Math.max(y1, v);
        }

        private void settle() {
            if (!(x1 >= x0)) {
                x0 = 0;
                x1 = 1;
            }
            if (!(y1 >= y0)) {
                y0 = 0;
                y1 = 1;
            }
            // A range narrower than rounding at its magnitude (a loss ratio of 1 within an ulp) is widened:
            // ticks of such a span would not advance in floating point.
            if (degenerate(x0, x1)) {
                double half = widening(x0, x1);
                x0 -= half;
                x1 += half;
            }
            if (degenerate(y0, y1)) {
                double half = widening(y0, y1);
                y0 -= half;
                y1 += half;
            }
            double py = 0.04 * (y1 - y0);
            y0 = y0 == 0 ? 0 : y0 - py;
            y1 += py;
        }

        double px(double x) {
            return LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
        }

        double py(double y) {
            return HEIGHT - BOTTOM - (y - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM);
        }

        /** Box, ticks and labels; a log10 axis shows 10^k at its ticks. */
        void axes(boolean logX, boolean logY) {
            settle();
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\">%s</text>", LEFT,
                    HtmlReport.escape(title)));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                    + "stroke=\"#888\"/>", LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM));
            for (double v : ticks(x0, x1)) {
                double x = px(v);
                svg.append(String.format(Locale.ROOT, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" stroke=\"#888\"/>"
                        + "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\">%s</text>", fmt(x), HEIGHT - BOTTOM, fmt(x),
                        HEIGHT - BOTTOM + 4, fmt(x), HEIGHT - BOTTOM + 16, label(v, logX)));
            }
            for (double v : ticks(y0, y1)) {
                double y = py(v);
                svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#888\"/>"
                        + "<text x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>", LEFT - 4, fmt(y), LEFT, fmt(y),
                        LEFT - 6, fmt(y + 4), label(v, logY)));
            }
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, HtmlReport.escape(xLabel)));
            svg.append(String.format(Locale.ROOT, "<text transform=\"translate(14,%d) rotate(-90)\" "
                    + "text-anchor=\"middle\">%s</text>", (TOP + HEIGHT - BOTTOM) / 2, HtmlReport.escape(yLabel)));
        }

        private static String label(double v, boolean log) {
            return compact(log ? Math.pow(10, v) : v);
        }

        /** At most 4 significant digits, without trailing zeros ("2", "0.5", "1e-03"). */
        static String compact(double v) {
            if (v == 0) {
                return "0";
            }
            double a = Math.abs(v);
            String s = a >= 1e-3 && a < 1e5 ? String.format(Locale.ROOT, "%.4g", v) : String.format(Locale.ROOT, "%.2e", v);
            int e = s.indexOf('e');
            String mantissa = e < 0 ? s : s.substring(0, e);
            if (mantissa.contains(".")) {
                mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
            }
            return e < 0 ? mantissa : mantissa + s.substring(e);
        }

        private static boolean degenerate(double lo, double hi) {
            return hi - lo <= 1e-9 * Math.max(Math.abs(lo), Math.abs(hi));
        }

        /** How far to move each end of a degenerate range: 5% of its magnitude, or 0.5 around 0. */
        private static double widening(double lo, double hi) {
            double c = Math.max(Math.abs(lo), Math.abs(hi));
            return c == 0 ? 0.5 : 0.05 * c;
        }

        /** About five round tick values in [lo, hi]; none for an empty, non-finite or degenerate range. */
        static List<Double> ticks(double lo, double hi) {
            double span = hi - lo;
            // A degenerate range includes an empty or reversed one.
            if (!Double.isFinite(lo) || !Double.isFinite(hi) || degenerate(lo, hi)) {
                return new ArrayList<>();
            }
            double step = Math.pow(10, Math.floor(Math.log10(span / 5)));
            for (double m : new double[] {1, 2, 5, 10}) {
                if (span / (step * m) <= 6) {
                    step *= m;
                    break;
                }
            }
            List<Double> out = new ArrayList<>();
            for (double v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) {
                out.add(Math.abs(v) < 1e-12 * span ? 0.0 : v);
            }
            return out;
        }

        void polyline(double[] x, double[] y, String colour, String dash) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < x.length; i++) {
                if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                    pts.append(fmt(px(x[i]))).append(',').append(fmt(py(y[i]))).append(' ');
                }
            }
            svg.append("<polyline fill=\"none\" stroke-width=\"1.8\" stroke=\"").append(colour).append('"');
            if (dash != null) {
                svg.append(" stroke-dasharray=\"").append(dash).append('"');
            }
            svg.append(" points=\"").append(pts).append("\"/>");
        }

        /** A step line through bins [x_i, x_{i+1}) of heights h_i. */
        void steps(double[] edges, double[] h, String colour) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < h.length; i++) {
                pts.append(fmt(px(edges[i]))).append(',').append(fmt(py(h[i]))).append(' ');
                pts.append(fmt(px(edges[i + 1]))).append(',').append(fmt(py(h[i]))).append(' ');
            }
            svg.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(colour).append("\" points=\"")
                    .append(pts).append("\"/>");
        }

        void points(double[] x, double[] y, int n, String colour) {
            int stride = Math.max(1, (n + MAX_SCATTER_POINTS - 1) / MAX_SCATTER_POINTS);
            svg.append("<g fill=\"").append(colour).append("\" fill-opacity=\"0.35\">");
            for (int i = 0; i < n; i += stride) {
                if (Double.isFinite(x[i]) && Double.isFinite(y[i]) && x[i] >= x0 && x[i] <= x1 && y[i] >= y0
                        && y[i] <= y1) {
                    svg.append("<circle cx=\"").append(fmt(px(x[i]))).append("\" cy=\"").append(fmt(py(y[i])))
                            .append("\" r=\"1.6\"/>");
                }
            }
            svg.append("</g>");
        }

        void legend(String[] labels, String[] colours) {
            int y = TOP + 14;
            for (int i = 0; i < labels.length; i++, y += 15) {
                svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                        + "<text x=\"%d\" y=\"%d\">%s</text>", WIDTH - RIGHT - 130, y - 4, colours[i],
                        WIDTH - RIGHT - 114, y, HtmlReport.escape(labels[i])));
            }
        }

        String close() {
            return svg.append("</svg>").toString();
        }
    }
}
