package io.scoremix.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The report page and its SVG figures: well-formed, escaped, self-contained, the data where they belong. */
class HtmlReportTest {

    static Document parseXml(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void figuresAreWellFormedSvg() throws Exception {
        double[] t = {1e-3, 1e-2, 0.1, 1, 6};
        String losses = Plots.levelLosses(t, new double[] {5, 4, 3, Double.NaN, 1}, new double[] {6, 4.5, 3, 2, 1});
        assertEquals("svg", parseXml(losses).getDocumentElement().getLocalName());
        // Two polylines (plug-in and fit); the NaN level is left out of the fit's.
        assertEquals(2, parseXml(losses).getElementsByTagName("polyline").getLength());

        int n = 3000;
        double[] a = new double[n * 3];
        double[] b = new double[n * 3];
        for (int j = 0; j < n; j++) {
            for (int r = 0; r < 3; r++) {
                a[j * 3 + r] = Math.sin(j * 0.37 + r) * (r + 1);
                b[j * 3 + r] = Math.cos(j * 0.11 + r) * (r + 1);
            }
        }
        String scatter = Plots.principalScatter(a, n, b, n, 3, "data <x>", "samples & co");
        Document doc = parseXml(scatter);
        int circles = doc.getElementsByTagName("circle").getLength();
        // At most MAX_SCATTER_POINTS per set, evenly strided: 3000 rows -> every 2nd -> 1500 each.
        assertEquals(3000, circles);
        assertTrue(scatter.contains("data &lt;x&gt;") && scatter.contains("samples &amp; co"));
        List<String> hist = Plots.marginalHistograms(a, n, b, n, 3, List.of("u", "v", "w"), "a", "b", 2);
        assertEquals(2, hist.size());
        for (String h : hist) {
            parseXml(h);
        }
    }

    /**
     * A fit report whose every level kept the plug-in has loss ratios of 1 to within rounding: the y range
     * is then narrower than an ulp of 1, where a tick loop stepping by span / 5 never advanced (the fit
     * command hung until the heap ran out). Such a range is widened around its value; empty, reversed and
     * non-finite ranges give no ticks.
     */
    @Test
    void ratiosEqualWithinAnUlpGiveAReadableAxis() throws Exception {
        double[] t = {1e-3, 1e-2, 0.1, 1};
        double[] plugin = {0.3, 0.2, 0.1, 0.05};
        double[] fit = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            fit[i] = Math.nextUp(plugin[i]);
        }
        String svg = Plots.levelLossRatio(t, fit, plugin);
        Document doc = parseXml(svg);
        int labelledOne = 0;
        org.w3c.dom.NodeList texts = doc.getElementsByTagName("text");
        for (int i = 0; i < texts.getLength(); i++) {
            labelledOne += texts.item(i).getTextContent().equals("1") ? 1 : 0;
        }
        assertTrue(labelledOne >= 1, svg);
        assertEquals(List.of(), Plots.Frame.ticks(1.0, Math.nextUp(1.0)));
        assertEquals(List.of(), Plots.Frame.ticks(1.0, 0.5));
        assertEquals(List.of(), Plots.Frame.ticks(0.0, Double.POSITIVE_INFINITY));
        assertEquals(6, Plots.Frame.ticks(0.0, 1.0).size());
    }

    @Test
    void tickLabelsAreCompact() {
        assertEquals("2", Plots.Frame.compact(2.0));
        assertEquals("-4", Plots.Frame.compact(-4.0));
        assertEquals("0.5", Plots.Frame.compact(0.5));
        assertEquals("0.001", Plots.Frame.compact(1e-3));
        assertEquals("1.5e-05", Plots.Frame.compact(1.5e-5));
        assertEquals("1.23e+05", Plots.Frame.compact(123456));
        assertEquals("0", Plots.Frame.compact(0));
        assertEquals(List.of(0.0, 2.0, 4.0, 6.0, 8.0, 10.0), Plots.Frame.ticks(0, 10));
    }

    @Test
    void histogramIsADensity() throws Exception {
        // The bar heights integrate to the fraction of the finite points inside the bins.
        int n = 10_000;
        double[] a = new double[n + 1];
        for (int j = 0; j < n; j++) {
            a[j] = (j + 0.5) / n;
        }
        a[n] = Double.NaN;
        double[] h = Plots.density(a, n + 1, 0, 0.05, 20);
        double integral = 0;
        for (double v : h) {
            integral += v * 0.05;
        }
        assertEquals(1.0, integral, 1e-12);
        h = Plots.density(a, n + 1, 0, 0.025, 20);
        integral = 0;
        for (double v : h) {
            integral += v * 0.025;
        }
        assertEquals(0.5, integral, 1e-12);
        String svg = Plots.histogram(a, n + 1, a, n, "u", "a", "b");
        assertFalse(svg.contains("NaN"));
        parseXml(svg);
    }

    @Test
    void pageIsSelfContainedAndEscaped() {
        HtmlReport r = new HtmlReport("title <&>");
        r.heading("h").paragraph("a < b").keyValues(Map.of("k", "v\"")).table(List.of("x", "y"), List.of(List.of("1", "2")))
                .figure(Plots.levelLosses(new double[] {0.1, 1}, new double[] {1, 2}, new double[] {1, 2}), "cap")
                .link("model/report.html", "fit report");
        String html = r.html();
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<title>title &lt;&amp;&gt;</title>"));
        assertTrue(html.contains("a &lt; b") && html.contains("v&quot;"));
        assertFalse(html.contains("<script"), "no scripts");
        assertFalse(html.contains("src=\"http"), "no external resources");
        assertTrue(html.contains("<svg"));
    }
}
