package io.scoremix.report;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A self-contained HTML page: headings, paragraphs, tables and inline SVG figures ({@link Plots}), one
 * style block and no scripts or external resources, so the file can be mailed or opened offline. Built by
 * appending sections in order; {@link #html()} gives the page. Not thread-safe.
 */
public final class HtmlReport {

    private static final String STYLE = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
            + "color:#222;line-height:1.4}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px "
            + "solid #ddd}table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:2px 8px;"
            + "text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}td.l,th.l{text-align:left}"
            + "figure{display:inline-block;margin:.4em}figcaption{font-size:.85em;color:#555;max-width:520px}"
            + ".note{color:#555;font-size:.9em}";

    private final String title;
    private final StringBuilder body = new StringBuilder();

    /** An empty page with this title (also its first heading). */
    public HtmlReport(String title) {
        this.title = title;
        body.append("<h1>").append(escape(title)).append("</h1>\n");
    }

    /** A section heading. */
    public HtmlReport heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    /** A paragraph of plain text (escaped). */
    public HtmlReport paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    /** A paragraph in the note style (small, grey). */
    public HtmlReport note(String text) {
        body.append("<p class=\"note\">").append(escape(text)).append("</p>\n");
        return this;
    }

    /** A paragraph holding one link (relative or absolute URL). */
    public HtmlReport link(String href, String text) {
        body.append("<p><a href=\"").append(escape(href)).append("\">").append(escape(text)).append("</a></p>\n");
        return this;
    }

    /** A two-column table of names and values ({@code String.valueOf} of each value, escaped). */
    public HtmlReport keyValues(Map<String, ?> values) {
        body.append("<table>\n");
        values.forEach((k, v) -> body.append("<tr><th class=\"l\">").append(escape(k)).append("</th><td class=\"l\">")
                .append(escape(String.valueOf(v))).append("</td></tr>\n"));
        body.append("</table>\n");
        return this;
    }

    /** A table with a header row; cells are escaped; the first column is left-aligned. */
    public HtmlReport table(List<String> header, List<List<String>> rows) {
        body.append("<table>\n<tr>");
        for (int c = 0; c < header.size(); c++) {
            body.append(c == 0 ? "<th class=\"l\">" : "<th>").append(escape(header.get(c))).append("</th>");
        }
        body.append("</tr>\n");
        for (List<String> row : rows) {
            body.append("<tr>");
            for (int c = 0; c < row.size(); c++) {
                body.append(c == 0 ? "<td class=\"l\">" : "<td>").append(escape(row.get(c))).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    /** An inline SVG figure (from {@link Plots}) with a caption. */
    public HtmlReport figure(String svg, String caption) {
        body.append("<figure>").append(svg).append("<figcaption>").append(escape(caption))
                .append("</figcaption></figure>\n");
        return this;
    }

    /** The page. */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title><style>" + STYLE + "</style></head><body>\n" + body + "</body></html>\n";
    }

    /** Writes the page to {@code file} (replacing it) through the Hadoop FileSystem API. */
    public void write(FileSystem fs, Path file) throws IOException {
        try (OutputStream out = fs.create(file, true)) {
            out.write(html().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** HTML/XML text escaping of {@code & < > " '}. */
    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
