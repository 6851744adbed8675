package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.io.MixtureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GenerateJob on local[2]: statistics of 1e6 rows, formats, determinism, atomic output. */
class GenerateJobTest {

    /** Per-entry bound on |estimate - truth| in standard errors; see {@link #meanAndCovarianceMatchTheSpec}. */
    static final double MAX_STANDARD_ERRORS = 6.0;

    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("GenerateJobTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static MixtureSpec spec(String name) throws IOException {
        return MixtureSpec.read(TestSupport.example(name));
    }

    static GenerateConfig.Builder config(String specName, long n, Path out) throws IOException {
        return GenerateConfig.builder().spec(spec(specName), specName).n(n).output(out.toString());
    }

    /**
     * 1e6 rows of general-10d: exact count, and every entry of the sample mean and sample covariance
     * within {@value #MAX_STANDARD_ERRORS} standard errors of the spec's overall mean and covariance.
     *
     * <p>Derivation. With a = x - m (m the spec's mean) and n iid rows, the sample mean of a_r has standard
     * error sqrt(Var(a_r) / n), and the sample covariance entry (1/n) sum a_r a_c - abar_r abar_c has
     * standard error sqrt(Var(a_r a_c) / n) + O(1/n), with Var(a_r a_c) = E[a_r^2 a_c^2] - E[a_r a_c]^2
     * estimated by the empirical fourth moments. The mean-correction term is O(1/n), i.e. O(1/sqrt(n))
     * standard errors (0.001 here), negligible. Each standardised deviation is asymptotically N(0, 1), so
     * for the 10 + 55 entries P(any beyond 6 SE) is about 65 * 2e-9: a failure means a real bias.
     */
    @Test
    void meanAndCovarianceMatchTheSpec() throws IOException {
        long n = 1_000_000;
        Path out = tmp.resolve("general-10d");
        long t0 = System.nanoTime();
        GenerateJob.Result result = new GenerateJob(config("general-10d", n, out).build()).run(spark);
        double seconds = (System.nanoTime() - t0) * 1e-9;
        assertTrue(result.partitions() >= 2, "local[2] must use at least 2 partitions, got " + result.partitions());

        Dataset<Row> data = spark.read().parquet(out.toString());
        assertEquals(GenerateJob.columnNames(10), Arrays.asList(data.columns()));
        for (StructField f : data.schema().fields()) {
            assertEquals(DataTypes.DoubleType, f.dataType(), f.name());
        }
        GaussianMixture mixture = spec("general-10d").mixture();
        int d = mixture.dimension();
        double[] mean = mixture.overallMean();
        double[] cov = mixture.overallCovariance();
        double[] acc = centredMoments(data, mean, d);
        assertEquals(n, (long) acc[0], "row count");

        double worstMean = 0;
        double worstCov = 0;
        double[] s1 = Arrays.copyOfRange(acc, 1, 1 + d);
        int o2 = 1 + d;
        int o4 = 1 + d + d * d;
        for (int r = 0; r < d; r++) {
            double abar = s1[r] / n;
            double var = acc[o2 + r * d + r] / n - abar * abar;
            double z = abar / Math.sqrt(var / n);
            worstMean = Math.max(worstMean, Math.abs(z));
            assertTrue(Math.abs(z) < MAX_STANDARD_ERRORS, "mean x" + r + " off by " + z + " SE");
            for (int c = 0; c <= r; c++) {
                double m2 = acc[o2 + r * d + c] / n;
                double estimate = m2 - (s1[r] / n) * (s1[c] / n);
                double se = Math.sqrt((acc[o4 + r * d + c] / n - m2 * m2) / n);
                double zc = (estimate - cov[r * d + c]) / se;
                worstCov = Math.max(worstCov, Math.abs(zc));
                assertTrue(Math.abs(zc) < MAX_STANDARD_ERRORS, "cov(x" + r + ", x" + c + ") off by " + zc + " SE");
            }
        }
        System.out.printf("generate 1e6 x 10: %.1f s (%d partitions); max |mean dev| %.2f SE, max |cov dev| %.2f SE%n",
                seconds, result.partitions(), worstMean, worstCov);

        JsonNode provenance = new ObjectMapper().readTree(out.resolve("_scoremix.json").toFile());
        assertEquals("scoremix.provenance/v1", provenance.get("format").asText());
        assertEquals("generate", provenance.get("command").asText());
        assertEquals(n, provenance.get("n").asLong());
        assertEquals(GenerateConfig.DEFAULT_SEED, provenance.get("seed").asLong());
        assertEquals("general-10d", provenance.get("spec").get("name").asText());
        assertEquals(result.partitions(), provenance.get("partitions").asInt());
        assertEquals("parquet", provenance.get("outputFormat").asText());
        assertTrue(provenance.get("versions").get("spark").asText().startsWith("4."));
        assertEquals(List.of("general-10d"), leftovers(tmp));
    }

