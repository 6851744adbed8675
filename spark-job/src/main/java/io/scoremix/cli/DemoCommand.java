package io.scoremix.cli;

import io.scoremix.core.io.MixtureSpec;
import io.scoremix.report.HtmlReport;
import io.scoremix.spark.BadInputException;
import io.scoremix.spark.EvaluateConfig;
import io.scoremix.spark.EvaluateJob;
import io.scoremix.spark.FitConfig;
import io.scoremix.spark.FitJob;
import io.scoremix.spark.FitReport;
import io.scoremix.spark.GenerateConfig;
import io.scoremix.spark.GenerateJob;
import io.scoremix.spark.InputFormat;
import io.scoremix.spark.OutputFormat;
import io.scoremix.spark.SampleConfig;
import io.scoremix.spark.SampleJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code scoremix demo}: the whole pipeline on an example mixture shipped in conf/examples: generate
 * training data, fit, write the fit report, sample, evaluate against the truth, and write an index page
 * linking the reports. Everything goes under one local folder; a rerun replaces a previous demo there.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run generate, fit, sample and evaluate on an example mixture shipped in conf/examples, write "
                + "the fit and evaluation reports, and print where they are.",
                "Output folder layout: data/ (training data), model/ (with report.html), samples/, evaluation/ "
                + "(evaluation.json, report.html), index.html and demo.json."})
final class DemoCommand implements Callable<Integer> {

