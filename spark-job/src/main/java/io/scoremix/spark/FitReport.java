package io.scoremix.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.scoremix.core.diffusion.SamplerConfig;
import io.scoremix.core.random.CounterRandom;
import io.scoremix.report.HtmlReport;
import io.scoremix.report.ReportSections;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fit report: {@code report.html} and {@code report.json} added to a model folder after fit wrote it.
 * The page shows the settings and data summary from model.json, the per-level validation loss of the fit
 * against the plug-in, and a uniform subsample of the training data against draws of the model (reverse
 * SDE) in the top two principal directions and as marginal histograms, with a classifier two-sample test
 * between the two (a diagnostic: the data were also the training data). Row weights are ignored in the
 * plots. The two files are written after the model folder was renamed into place, so they are not part of
 * its atomic commit: a failure here leaves a complete model without a report. Each file is written under a
 * hidden temporary name and renamed into place, so no half-written report is ever visible.
 */
public final class FitReport {

    public static final String HTML_FILE = "report.html";
    public static final String JSON_FILE = "report.json";
    /** Data rows and model draws shown by default. */
    public static final int DEFAULT_POINTS = 5_000;

    static final long STREAM = CounterRandom.stream(0x6669742D72L);
    private static final Logger LOG = LoggerFactory.getLogger(FitReport.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FitReport() {
    }

    /**
     * Writes the report of the model at {@code modelDir}, fitted on {@code config}'s input.
     *
     * @param points data rows and model draws to plot
     * @return the qualified path of report.html
     */
    public static String write(SparkSession spark, FitConfig config, String modelDir, int points) {
        ModelOnSpark model = ModelOnSpark.read(spark, modelDir, "fit report");
        List<String> features = model.featureNames();
        DataSample data = DataSample.read(spark, config.input(), config.format(), features, points, config.seed());
        int d = features.size();
        SamplerSteps.Resolved steps = model.samplerSteps(SampleConfig.DEFAULT_STEPS);
        double[] y = model.sample(spark, config.seed(), STREAM, points, SampleConfig.DEFAULT_METHOD, steps.grid());
        ClassifierTwoSample.Result c2 = ClassifierTwoSample.test(data.x(), data.rows(), y, points, d);
        JsonNode json = model.json();

        HtmlReport report = new HtmlReport("scoremix fit report");
        report.paragraph("Model " + model.source() + ", fitted on " + config.input() + " (" + data.total() + " rows, "
                + d + " features " + features + ").");
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", model.source());
        summary.put("input", config.input());
        summary.put("rows", data.total());
        summary.put("features", features);
        summary.put("k", config.k());
        summary.put("mode", json.path("config").path("mode").asText(config.mode().name()));
        summary.put("delta", model.deltaAndHorizon()[0]);
        summary.put("horizon", model.deltaAndHorizon()[1]);
        summary.put("levels", model.model().levelCount());
        summary.put("plotted_data_rows", data.rows());
        summary.put("plotted_model_draws", points);
        summary.put("sampler_steps_requested", SamplerSteps.name(steps.requested()));
        summary.put("sampler_steps", steps.steps());
        summary.put("classifier_accuracy_data_vs_samples", c2.accuracy());
        summary.put("classifier_accuracy_standard_error", c2.standardError());
        summary.put("classifier_tv_lower", c2.tvLowerBound());
        report.keyValues(summary);
        report.note("The classifier two-sample test trains a quadratic logistic regression on half of the plotted "
                + "data and model draws and reports its balanced accuracy on the other half; 0.5 means it cannot "
                + "tell them apart, and 2 accuracy - 1 estimates a lower bound on the total variation distance.");
        ReportSections.levelLosses(report, json);
        ReportSections.dataVersusSamples(report, data.x(), data.rows(), y, points, features, "data", "model samples");
        report.heading("Effective configuration");
        report.keyValues(flatten(json.path("config")));
        try {
            Path dir = new Path(model.source());
            FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
            // Each file is written under a hidden temporary name and renamed into place, so a reader never
            // sees half a report (hidden names are also what Hadoop input formats skip).
            Path html = new Path(dir, "." + HTML_FILE + ".tmp");
            report.write(fs, html);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("format", "scoremix.fit-report/v1");
            out.putAll(summary);
            // Pass 2's screening: per level whether it was settled on the pilot and the rows its moments saw.
            out.put("screening", json.path("provenance").path("screening"));
            List<Map<String, Object>> levels = new java.util.ArrayList<>();
            for (JsonNode l : json.path("levels_report")) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("t", l.path("t").asDouble());
                e.put("fitted_cells", l.path("fitted_cells").asInt());
                e.put("screened", l.path("screened").asBoolean());
                e.put("rows", l.path("rows").asLong());
                levels.add(e);
            }
            out.put("levels", levels);
            Path jsonFile = new Path(dir, "." + JSON_FILE + ".tmp");
            try (OutputStream o = fs.create(jsonFile, true)) {
                JSON.writeValue(o, out);
            }
            publish(fs, jsonFile, new Path(dir, JSON_FILE));
            publish(fs, html, new Path(dir, HTML_FILE));
            return new Path(dir, HTML_FILE).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("fit: could not write the report into " + model.source() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * As {@link #write}, but a failure is logged and described instead of thrown: the model is complete
     * whether or not its report could be written.
     *
     * @return the path of report.html, or "not written (reason)"
     */
    public static String tryWrite(SparkSession spark, FitConfig config, String modelDir, int points) {
        try {
            return write(spark, config, modelDir, points);
        } catch (RuntimeException e) {
            LOG.warn("fit: the report of {} was not written", modelDir, e);
            return "not written (" + e.getMessage() + ")";
        }
    }

    private static void publish(FileSystem fs, Path temp, Path target) throws IOException {
        fs.delete(target, false);
        if (!fs.rename(temp, target)) {
            fs.delete(temp, false);
            throw new IOException("could not rename " + temp + " to " + target);
        }
    }

    private static Map<String, Object> flatten(JsonNode node) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            m.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
        }
        return m;
    }
}