    /** Count, then sums of a, a a^T and a_r^2 a_c^2 with a = x - centre, as [n, s1(d), s2(d*d), s4(d*d)]. */
    static double[] centredMoments(Dataset<Row> data, double[] centre, int d) {
        return data.javaRDD().mapPartitions((java.util.Iterator<Row> rows) -> {
            double[] acc = new double[1 + d + 2 * d * d];
            double[] a = new double[d];
            while (rows.hasNext()) {
                Row row = rows.next();
                acc[0]++;
                for (int r = 0; r < d; r++) {
                    a[r] = row.getDouble(r) - centre[r];
                    acc[1 + r] += a[r];
                }
                for (int r = 0; r < d; r++) {
                    int o = r * d;
                    for (int c = 0; c < d; c++) {
                        double p = a[r] * a[c];
                        acc[1 + d + o + c] += p;
                        acc[1 + d + d * d + o + c] += p * p;
                    }
                }
            }
            return List.of(acc).iterator();
        }).reduce((x, y) -> {
            double[] s = x.clone();
            for (int i = 0; i < s.length; i++) {
                s[i] += y[i];
            }
            return s;
        });
    }

    /** The rows are the global sequence of the seed: same multiset whatever the partitioning; seeds differ. */
    @Test
    void rowsDependOnSeedAndNOnlyNotOnPartitioning() throws IOException {
        long n = 10_007;
        double[][] three = readSorted(generate(n, 3, 7L, OutputFormat.PARQUET, "p3"));
        double[][] seven = readSorted(generate(n, 7, 7L, OutputFormat.PARQUET, "p7"));
        double[][] other = readSorted(generate(n, 3, 8L, OutputFormat.PARQUET, "seed8"));
        assertEquals(n, three.length);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(three[i], seven[i], "row " + i + " of the sorted output");
        }
        assertFalse(Arrays.deepEquals(three, other), "seeds 7 and 8 gave the same rows");

