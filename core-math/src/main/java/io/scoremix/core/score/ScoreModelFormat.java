package io.scoremix.core.score;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.features.FeatureMap;
import io.scoremix.core.features.FeatureSpec;
import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.mixture.Whitening;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The {@code scoremix.model/v1} format: a folder with {@code model.json} (whitening, crude mixture,
 * target, per level the cells, gate, feature spec and coefficient offsets, plus free-form config and
 * provenance objects) and {@code coefficients.bin} (little-endian IEEE doubles) whose SHA-256 and length
 * are in model.json. Never Java serialization. Loading validates everything and names the file and the
 * JSON location of a problem; a truncated or corrupted coefficient file is caught by its checksum.
 *
 * <p>model.json checks itself too: its first entry, {@code "content_sha256"}, is the SHA-256 of the
 * document as it would read without that entry (the bytes {@code "{"} followed by everything after the
 * entry's line), so a changed digit anywhere in the file is caught even where no Hadoop {@code .crc} file
 * travels with it. Files without the entry (written before it existed) are read unchecked.
 *
 * <p>{@link #encode}/{@link #decode} work on bytes so the Spark job can write through any Hadoop file
 * system; {@link #save}/{@link #load} are the local-file convenience, {@code save} writing a temporary
 * sibling folder and renaming it so nothing half-written is ever visible under the final name.
 */
public final class ScoreModelFormat {

    public static final String FORMAT = "scoremix.model/v1";
    public static final String MODEL_JSON = "model.json";
    public static final String COEFFICIENTS = "coefficients.bin";
    /** Refuse larger coefficient files before reading them (2^31 doubles would overflow arrays anyway). */
    static final long MAX_COEFFICIENT_BYTES = 8L * (Integer.MAX_VALUE - 8);
    static final long MAX_JSON_BYTES = 256L << 20;
    /** Largest dimension, number of crude components and number of levels a file may declare. */
    static final int MAX_DIMENSION = 100_000;
    static final int MAX_COMPONENTS = 100_000;
    static final int MAX_LEVELS = 4096;
    /** Largest feature degree (LearnerConfig's range). */
    static final int MAX_DEGREE = 8;
    /** Deepest JSON nesting read (the format needs 6 levels; metadata objects get the rest). */
    static final int MAX_NESTING = 64;

    /*
     * Reading is defensive: duplicate keys are errors, nesting is limited, and every count a file declares
     * (dimension, components, levels, doubles) is checked against the length of the file that would have
     * to hold it before anything of that size is allocated or computed, so a hostile or damaged file is
     * rejected with a message instead of exhausting memory or time.
     */
    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private ScoreModelFormat() {
    }

    /** The two files of a saved model. */
    public record Encoded(byte[] modelJson, byte[] coefficients) {
    }

    /**
     * Encodes a model.
     *
     * @param metadata free-form objects stored under their keys in model.json (e.g. "config",
     *                 "provenance", "feature_names", "metrics"); values are converted by Jackson
     */
    public static Encoded encode(ScoreModel model, Map<String, ?> metadata) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        int d = model.dimension();
        root.put("dimension", d);
        root.put("target", model.target().name().toLowerCase(java.util.Locale.ROOT));
        Whitening w = model.whitening();
        ObjectNode wn = root.putObject("whitening");
        putArray(wn, "mean", w.mean());
        putArray(wn, "matrix", w.matrix());
        putArray(wn, "inverse_matrix", w.inverseMatrix());
        putArray(wn, "eigenvalues", w.eigenvalues());
        wn.put("floor", w.floor());
        wn.put("floored_count", w.flooredCount());
        wn.put("log_abs_det", w.logAbsDetW());
        root.set("crude", mixtureNode(model.crude()));
        ArrayNode levels = root.putArray("levels");
        List<double[]> blocks = new ArrayList<>();
        long offset = 0;
        for (int l = 0; l < model.levelCount(); l++) {
            LevelModel level = model.level(l);
            ObjectNode ln = levels.addObject();
            ln.put("t", level.time);
            ArrayNode cellOf = ln.putArray("cell_of_component");
            for (int c : level.cells.cellOfComponents()) {
                cellOf.add(c);
            }
            ln.put("gate_radius2", Double.isInfinite(level.cells.gateRadius2()) ? "infinity"
                    : Double.toString(level.cells.gateRadius2()));
            ArrayNode cells = ln.putArray("cells");
            for (int c = 0; c < level.cells.count(); c++) {
                ObjectNode cn = cells.addObject();
                FeatureSpec spec = level.features[c].spec();
                ObjectNode fn = cn.putObject("features");
                fn.put("family", spec.family());
                fn.put("degree", spec.degree());
                putArray(fn, "center", spec.center());
                putArray(fn, "scale", spec.scale());
                // Inner variables (softmax, projected): absent for the older families, as in older files.
                if (spec.innerScale().length > 0) {
                    putArray(fn, "inner_center", spec.innerCenter());
                    putArray(fn, "inner_scale", spec.innerScale());
                }
                if (spec.directions().length > 0) {
                    putArray(fn, "directions", spec.directions());
                }
                double[] beta = level.coefficients[c];
                if (beta == null) {
                    cn.putNull("coefficients");
                } else {
                    ObjectNode co = cn.putObject("coefficients");
                    co.put("rows", level.rows[c]);
                    co.put("offset", offset);
                    co.put("count", beta.length);
                    blocks.add(beta);
                    offset += beta.length;
                }
            }
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 * offset)).order(ByteOrder.LITTLE_ENDIAN);
        for (double[] b : blocks) {
            for (double v : b) {
                buf.putDouble(v);
            }
        }
        byte[] coefficients = buf.array();
        ObjectNode cf = root.putObject("coefficient_file");
        cf.put("name", COEFFICIENTS);
        cf.put("doubles", offset);
        cf.put("sha256", sha256(coefficients));
        if (metadata != null) {
            for (Map.Entry<String, ?> e : metadata.entrySet()) {
                root.set(e.getKey(), JSON.valueToTree(e.getValue()));
            }
        }
        try {
            return new Encoded(withContentChecksum(JSON.writeValueAsBytes(root)), coefficients);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode model.json", e);
        }
    }

    /**
     * Decodes and validates a model.
     *
     * @param source names the model in messages (e.g. its folder)
     * @throws IllegalArgumentException naming the source, the location and the problem
     */
    public static ScoreModel decode(byte[] modelJson, byte[] coefficients, String source) {
        if (modelJson == null || coefficients == null) {
            throw bad(source, modelJson == null ? MODEL_JSON : COEFFICIENTS, "no content");
        }
        if (modelJson.length > MAX_JSON_BYTES) {
            throw bad(source, MODEL_JSON, "has " + modelJson.length + " bytes, more than the " + MAX_JSON_BYTES + " allowed");
        }
        try {
            return decodeChecked(modelJson, coefficients, source);
        } catch (ModelFormatProblem e) {
            throw e;
        } catch (RuntimeException e) {
            // A safety net: a content the checks above did not foresee still fails as a format problem.
            throw bad(source, MODEL_JSON, "invalid content (" + e + ")");
        }
    }

    private static ScoreModel decodeChecked(byte[] modelJson, byte[] coefficients, String source) {
        checkContentChecksum(modelJson, source);
        JsonNode root;
        try {
            root = JSON.readTree(modelJson);
        } catch (JsonProcessingException e) {
            throw bad(source, MODEL_JSON, "not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw bad(source, MODEL_JSON, "cannot be read (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw bad(source, MODEL_JSON, "the top level is not a JSON object");
        }
        String format = root.path("format").asText(null);
        if (!FORMAT.equals(format)) {
            throw bad(source, "format", format == null ? "missing; expected \"" + FORMAT + "\""
                    : "\"" + format + "\" is not supported; this version reads \"" + FORMAT + "\"");
        }
        int d = positiveInt(root, "dimension", source, MAX_DIMENSION);
        // The whitening alone holds two d x d matrices of numbers, each at least one character and a comma.
        if (4L * d * d > modelJson.length) {
            throw bad(source, "dimension", d + " cannot be right: model.json (" + modelJson.length
                    + " bytes) is too short to hold the whitening of " + d + " x " + d + " numbers");
        }
        ScoreModel.Target target;
        String t = root.path("target").asText("");
        switch (t) {
            case "residual" -> target = ScoreModel.Target.RESIDUAL;
            case "paper" -> target = ScoreModel.Target.PAPER;
            default -> throw bad(source, "target", "expected \"residual\" or \"paper\", got \"" + t + "\"");
        }
        JsonNode cf = root.path("coefficient_file");
        long doubles = cf.path("doubles").isIntegralNumber() ? cf.path("doubles").asLong(-1) : -1;
        if (doubles < 0 || doubles != coefficients.length / 8 || coefficients.length % 8 != 0) {
            throw bad(source, COEFFICIENTS, "has " + coefficients.length + " bytes but model.json declares "
                    + doubles + " doubles (" + 8 * doubles + " bytes): the file is truncated or does not belong to this model");
        }
        String expected = cf.path("sha256").asText("");
        String actual = sha256(coefficients);
        if (!expected.equalsIgnoreCase(actual)) {
            throw bad(source, COEFFICIENTS, "checksum mismatch (SHA-256 " + actual + ", model.json says " + expected
                    + "): the file is corrupted");
        }
        ByteBuffer buf = ByteBuffer.wrap(coefficients).order(ByteOrder.LITTLE_ENDIAN);
        try {
            JsonNode wn = root.path("whitening");
            Whitening whitening = Whitening.restore(array(wn, "mean", d, source, "whitening.mean"),
                    array(wn, "matrix", d * d, source, "whitening.matrix"),
                    array(wn, "inverse_matrix", d * d, source, "whitening.inverse_matrix"),
                    array(wn, "eigenvalues", d, source, "whitening.eigenvalues"),
                    wn.path("floor").asDouble(Double.NaN), wn.path("floored_count").asInt(-1),
                    wn.path("log_abs_det").asDouble(Double.NaN));
            GaussianMixture crude = mixture(root.path("crude"), d, source);
            JsonNode levelsNode = root.path("levels");
            if (!levelsNode.isArray() || levelsNode.isEmpty()) {
                throw bad(source, "levels", "missing or empty");
            }
            if (levelsNode.size() > MAX_LEVELS) {
                throw bad(source, "levels", levelsNode.size() + " levels exceed the limit of " + MAX_LEVELS);
            }
            List<LevelModel> levels = new ArrayList<>();
            for (int l = 0; l < levelsNode.size(); l++) {
                levels.add(level(levelsNode.get(l), l, crude, d, buf, doubles, source));
            }
            return new ScoreModel(whitening, crude, target, levels);
        } catch (ModelFormatProblem e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw bad(source, MODEL_JSON, e.getMessage());
        }
    }

    private static LevelModel level(JsonNode ln, int l, GaussianMixture crude, int d, ByteBuffer buf, long doubles,
                                    String source) {
        String where = "levels[" + l + "]";
        double time = ln.path("t").asDouble(Double.NaN);
        if (!(time > 0) || !Double.isFinite(time)) {
            throw bad(source, where + ".t", "must be a positive finite time, got " + ln.path("t"));
        }
        JsonNode cellOfNode = ln.path("cell_of_component");
        if (!cellOfNode.isArray() || cellOfNode.size() != crude.components()) {
            throw bad(source, where + ".cell_of_component", "must list a cell for each of the " + crude.components()
                    + " crude components");
        }
        int[] cellOf = new int[cellOfNode.size()];
        for (int i = 0; i < cellOf.length; i++) {
            JsonNode c = cellOfNode.get(i);
            if (!c.canConvertToInt() || !c.isIntegralNumber() || c.asInt() < 0 || c.asInt() >= cellOf.length) {
                throw bad(source, where + ".cell_of_component[" + i + "]", "must be a cell index in 0.."
                        + (cellOf.length - 1) + ", got " + c);
            }
            cellOf[i] = c.asInt();
        }
        String gate = ln.path("gate_radius2").asText("");
        double gateRadius2 = "infinity".equals(gate) ? Double.POSITIVE_INFINITY : parseDouble(gate, source, where + ".gate_radius2");
        GaussianMixture noised = crude.noised(time);
        Cells cells = Cells.restore(noised, cellOf, gateRadius2);
        JsonNode cellsNode = ln.path("cells");
        if (!cellsNode.isArray() || cellsNode.size() != cells.count()) {
            throw bad(source, where + ".cells", "must hold " + cells.count() + " cells");
        }
        FeatureMap[] features = new FeatureMap[cells.count()];
        double[][] beta = new double[cells.count()][];
        int[] rows = new int[cells.count()];
        for (int c = 0; c < cells.count(); c++) {
            String cw = where + ".cells[" + c + "]";
            JsonNode cn = cellsNode.get(c);
            JsonNode fn = cn.path("features");
            String family = fn.path("family").asText("");
            JsonNode degreeNode = fn.path("degree");
            if (!degreeNode.canConvertToInt() || !degreeNode.isIntegralNumber() || degreeNode.asInt() < 0
                    || degreeNode.asInt() > MAX_DEGREE) {
                throw bad(source, cw + ".features.degree", "must be an integer in 0.." + MAX_DEGREE + ", got " + degreeNode);
            }
            GaussianMixture cellMixture = cells.subMixture(c);
            // Inner variables: m - 1 ratios of the cell's components (softmax), r projections (projected).
            int inner = switch (family) {
                case FeatureSpec.SOFTMAX -> cellMixture.components() - 1;
                case FeatureSpec.PROJECTED -> fn.path("inner_scale").size();
                default -> 0;
            };
            if (FeatureSpec.PROJECTED.equals(family) && (inner < 1 || inner > d)) {
                throw bad(source, cw + ".features.inner_scale", "must hold a projection rank in 1.." + d + " of scales");
            }
            double[] innerCenter = inner == 0 ? null : array(fn, "inner_center", inner, source, cw + ".features.inner_center");
            double[] innerScale = inner == 0 ? null : array(fn, "inner_scale", inner, source, cw + ".features.inner_scale");
            double[] directions = FeatureSpec.PROJECTED.equals(family)
                    ? array(fn, "directions", d * inner, source, cw + ".features.directions") : null;
            FeatureSpec spec = new FeatureSpec(family, degreeNode.asInt(),
                    array(fn, "center", d, source, cw + ".features.center"),
                    array(fn, "scale", d, source, cw + ".features.scale"), directions, innerCenter, innerScale);
            features[c] = spec.build(noised, cellMixture);
            JsonNode co = cn.path("coefficients");
            if (co.isNull() || co.isMissingNode()) {
                continue;
            }
            int r = co.path("rows").canConvertToInt() ? co.path("rows").asInt(-1) : -1;
            long off = co.path("offset").isIntegralNumber() ? co.path("offset").asLong(-1) : -1;
            long count = co.path("count").isIntegralNumber() ? co.path("count").asLong(-1) : -1;
            if (r < 1 || r > features[c].size() || count != (long) r * d || off < 0 || off > doubles - count) {
                throw bad(source, cw + ".coefficients", "rows " + r + ", offset " + off + ", count " + count
                        + " do not fit the feature map (" + features[c].size() + " features, d = " + d
                        + ") and the coefficient file (" + doubles + " doubles)");
            }
            double[] b = new double[(int) count];
            for (int i = 0; i < b.length; i++) {
                b[i] = buf.getDouble((int) (8 * (off + i)));
                if (!Double.isFinite(b[i])) {
                    throw bad(source, cw + ".coefficients", "coefficient " + i + " is not finite");
                }
            }
            beta[c] = b;
            rows[c] = r;
        }
        return new LevelModel(time, cells, features, beta, rows);
    }

    /** Writes the model folder atomically: a temporary sibling is written, then renamed to {@code dir}. */
    public static void save(ScoreModel model, Map<String, ?> metadata, Path dir, boolean overwrite) throws IOException {
        Encoded e = encode(model, metadata);
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        if (Files.exists(dir) && !overwrite) {
            throw new FileAlreadyExistsException(dir.toString(), null, "the model folder exists; pass overwrite to replace it");
        }
        Path tmp = parent.resolve("." + dir.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectory(tmp);
            Files.write(tmp.resolve(COEFFICIENTS), e.coefficients());
            Files.write(tmp.resolve(MODEL_JSON), e.modelJson());
            if (Files.exists(dir)) {
                deleteTree(dir);
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException ex) {
                Files.move(tmp, dir);
            }
        } finally {
            if (Files.exists(tmp)) {
                deleteTree(tmp);
            }
        }
    }

    /** Loads and validates a model folder. */
    public static ScoreModel load(Path dir) throws IOException {
        Path json = dir.resolve(MODEL_JSON);
        Path bin = dir.resolve(COEFFICIENTS);
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(dir + ": not a scoremix model folder (no " + MODEL_JSON + ")");
        }
        if (!Files.isRegularFile(bin)) {
            throw new IllegalArgumentException(dir + ": " + COEFFICIENTS + " is missing");
        }
        if (Files.size(json) > MAX_JSON_BYTES || Files.size(bin) > MAX_COEFFICIENT_BYTES) {
            throw new IllegalArgumentException(dir + ": model files are too large (" + Files.size(json) + " and "
                    + Files.size(bin) + " bytes)");
        }
        return decode(Files.readAllBytes(json), Files.readAllBytes(bin), dir.toString());
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            Iterator<Path> it = walk.sorted(java.util.Comparator.reverseOrder()).iterator();
            while (it.hasNext()) {
                Files.deleteIfExists(it.next());
            }
        }
    }

    private static ObjectNode mixtureNode(GaussianMixture m) {
        ObjectNode n = JSON.createObjectNode();
        ArrayNode comps = n.putArray("components");
        for (int i = 0; i < m.components(); i++) {
            ObjectNode c = comps.addObject();
            c.put("weight", m.weight(i));
            putArray(c, "mean", m.mean(i));
            ArrayNode cov = c.putArray("covariance");
            for (double[] row : m.covariance(i)) {
                ArrayNode r = cov.addArray();
                for (double v : row) {
                    r.add(v);
                }
            }
        }
        return n;
    }

    private static GaussianMixture mixture(JsonNode n, int d, String source) {
        JsonNode comps = n.path("components");
        if (!comps.isArray() || comps.isEmpty() || comps.size() > 100_000) {
            throw bad(source, "crude.components", "missing, empty or too large");
        }
        int k = comps.size();
        double[] w = new double[k];
        double[][] mu = new double[k][];
        double[][][] q = new double[k][][];
        for (int i = 0; i < k; i++) {
            String where = "crude.components[" + i + "]";
            JsonNode c = comps.get(i);
            if (!c.path("weight").isNumber()) {
                throw bad(source, where + ".weight", "missing or not a number");
            }
            w[i] = c.path("weight").asDouble();
            mu[i] = array(c, "mean", d, source, where + ".mean");
            JsonNode cov = c.path("covariance");
            if (!cov.isArray() || cov.size() != d) {
                throw bad(source, where + ".covariance", "must have " + d + " rows");
            }
            q[i] = new double[d][];
            for (int r = 0; r < d; r++) {
                q[i][r] = array(cov, r, d, source, where + ".covariance[" + r + "]");
            }
        }
        try {
            return GaussianMixture.of(w, mu, q);
        } catch (IllegalArgumentException e) {
            throw bad(source, "crude", e.getMessage());
        }
    }

    private static void putArray(ObjectNode n, String key, double[] v) {
        ArrayNode a = n.putArray(key);
        for (double x : v) {
            a.add(x);
        }
    }

    private static double[] array(JsonNode parent, String key, int length, String source, String where) {
        return toArray(parent.path(key), length, source, where);
    }

    private static double[] array(JsonNode parent, int index, int length, String source, String where) {
        return toArray(parent.path(index), length, source, where);
    }

    private static double[] toArray(JsonNode a, int length, String source, String where) {
        if (!a.isArray() || a.size() != length) {
            throw bad(source, where, "must be an array of " + length + " numbers");
        }
        double[] v = new double[length];
        for (int i = 0; i < length; i++) {
            JsonNode x = a.get(i);
            if (!x.isNumber() || !Double.isFinite(x.asDouble())) {
                throw bad(source, where + "[" + i + "]", "is not a finite number (" + x + ")");
            }
            v[i] = x.asDouble();
        }
        return v;
    }

    private static int positiveInt(JsonNode root, String key, String source, int max) {
        JsonNode n = root.path(key);
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > max) {
            throw bad(source, key, "must be an integer in 1.." + max + ", got " + n);
        }
        return n.asInt();
    }

    private static double parseDouble(String s, String source, String where) {
        try {
            double v = Double.parseDouble(s);
            if (!(v > 0)) {
                throw bad(source, where, "must be positive, got " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(source, where, "is not a number (" + s + ")");
        }
    }

    /** The entry that opens model.json: {@code {\n  "content_sha256" : "}, the hex digest, then {@code ",}. */
    private static final byte[] CHECKSUM_OPENING = "{\n  \"content_sha256\" : \"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int SHA256_HEX = 64;

    /** Inserts the content checksum as the first entry of a document that starts with '{'. */
    private static byte[] withContentChecksum(byte[] doc) {
        byte[] digest = sha256(doc).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] out = new byte[CHECKSUM_OPENING.length + SHA256_HEX + 2 + doc.length - 1];
        System.arraycopy(CHECKSUM_OPENING, 0, out, 0, CHECKSUM_OPENING.length);
        System.arraycopy(digest, 0, out, CHECKSUM_OPENING.length, SHA256_HEX);
        out[CHECKSUM_OPENING.length + SHA256_HEX] = '"';
        out[CHECKSUM_OPENING.length + SHA256_HEX + 1] = ',';
        System.arraycopy(doc, 1, out, CHECKSUM_OPENING.length + SHA256_HEX + 2, doc.length - 1);
        return out;
    }

    /** Verifies the content checksum when model.json opens with one. */
    private static void checkContentChecksum(byte[] json, String source) {
        int head = CHECKSUM_OPENING.length + SHA256_HEX + 2;
        if (json.length < head || !Arrays.equals(json, 0, CHECKSUM_OPENING.length, CHECKSUM_OPENING, 0,
                CHECKSUM_OPENING.length)) {
            return;
        }
        String expected = new String(json, CHECKSUM_OPENING.length, SHA256_HEX, java.nio.charset.StandardCharsets.US_ASCII);
        byte[] doc = new byte[json.length - head + 1];
        doc[0] = '{';
        System.arraycopy(json, head, doc, 1, json.length - head);
        String actual = sha256(doc);
        if (json[head - 2] != '"' || json[head - 1] != ',' || !actual.equals(expected)) {
            throw bad(source, MODEL_JSON, "content checksum mismatch (SHA-256 " + actual + ", the file says "
                    + expected + "): the file is corrupted");
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    private static ModelFormatProblem bad(String source, String where, String problem) {
        return new ModelFormatProblem(source + ": " + where + ": " + problem);
    }

    /** A model file that cannot be loaded; the message names the source, the location and the problem. */
    public static final class ModelFormatProblem extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ModelFormatProblem(String message) {
            super(message);
        }
    }
}
