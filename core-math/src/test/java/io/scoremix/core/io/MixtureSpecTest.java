package io.scoremix.core.io;

import io.scoremix.core.mixture.GaussianMixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code scoremix.gmm/v1} reader and writer: every validation rule reports source, JSON location and
 * problem; write then read is bit-exact; the benchmark instances load.
 */
class MixtureSpecTest {

    private static final String SRC = "spec.json";
    private static final String GOOD_COMPONENTS = "[{\"weight\": 0.5, \"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]},"
            + " {\"weight\": 0.5, \"mean\": [1, 2], \"covariance\": [[2, 0.5], [0.5, 1]]}]";

    /** A two-component 2-D document with the given components. */
    private static String doc(String components) {
        return "{\"format\": \"scoremix.gmm/v1\", \"name\": \"t\", \"dimension\": 2, \"components\": " + components + "}";
    }

    /** The good document with component 1 replaced. */
    private static String withSecond(String weight, String mean, String covariance) {
        return doc("[{\"weight\": 0.5, \"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]}, {\"weight\": " + weight
                + ", \"mean\": " + mean + ", \"covariance\": " + covariance + "}]");
    }

    /** Parses {@code json}, expecting a failure at {@code location} whose problem contains every fragment. */
    private static SpecFormatException fails(String json, String location, String... problem) {
        SpecFormatException e = assertThrows(SpecFormatException.class, () -> MixtureSpec.parse(json, SRC));
        assertEquals(SRC, e.source(), e.getMessage());
        assertEquals(location, e.location(), e.getMessage());
        assertTrue(e.getMessage().startsWith(SRC + ": " + location + ": "), e.getMessage());
        for (String p : problem) {
            assertTrue(e.problem().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
        }
        return e;
    }

    static Path instance(String name) {
        try {
            return Path.of(MixtureSpecTest.class.getResource("/instances/" + name + ".json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    // --- the good path ------------------------------------------------------------------------------------

    @Test
    void parsesAValidDocumentAndIgnoresUnknownTopLevelFields() {
        String json = "{\"format\": \"scoremix.gmm/v1\", \"name\": \"t\", \"dimension\": 2, \"extra\": {\"x\": [1, [2]]},"
                + " \"version\": 7, \"components\": " + GOOD_COMPONENTS + "}";
        MixtureSpec s = MixtureSpec.parse(json, SRC);
        assertEquals("t", s.name());
        assertEquals("", s.description());
        assertEquals(2, s.mixture().dimension());
        assertEquals(2, s.mixture().components());
        assertEquals(0.5, s.mixture().covariance(1)[0][1]);
        assertEquals(2.0, s.mixture().mean(1)[1]);
    }

    @ParameterizedTest
    @CsvSource({"blobs-2d, 2, 3", "far-1d, 1, 2", "general-10d, 10, 4", "many-5d, 5, 12", "pancakes-8d, 8, 3",
            "wide-50d, 50, 5"})
    void benchmarkInstancesLoad(String name, int d, int k) throws IOException {
        Path file = instance(name);
        MixtureSpec s = MixtureSpec.read(file);
        assertEquals(name, s.name());
        assertEquals(d, s.mixture().dimension());
        assertEquals(k, s.mixture().components());
        assertTrue(!s.description().isEmpty());
        // The exact text round trip holds for the files as shipped too.
        assertBitIdentical(s.mixture(), MixtureSpec.parse(s.toJson(), "<string>").mixture());
    }

    // --- round trips ------------------------------------------------------------------------------------------

    static void assertBitIdentical(GaussianMixture a, GaussianMixture b) {
        assertEquals(a.dimension(), b.dimension());
        assertEquals(a.components(), b.components());
        int d = a.dimension();
        for (int i = 0; i < a.components(); i++) {
            assertEquals(Double.doubleToRawLongBits(a.weight(i)), Double.doubleToRawLongBits(b.weight(i)),
                    "weight " + i + ": " + a.weight(i) + " vs " + b.weight(i));
            double[] ma = a.mean(i);
            double[] mb = b.mean(i);
            double[][] ca = a.covariance(i);
            double[][] cb = b.covariance(i);
            for (int r = 0; r < d; r++) {
                assertEquals(Double.doubleToRawLongBits(ma[r]), Double.doubleToRawLongBits(mb[r]), "mean " + i + "," + r);
                for (int c = 0; c < d; c++) {
                    assertEquals(Double.doubleToRawLongBits(ca[r][c]), Double.doubleToRawLongBits(cb[r][c]),
                            "covariance " + i + "," + r + "," + c);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"blobs-2d", "far-1d", "general-10d", "many-5d", "pancakes-8d", "wide-50d"})
    void writeThenReadIsBitExact(String name, @TempDir Path dir) throws IOException {
        MixtureSpec s = MixtureSpec.read(instance(name));
        Path out = dir.resolve(name + ".json");
        s.write(out);
        MixtureSpec back = MixtureSpec.read(out);
        assertEquals(s.name(), back.name());
        assertEquals(s.description(), back.description());
        assertBitIdentical(s.mixture(), back.mixture());
        // Writing the re-read spec gives the same bytes: the format is a fixed point.
        assertEquals(s.toJson(), back.toJson());
    }

    @Test
    void awkwardDoublesRoundTripExactly(@TempDir Path dir) throws IOException {
        // Weights with no short decimal form, tiny, subnormal and negative-zero entries, large magnitudes.
        double w0 = 0.1 + 0.2;
        double w1 = 1.0 / 3.0;
        double[] weights = {w0 / (w0 + w1 + 1e-3), w1 / (w0 + w1 + 1e-3), 1e-3 / (w0 + w1 + 1e-3)};
        double[][] means = {{4.9e-324, -0.0, 1e300}, {Math.PI, -Math.E, 1.0 / 7}, {Double.MIN_NORMAL, 123456789.123456789, -1e-17}};
        double[][][] covs = new double[3][][];
        for (int i = 0; i < 3; i++) {
            covs[i] = new double[][]{{1.0 / 3 + i, -0.0, 1e-9 / 7}, {-0.0, 2.0 / 3, 0.1}, {1e-9 / 7, 0.1, 1e200}};
        }
        GaussianMixture m = GaussianMixture.of(weights, means, covs);
        MixtureSpec s = MixtureSpec.of("awkward \"quoted\" \u00e9\u4e2d", "line one\nline two\ttab \\ backslash", m);
        Path out = dir.resolve("awkward.json");
        s.write(out);
        MixtureSpec back = MixtureSpec.read(out);
        assertEquals(s.name(), back.name());
        assertEquals(s.description(), back.description());
        assertBitIdentical(m, back.mixture());
        // And the parsed values are the values given, not only those after a first round.
        for (int i = 0; i < 3; i++) {
            for (int r = 0; r < 3; r++) {
                assertEquals(Double.doubleToRawLongBits(means[i][r]), Double.doubleToRawLongBits(back.mixture().mean(i)[r]));
            }
        }
    }

    @Test
    void randomMixturesRoundTripBitExact() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(99);
        for (int rep = 0; rep < 300; rep++) {
            int k = 1 + r.nextInt(8);
            int d = 1 + r.nextInt(4);
            double[] w = new double[k];
            double[][] mu = new double[k][d];
            double[][][] q = new double[k][d][d];
            double sum = 0;
            for (int i = 0; i < k; i++) {
                w[i] = r.nextDouble() + 1e-3;
                sum += w[i];
                for (int a = 0; a < d; a++) {
                    mu[i][a] = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(-5, 6));
                    for (int b = 0; b <= a; b++) {
                        double v = a == b ? d + r.nextDouble() : r.nextDouble() - 0.5;
                        q[i][a][b] = v;
                        q[i][b][a] = v;
                    }
                }
            }
            for (int i = 0; i < k; i++) {
                w[i] /= sum;
            }
            MixtureSpec s = MixtureSpec.of("r" + rep, null, GaussianMixture.of(w, mu, q));
            assertBitIdentical(s.mixture(), MixtureSpec.parse(s.toJson(), "<string>").mixture());
        }
    }

    @Test
    void toJsonIsPrettyWithOneCovarianceRowPerLine() {
        MixtureSpec s = MixtureSpec.parse(doc(GOOD_COMPONENTS), SRC);
        String json = s.toJson();
        List<String> lines = json.lines().map(String::strip).collect(Collectors.toList());
        assertEquals("{", lines.get(0));
        assertEquals("\"format\": \"scoremix.gmm/v1\",", lines.get(1));
        assertTrue(lines.contains("\"mean\": [1.0, 2.0],"), json);
        assertTrue(lines.contains("[2.0, 0.5],"), json);
        assertTrue(lines.contains("[0.5, 1.0]"), json);
        assertTrue(!json.contains("description"), "empty description is omitted: " + json);
        assertTrue(MixtureSpec.of("n", "text", s.mixture()).toJson().contains("\"description\": \"text\""));
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTemporaryFiles(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("m.json");
        Files.writeString(out, "old content");
        MixtureSpec s = MixtureSpec.read(instance("blobs-2d"));
        s.write(out);
        assertEquals(s.toJson() + "\n", Files.readString(out, StandardCharsets.UTF_8));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(out), files.collect(Collectors.toList()));
        }
        Path missingDir = dir.resolve("no-such-dir").resolve("m.json");
        assertThrows(IOException.class, () -> s.write(missingDir));
    }

    @Test
    void ofRejectsNullNameAndMapsNullDescriptionToEmpty() {
        GaussianMixture m = MixtureSpec.parse(doc(GOOD_COMPONENTS), SRC).mixture();
        assertThrows(IllegalArgumentException.class, () -> MixtureSpec.of(null, "x", m));
        assertThrows(IllegalArgumentException.class, () -> MixtureSpec.of("x", "x", null));
        assertEquals("", MixtureSpec.of("x", null, m).description());
    }

    // --- documents that are not JSON ----------------------------------------------------------------------

    @Test
    void notJson() {
        fails("this is not json", "line 1, column 1", "not valid JSON", "Unrecognized token 'this'");
        fails("{\"format\": \"scoremix.gmm/v1\", }", "line 1, column 31", "not valid JSON");
        fails("{\"format\": NaN}", "line 1, column 15", "not valid JSON", "NaN");
    }

    @Test
    void truncatedJson() {
        fails(doc(GOOD_COMPONENTS).substring(0, 60), "line 1, column 61", "truncated JSON");
        fails("{\"format\": \"scoremix.gm", "line 1, column 24", "truncated JSON");
    }

    @Test
    void emptyDocumentTrailingContentAndDuplicateKeys() {
        fails("", "$", "empty document");
        fails("   \n ", "$", "empty document");
        fails(doc(GOOD_COMPONENTS) + " {}", "line 1, column " + (doc(GOOD_COMPONENTS).length() + 2), "not valid JSON", "railing");
        fails("{\"name\": \"a\", \"name\": \"b\"}", "line 1, column 21", "not valid JSON", "Duplicate field 'name'");
    }

    @Test
    void topLevelNotAnObject() {
        fails("[1, 2]", "$", "top level must be a JSON object", "found an array");
        fails("\"scoremix.gmm/v1\"", "$", "top level must be a JSON object", "found string");
        fails("42", "$", "top level must be a JSON object", "found number 42");
    }

    // --- format, name, description ------------------------------------------------------------------------

    @Test
    void formatMissingOrWrong() {
        fails("{\"name\": \"t\"}", "format", "missing", "scoremix.gmm/v1");
        fails("{\"format\": \"scoremix.gmm/v2\", \"name\": \"t\"}", "format",
                "unsupported version \"scoremix.gmm/v2\"", "supports only \"scoremix.gmm/v1\"");
        fails("{\"format\": \"scoremix.model/v1\"}", "format", "\"scoremix.model/v1\" is not a scoremix mixture spec",
                "expected \"scoremix.gmm/v1\"");
        fails("{\"format\": 1}", "format", "must be the string \"scoremix.gmm/v1\"", "found number 1");
        fails("{\"format\": null}", "format", "found null");
    }

    @Test
    void nameAndDescription() {
        String good = doc(GOOD_COMPONENTS);
        fails(good.replace("\"name\": \"t\", ", ""), "name", "missing");
        fails(good.replace("\"name\": \"t\"", "\"name\": 3"), "name", "must be a string", "found number 3");
        fails(good.replace("\"name\": \"t\"", "\"name\": \"t\", \"description\": [\"x\"]"), "description",
                "must be a string", "found an array");
        assertEquals("about", MixtureSpec.parse(good.replace("\"name\": \"t\"", "\"name\": \"t\", \"description\": \"about\""),
                SRC).description());
    }

    // --- dimension ---------------------------------------------------------------------------------------------

    @Test
    void dimensionMissingNonIntegerNonPositiveOrTooLarge() {
        String good = doc(GOOD_COMPONENTS);
        fails(good.replace("\"dimension\": 2, ", ""), "dimension", "missing");
        fails(good.replace("\"dimension\": 2", "\"dimension\": \"2\""), "dimension", "must be an integer", "found string \"2\"");
        fails(good.replace("\"dimension\": 2", "\"dimension\": 2.5"), "dimension", "must be an integer", "found number 2.5");
        fails(good.replace("\"dimension\": 2", "\"dimension\": true"), "dimension", "must be an integer", "found boolean");
        fails(good.replace("\"dimension\": 2", "\"dimension\": 0"), "dimension", "must be positive", "found 0");
        fails(good.replace("\"dimension\": 2", "\"dimension\": -3"), "dimension", "must be positive", "found -3");
        fails(good.replace("\"dimension\": 2", "\"dimension\": 100001"), "dimension", "100001 exceeds the limit of 100000");
        fails(good.replace("\"dimension\": 2", "\"dimension\": 123456789012345678901234567890"), "dimension",
                "exceeds the limit of 100000");
        // An integral float is an integer.
        assertEquals(2, MixtureSpec.parse(good.replace("\"dimension\": 2", "\"dimension\": 2.0"), SRC).mixture().dimension());
    }

    // --- components ----------------------------------------------------------------------------------------------

    @Test
    void componentsMissingNotAnArrayEmptyOrTooMany() {
        fails("{\"format\": \"scoremix.gmm/v1\", \"name\": \"t\", \"dimension\": 2}", "components", "missing");
        fails(doc("{\"weight\": 1}"), "components", "must be an array", "found an object");
        fails(doc("[]"), "components", "empty", "at least one component");
        String many = Stream.generate(() -> "{}").limit(100_001).collect(Collectors.joining(",", "[", "]"));
        fails(doc(many), "components", "100001 components exceed the limit of 100000");
    }

    @Test
    void componentNotAnObject() {
        fails(doc("[{\"weight\": 1, \"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]}, 5]"), "components[1]",
                "must be an object", "found number 5");
        fails(doc("[[1]]"), "components[0]", "must be an object", "found an array");
    }

    @Test
    void weightRules() {
        String mean = "[1, 2]";
        String cov = "[[1, 0], [0, 1]]";
        fails(doc("[{\"weight\": 0.5, \"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]}, {\"mean\": [0, 0], \"covariance\": [[1, 0], [0, 1]]}]"),
                "components[1].weight", "missing");
        fails(withSecond("\"0.5\"", mean, cov), "components[1].weight", "must be a number", "found string \"0.5\"");
        fails(withSecond("null", mean, cov), "components[1].weight", "must be a number", "found null");
        fails(withSecond("\"NaN\"", mean, cov), "components[1].weight", "must be a number", "found string \"NaN\"");
        fails(withSecond("1e400", mean, cov), "components[1].weight", "not finite", "Infinity");
        fails(withSecond("0", mean, cov), "components[1].weight", "must be positive", "got 0.0");
        fails(withSecond("-0.5", mean, cov), "components[1].weight", "must be positive", "got -0.5");
        fails(withSecond("0.4", mean, cov), "components", "weights sum to 0.9", "not 1");
        fails(withSecond("0.5000001", mean, cov), "components", "weights sum to", "1.0E-9");
        // Within the relative tolerance 1e-9 the weights are accepted.
        assertEquals(2, MixtureSpec.parse(withSecond("0.5000000001", mean, cov), SRC).mixture().components());
    }

    @Test
    void meanRules() {
        String cov = "[[1, 0], [0, 1]]";
        fails(doc("[{\"weight\": 1, \"covariance\": [[1, 0], [0, 1]]}]"), "components[0].mean", "missing");
        fails(withSecond("0.5", "{\"x\": 1}", cov), "components[1].mean", "must be an array", "found an object");
        fails(withSecond("0.5", "1.5", cov), "components[1].mean", "must be an array", "found number 1.5");
        fails(withSecond("0.5", "[1, 2, 3]", cov), "components[1].mean", "has 3 entries", "dimension is 2");
        fails(withSecond("0.5", "[1]", cov), "components[1].mean", "has 1 entries", "dimension is 2");
        fails(withSecond("0.5", "[1, \"NaN\"]", cov), "components[1].mean[1]", "must be a number", "found string \"NaN\"");
        fails(withSecond("0.5", "[1, \"Infinity\"]", cov), "components[1].mean[1]", "must be a number", "found string \"Infinity\"");
        fails(withSecond("0.5", "[[1], 2]", cov), "components[1].mean[0]", "must be a number", "found an array");
        fails(withSecond("0.5", "[1e400, 2]", cov), "components[1].mean[0]", "not finite", "(Infinity)");
        fails(withSecond("0.5", "[1, -1e400]", cov), "components[1].mean[1]", "not finite", "(-Infinity)");
    }

    @Test
    void meanDimensionDisagreesWithDeclaredDimension() {
        // Every component agrees with the others but not with "dimension".
        String json = doc(GOOD_COMPONENTS).replace("\"dimension\": 2", "\"dimension\": 3");
        fails(json, "components[0].mean", "has 2 entries, but the dimension is 3");
    }

    @Test
    void covarianceShapeRules() {
        String mean = "[1, 2]";
        fails(doc("[{\"weight\": 1, \"mean\": [0, 0]}]"), "components[0].covariance", "missing");
        fails(withSecond("0.5", mean, "\"identity\""), "components[1].covariance", "must be an array", "found string");
        fails(withSecond("0.5", mean, "[[1, 0], [0, 1], [0, 0]]"), "components[1].covariance", "has 3 rows, expected 2");
        fails(withSecond("0.5", mean, "[[1, 0]]"), "components[1].covariance", "has 1 rows, expected 2");
        fails(withSecond("0.5", mean, "[[1, 0], [0, 1, 0]]"), "components[1].covariance[1]", "has length 3, expected 2");
        fails(withSecond("0.5", mean, "[[1, 0], 7]"), "components[1].covariance[1]", "must be an array", "found number 7");
    }

    @Test
    void covarianceValueRules() {
        String mean = "[1, 2]";
        fails(withSecond("0.5", mean, "[[1, \"0\"], [0, 1]]"), "components[1].covariance[0][1]", "must be a number",
                "found string \"0\"");
        fails(withSecond("0.5", mean, "[[1, 0], [0, null]]"), "components[1].covariance[1][1]", "must be a number", "found null");
        fails(withSecond("0.5", mean, "[[1, 1e400], [1e400, 1]]"), "components[1].covariance[0][1]", "not finite", "Infinity");
        fails(withSecond("0.5", mean, "[[1, 0.5], [0.4, 1]]"), "components[1].covariance", "not symmetric",
                "[1][0] = 0.4", "[0][1] = 0.5");
        fails(withSecond("0.5", mean, "[[1, 2], [2, 1]]"), "components[1].covariance", "not positive definite", "pivot 1");
        fails(withSecond("0.5", mean, "[[-1, 0], [0, 1]]"), "components[1].covariance", "not positive definite", "pivot 0");
    }

    // --- abuse guards ----------------------------------------------------------------------------------------------

    @Test
    void deepNestingIsRefused() {
        String deep = "[".repeat(200) + "]".repeat(200);
        fails("{\"format\": \"scoremix.gmm/v1\", \"junk\": " + deep + "}", "line 1, column 103",
                "exceeds a parser limit", "nesting depth (65) exceeds the maximum allowed (64");
        fails("{\"format\": \"scoremix.gmm/v1\", \"junk\": " + "1".repeat(2000) + "}", "line 1, column 2039",
                "exceeds a parser limit", "Number value length");
    }

    @Test
    void oversizedArraysAreRefusedBeforeConversion() {
        String huge = Stream.generate(() -> "0").limit(100_001).collect(Collectors.joining(",", "[", "]"));
        fails(withSecond("0.5", huge, "[[1, 0], [0, 1]]"), "components[1].mean", "100001 entries",
                "dimension limit of 100000");
        fails(withSecond("0.5", "[1, 2]", "[[1, 0], " + huge + "]"), "components[1].covariance[1]", "100001 entries",
                "dimension limit of 100000");
    }

    @Test
    void oversizedFileIsRefusedBeforeReading(@TempDir Path dir) throws IOException {
        Path big = dir.resolve("big.json");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(MixtureSpec.MAX_BYTES + 1); // sparse: no data is written
        }
        SpecFormatException e = assertThrows(SpecFormatException.class, () -> MixtureSpec.read(big));
        assertEquals(big.toString(), e.source());
        assertEquals("$", e.location());
        assertTrue(e.problem().contains("268435457 bytes") && e.problem().contains("256 MiB"), e.getMessage());
    }

    @Test
    void readNamesTheFileInMessagesAndReportsMissingFiles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("blobs.json");
        Files.writeString(f, withSecond("0.5", "[1, 2]", "[[1, 2], [2, 1]]"));
        SpecFormatException e = assertThrows(SpecFormatException.class, () -> MixtureSpec.read(f));
        assertEquals(f + ": components[1].covariance: not positive definite (Cholesky factorisation fails at pivot 1)",
                e.getMessage());
        assertThrows(NoSuchFileException.class, () -> MixtureSpec.read(dir.resolve("absent.json")));
        SpecFormatException s = assertThrows(SpecFormatException.class, () -> MixtureSpec.parse("[]", "<string>"));
        assertTrue(s.getMessage().startsWith("<string>: $: "), s.getMessage());
    }
}