        // And they are exactly core-math's draws with counter = global row index.
        GaussianMixture mixture = spec("general-10d").mixture();
        double[] flat = new double[(int) n * 10];
        mixture.sample(CounterRandom.of(7L), GenerateJob.STREAM, 0, (int) n, flat);
        assertTrue(Arrays.deepEquals(three, sortRows(flat, 10)), "output differs from the direct draws");
    }

    /** CSV: a header x0..x9 in every part file, N rows in total, values that read back exactly. */
    @Test
    void csvHasHeaderAndAllRowsExactly() throws IOException {
        long n = 50_000;
        Path out = generate(n, 3, 11L, OutputFormat.CSV, "csv");
        List<Path> parts;
        try (Stream<Path> files = Files.list(out)) {
            parts = files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().collect(Collectors.toList());
        }
        assertFalse(parts.isEmpty());
        String header = String.join(",", GenerateJob.columnNames(10));
        List<double[]> rows = new ArrayList<>();
        for (Path part : parts) {
            List<String> lines = Files.readAllLines(part, StandardCharsets.UTF_8);
            assertEquals(header, lines.get(0), part.toString());
            for (String line : lines.subList(1, lines.size())) {
                rows.add(Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray());
            }
        }
        assertEquals(n, rows.size());
        assertEquals(n, spark.read().option("header", "true").csv(out.toString()).count());

        double[] flat = new double[(int) n * 10];
        spec("general-10d").mixture().sample(CounterRandom.of(11L), GenerateJob.STREAM, 0, (int) n, flat);
        double[][] got = rows.toArray(new double[0][]);
        Arrays.sort(got, LEXICOGRAPHIC);
        assertTrue(Arrays.deepEquals(sortRows(flat, 10), got), "CSV values differ from the draws");
    }

    @Test
    void failedTaskLeavesNoOutputAndNoTemporaryDirectory() throws IOException {
        Path out = tmp.resolve("failing");
        GenerateConfig config = config("general-10d", 30_000, out).partitions(3).failPartition(1).build();
        Exception e = assertThrows(Exception.class, () -> new GenerateJob(config).run(spark));
        assertTrue(messages(e).contains("injected failure"), messages(e));
        assertFalse(Files.exists(out));
        assertEquals(List.of(), leftovers(tmp));
    }

    @Test
    void existingOutputIsKeptWithoutOverwriteAndReplacedWithIt() throws IOException {
        Path out = generate(1000, 2, 1L, OutputFormat.PARQUET, "existing");
        List<String> before = listing(out);
        BadInputException refused = assertThrows(BadInputException.class,
                () -> new GenerateJob(config("blobs-2d", 500, out).build()).run(spark));
        assertTrue(refused.getMessage().contains("already exists (pass --overwrite to replace it)"), refused.getMessage());
        assertEquals(before, listing(out));

        new GenerateJob(config("blobs-2d", 500, out).overwrite(true).format(OutputFormat.CSV).build()).run(spark);
        assertEquals(500, spark.read().option("header", "true").csv(out.toString()).count());
        assertEquals(List.of("existing"), leftovers(tmp));
    }

    @Test
    void overwriteRefusesADirectoryThatIsNotAScoremixOutput() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("precious"));
        Files.writeString(out.resolve("thesis.tex"), "do not delete");
        BadInputException e = assertThrows(BadInputException.class,
                () -> new GenerateJob(config("blobs-2d", 10, out).overwrite(true).build()).run(spark));
        assertTrue(e.getMessage().contains("not a scoremix output"), e.getMessage());
        assertTrue(Files.exists(out.resolve("thesis.tex")));
        assertEquals(List.of("precious"), leftovers(tmp));
    }

    @Test
    void partitionsCoverTheRowsContiguouslyAndEvenly() {
        for (long n : new long[] {1, 7, 1000, 1_000_003, 5_000_000_000L}) {
            for (int p : new int[] {1, 2, 3, 16, 1000}) {
                assertEquals(0, GenerateJob.rowStart(n, p, 0));
                assertEquals(n, GenerateJob.rowStart(n, p, p));
                for (int i = 0; i < Math.min(p, 50); i++) {
                    long size = GenerateJob.rowStart(n, p, i + 1) - GenerateJob.rowStart(n, p, i);
                    assertTrue(size == n / p || size == n / p + 1, "n=" + n + " P=" + p + " i=" + i);
                }
            }
        }
        assertEquals(2, GenerateJob.partitionsFor(1_000_000, 10, 2));
        assertEquals(10, GenerateJob.partitionsFor(10_000_000, 10, 2));
        assertEquals(3, GenerateJob.partitionsFor(3, 10, 8));
        assertEquals(8, GenerateJob.partitionsFor(1_000, 2, 8));
    }

    private Path generate(long n, int partitions, long seed, OutputFormat format, String name) throws IOException {
        Path out = tmp.resolve(name);
        new GenerateJob(config("general-10d", n, out).partitions(partitions).seed(seed).format(format).build())
                .run(spark);
        return out;
    }

    private double[][] readSorted(Path out) {
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        double[][] got = new double[rows.size()][];
        for (int i = 0; i < got.length; i++) {
            Row row = rows.get(i);
            got[i] = new double[row.size()];
            for (int c = 0; c < row.size(); c++) {
                got[i][c] = row.getDouble(c);
            }
        }
        Arrays.sort(got, LEXICOGRAPHIC);
        return got;
    }

    static final Comparator<double[]> LEXICOGRAPHIC = Arrays::compare;

    static double[][] sortRows(double[] flat, int d) {
        double[][] rows = new double[flat.length / d][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        Arrays.sort(rows, LEXICOGRAPHIC);
        return rows;
    }

    /** Names in dir, hidden ones (temporary siblings) included, sorted. */
    static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.map(p -> {
                try {
                    return dir.relativize(p) + " " + Files.size(p) + " " + Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().collect(Collectors.toList());
        }
    }

    /** The messages of e and its causes, one per line. */
    static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null && all.length() < 100_000; t = t.getCause()) {
            all.append(t).append('\n');
        }
        return all.toString();
    }
}