    /** The marker file that makes a folder a demo folder, replaceable by the next demo. */
    static final String MARKER = "demo.json";

    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "${sys:java.io.tmpdir}/scoremix-demo",
            description = "Local output folder (absent, empty, or a previous demo's). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--example", paramLabel = "NAME", defaultValue = "blobs-2d",
            description = "Example mixture: a name in conf/examples (blobs-2d, general-10d) or a scoremix.gmm/v1 "
                    + "file. Default: ${DEFAULT-VALUE}.")
    String example;

    @Option(names = "--n", paramLabel = "N", defaultValue = "50000",
            description = "Training rows generated; as many samples are drawn. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Seed of every step. Default: ${DEFAULT-VALUE}.")
    long seed;

    private final Function<String, SparkSession> sessions;
    private final ConfigDefaults defaults;

    DemoCommand(Function<String, SparkSession> sessions, ConfigDefaults defaults) {
        this.sessions = sessions;
        this.defaults = defaults;
    }

    @Override
    public Integer call() throws IOException {
        if (n < 100) {
            throw new BadInputException("--n must be at least 100 (got " + n + ")");
        }
        Path specFile = resolveExample(example, defaults);
        MixtureSpec mixture = GenerateCommand.readSpec(specFile);
        Path dir = out.toAbsolutePath().normalize();
        checkFolder(dir);
        Files.createDirectories(dir);
        PrintWriter o = spec.commandLine().getOut();
        int k = mixture.mixture().components();
        int d = mixture.mixture().dimension();
        String base = dir.toUri().toString();
        String data = base + "data";
        String model = base + "model";
        String samples = base + "samples";
        String evaluation = base + "evaluation";
        long t0 = System.nanoTime();
        Map<String, Double> seconds = new LinkedHashMap<>();
        o.printf(Locale.ROOT, "demo: %s (%s), k = %d, d = %d, %d rows, into %s%n", mixture.name(), specFile, k, d, n, dir);
        SparkSession spark = sessions.apply("scoremix demo");

        long t = System.nanoTime();
        o.printf("demo: 1/5 generate%n");
        GenerateJob.Result g = new GenerateJob(GenerateConfig.builder().spec(mixture, specFile.toString()).n(n)
                .output(data).format(OutputFormat.PARQUET).partitions(0).seed(seed).overwrite(true).build()).run(spark);
        seconds.put("generate", lap(t));

        t = System.nanoTime();
        o.printf(Locale.ROOT, "demo: 2/5 fit k = %d on %d rows%n", k, g.rows());
        FitConfig fitConfig = FitConfig.of(data, k, model).withFormat(InputFormat.PARQUET).withSeed(seed)
                .withModel(model, true);
        FitJob.Result f = new FitJob(fitConfig).run(spark);
        seconds.put("fit", lap(t));
        t = System.nanoTime();
        String fitReport = FitReport.write(spark, fitConfig, f.model(), FitReport.DEFAULT_POINTS);
        seconds.put("fit_report", lap(t));

        t = System.nanoTime();
        o.printf(Locale.ROOT, "demo: 3/5 sample %d points%n", n);
        SampleJob.Result s = new SampleJob(new SampleConfig(model, n, samples, OutputFormat.PARQUET, 0, seed + 1,
                SampleConfig.DEFAULT_METHOD, SampleConfig.DEFAULT_STEPS, true)).run(spark);
        seconds.put("sample", lap(t));

        t = System.nanoTime();
        o.printf("demo: 4/5 evaluate the model against the truth%n");
        EvaluateConfig ec = EvaluateConfig.ofModel(model, mixture, specFile.toString(), evaluation)
                .withOutput(evaluation, true);
        EvaluateJob.Result e = new EvaluateJob(ec, EffectiveOptions.of(spec, defaults)).run(spark);
        seconds.put("evaluate", lap(t));

        o.printf("demo: 5/5 index page%n");
        seconds.put("total", lap(t0));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("example", mixture.name());
        summary.put("spec", specFile.toString());
        summary.put("rows", n);
        summary.put("seed", seed);
        summary.put("training_data", g.output());
        summary.put("model", f.model());
        summary.put("fit_report", fitReport);
        summary.put("samples", s.output());
        summary.put("evaluation", e.output());
        summary.put("evaluation_report", e.report());
        summary.put("tv_exact_ode", e.metric("tv_exact", "value"));
        summary.put("certified_tv_upper", e.metric("certified_tv_upper", "value"));
        summary.put("projection_tv_lower", e.metric("projection_tv_lower", "value"));
        summary.put("classifier_accuracy", e.metric("classifier_tv_lower", "accuracy"));
        summary.put("crude_tv_exact", e.metric("crude_tv_exact", "value"));
        summary.put("seconds", seconds);
        writeIndex(dir, summary);
        EvaluateCommand.print(o, e);
        o.printf(Locale.ROOT, "demo: done in %.1f s (generate %.1f, fit %.1f, fit report %.1f, sample %.1f, evaluate %.1f)%n",
                seconds.get("total"), seconds.get("generate"), seconds.get("fit"), seconds.get("fit_report"),
                seconds.get("sample"), seconds.get("evaluate"));
        o.printf("demo: open %s%n", dir.resolve("index.html").toUri());
        return Main.OK;
    }

    private static void writeIndex(Path dir, Map<String, Object> summary) throws IOException {
        HtmlReport index = new HtmlReport("scoremix demo: " + summary.get("example"));
        index.paragraph("Generated training data from the example mixture, fitted a score model, drew samples from "
                + "it and compared them with the truth.");
        index.link("model/report.html", "Fit report (validation loss per level, data against samples)");
        index.link("evaluation/report.html", "Evaluation report (TV to the truth: exact, certified upper bound, lower bounds)");
        index.heading("Summary");
        index.keyValues(summary);
        Files.writeString(dir.resolve("index.html"), index.html(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(MARKER), new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(summary), StandardCharsets.UTF_8);
    }

    /** Absent, empty, or a previous demo's folder (holds {@value #MARKER}); anything else is refused. */
    static void checkFolder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new BadInputException("--out " + dir + " is a file, not a folder");
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isPresent() && !Files.exists(dir.resolve(MARKER))) {
                throw new BadInputException("refusing to write the demo into " + dir + ": it is neither empty nor a "
                        + "previous demo folder (no " + MARKER + ")");
            }
        }
    }

    /**
     * The spec of an example: an existing file, else {@code examples/NAME.json} beside the configuration file
     * (conf/), else {@code conf/examples/NAME.json} under the working directory.
     */
    static Path resolveExample(String name, ConfigDefaults defaults) {
        Path direct = Path.of(name);
        if (Files.isRegularFile(direct)) {
            return direct;
        }
        String file = name.endsWith(".json") ? name : name + ".json";
        List<Path> tried = new java.util.ArrayList<>();
        for (String conf : defaults.files()) {
            Path parent = Path.of(conf).toAbsolutePath().getParent();
            if (parent != null) {
                tried.add(parent.resolve("examples").resolve(file));
            }
        }
        tried.add(Path.of("conf", "examples", file).toAbsolutePath());
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new BadInputException("example '" + name + "' not found (looked for " + tried + ")");
    }

    private static double lap(long since) {
        return (System.nanoTime() - since) * 1e-9;
    }
}
