package io.scoremix.core.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.mixture.GaussianMixture;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named Gaussian mixture in the {@code scoremix.gmm/v1} JSON format (ARCHITECTURE.md, Formats):
 * <pre>
 * {"format": "scoremix.gmm/v1", "name": "blobs-2d", "description": "optional text", "dimension": 2,
 *  "components": [{"weight": 0.5, "mean": [0.0, 0.0], "covariance": [[1.0, 0.0], [0.0, 1.0]]}, ...]}
 * </pre>
 * Reading validates everything and fails with a {@link SpecFormatException} whose message names the
 * source, the JSON location and the problem. Unknown top-level fields are ignored. Immutable.
 *
 * <p>Implementation notes. The document is read into Jackson's tree model with duplicate keys and
 * trailing content rejected and nesting limited to {@value #MAX_NESTING} levels; files over
 * {@value #MAX_BYTES} bytes are refused before reading. This class checks the structure (types, presence,
 * the declared dimension and size limits) and leaves the numeric rules (finite, positive weights summing
 * to 1, symmetric positive definite covariances) to {@link GaussianMixture#of}, whose
 * {@code "component i: ..."} messages are re-addressed to JSON paths such as
 * {@code components[i].covariance}. Doubles are written by Jackson with {@link Double#toString}, which
 * round-trips every finite double exactly.
 */
public final class MixtureSpec {

    /** The format tag this class reads and writes. */
    public static final String FORMAT = "scoremix.gmm/v1";
    /** Largest file (or string, in chars) accepted: 256 MiB. */
    public static final long MAX_BYTES = 256L << 20;
    /** Largest accepted dimension. */
    public static final int MAX_DIMENSION = 100_000;
    /** Largest accepted number of components. */
    public static final int MAX_COMPONENTS = 100_000;
    /** Deepest accepted JSON nesting (the format itself needs 5 levels). */
    public static final int MAX_NESTING = 64;

    private static final String FORMAT_FAMILY = "scoremix.gmm/";
    private static final String ROOT = "$";
    private static final Pattern COMPONENT_MESSAGE =
            Pattern.compile("component (\\d+): (weight|mean|covariance)((?:\\[\\d+\\])*)(?: row (\\d+))? (.*)", Pattern.DOTALL);

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String name;
    private final String description;
    private final GaussianMixture mixture;

    private MixtureSpec(String name, String description, GaussianMixture mixture) {
        this.name = name;
        this.description = description;
        this.mixture = mixture;
    }

    /**
     * A spec for an already validated mixture.
     *
     * @param name        short identifier, not null
     * @param description free text; null means none (stored as the empty string)
     * @param mixture     not null
     */
    public static MixtureSpec of(String name, String description, GaussianMixture mixture) {
        if (name == null) {
            throw new IllegalArgumentException("a mixture spec needs a name");
        }
        if (mixture == null) {
            throw new IllegalArgumentException("a mixture spec needs a mixture");
        }
        return new MixtureSpec(name, description == null ? "" : description, mixture);
    }

    /**
     * Reads and validates a spec file (UTF-8 JSON).
     *
     * @throws SpecFormatException if the file is larger than {@value #MAX_BYTES} bytes or its content is
     *                             not a valid {@code scoremix.gmm/v1} document; the message starts with the path
     * @throws IOException         if the file cannot be read
     */
    public static MixtureSpec read(Path file) throws IOException {
        String source = file.toString();
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new SpecFormatException(source, ROOT, "file is " + size + " bytes, larger than the limit of "
                    + MAX_BYTES + " (256 MiB)");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            // Read at most one byte past the limit, in case the file grew since its size was taken.
            bytes = in.readNBytes((int) MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw new SpecFormatException(source, ROOT, "file is larger than the limit of " + MAX_BYTES + " bytes (256 MiB)");
        }
        return fromTree(readTree(MAPPER.createParser(bytes), source), source);
    }

    /**
     * Parses and validates a spec from a string.
     *
     * @param source names the input in error messages: a file name, or {@code "<string>"}
     * @throws SpecFormatException if the content is not a valid {@code scoremix.gmm/v1} document
     */
    public static MixtureSpec parse(String json, String source) {
        if (json == null) {
            throw new SpecFormatException(source, ROOT, "no content (null)");
        }
        if (json.length() > MAX_BYTES) {
            throw new SpecFormatException(source, ROOT, "document is " + json.length()
                    + " characters, larger than the limit of " + MAX_BYTES + " (256 MiB)");
        }
        try {
            return fromTree(readTree(MAPPER.createParser(json), source), source);
        } catch (IOException e) {
            // Parsing a String does no I/O; anything else is a syntax error reported by readTree.
            throw new UncheckedIOException(e);
        }
    }

    /** The short identifier. */
    public String name() {
        return name;
    }

    /** The free-text description; empty when there is none. */
    public String description() {
        return description;
    }

    /** The mixture. */
    public GaussianMixture mixture() {
        return mixture;
    }

    /**
     * The document, pretty-printed (objects and the rows of arrays of arrays one per line, numbers of a row
     * on one line). Parsing it gives back bit-identical weights, means and covariances. The description is
     * omitted when empty.
     */
    public String toJson() {
        GaussianMixture m = mixture;
        int d = m.dimension();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("name", name);
        if (!description.isEmpty()) {
            root.put("description", description);
        }
        root.put("dimension", d);
        ArrayNode components = root.putArray("components");
        for (int i = 0; i < m.components(); i++) {
            ObjectNode c = components.addObject();
            c.put("weight", m.weight(i));
            ArrayNode mean = c.putArray("mean");
            for (double v : m.mean(i)) {
                mean.add(v);
            }
            ArrayNode cov = c.putArray("covariance");
            for (double[] row : m.covariance(i)) {
                ArrayNode r = cov.addArray();
                for (double v : row) {
                    r.add(v);
                }
            }
        }
        try {
            return MAPPER.writer(new SpecPrettyPrinter()).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            // Writing a tree of strings and finite numbers to a String cannot fail.
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes {@link #toJson()} (UTF-8, final newline) atomically: to a temporary file in the same folder,
     * flushed to disk, then moved over {@code file}, so readers see the old file or the whole new one.
     *
     * @throws IOException if the folder is not writable or the move fails; the temporary file is removed
     */
    public void write(Path file) throws IOException {
        byte[] bytes = (toJson() + "\n").getBytes(StandardCharsets.UTF_8);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
                out.write(bytes);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String toString() {
        return "MixtureSpec[" + name + ", k=" + mixture.components() + ", d=" + mixture.dimension() + "]";
    }

    // ---------------------------------------------------------------------------------------------------
    // Validation

    /** The document's tree, or null when it is empty; syntax errors become SpecFormatExceptions. */
    private static JsonNode readTree(JsonParser parser, String source) throws IOException {
        try (JsonParser p = parser) {
            try {
                return MAPPER.readTree(p);
            } catch (JsonProcessingException e) {
                // Constraint violations carry no location: use where the parser stopped.
                JsonLocation at = e.getLocation() != null ? e.getLocation() : p.currentLocation();
                throw syntaxError(source, e, at);
            }
        }
    }

    private static SpecFormatException syntaxError(String source, JsonProcessingException e, JsonLocation at) {
        String where = at == null ? ROOT : "line " + at.getLineNr() + ", column " + at.getColumnNr();
        String detail = firstLine(e.getOriginalMessage());
        String problem;
        if (e instanceof StreamConstraintsException) {
            problem = "document exceeds a parser limit: " + detail;
        } else if (e instanceof JsonEOFException) {
            problem = "truncated JSON (unexpected end of input): " + detail;
        } else {
            problem = "not valid JSON: " + detail;
        }
        return new SpecFormatException(source, where, problem, e);
    }

    private static MixtureSpec fromTree(JsonNode root, String src) {
        if (root == null || root.isMissingNode()) {
            throw new SpecFormatException(src, ROOT, "empty document: expected a JSON object");
        }
        if (!root.isObject()) {
            throw new SpecFormatException(src, ROOT, "top level must be a JSON object, found " + describe(root));
        }
        checkFormat(root.get("format"), src);

        JsonNode nameNode = root.get("name");
        if (nameNode == null) {
            throw new SpecFormatException(src, "name", "missing");
        }
        if (!nameNode.isTextual()) {
            throw new SpecFormatException(src, "name", "must be a string, found " + describe(nameNode));
        }
        JsonNode descNode = root.get("description");
        String description = "";
        if (descNode != null && !descNode.isNull()) {
            if (!descNode.isTextual()) {
                throw new SpecFormatException(src, "description", "must be a string, found " + describe(descNode));
            }
            description = descNode.textValue();
        }

        int d = readDimension(root.get("dimension"), src);

        JsonNode comps = root.get("components");
        if (comps == null) {
            throw new SpecFormatException(src, "components", "missing");
        }
        if (!comps.isArray()) {
            throw new SpecFormatException(src, "components", "must be an array, found " + describe(comps));
        }
        int k = comps.size();
        if (k == 0) {
            throw new SpecFormatException(src, "components", "empty: a mixture needs at least one component");
        }
        if (k > MAX_COMPONENTS) {
            throw new SpecFormatException(src, "components", k + " components exceed the limit of " + MAX_COMPONENTS);
        }
        double[] weights = new double[k];
        double[][] means = new double[k][];
        double[][][] covs = new double[k][][];
        for (int i = 0; i < k; i++) {
            String at = "components[" + i + "]";
            JsonNode c = comps.get(i);
            if (!c.isObject()) {
                throw new SpecFormatException(src, at, "must be an object, found " + describe(c));
            }
            weights[i] = number(required(c, "weight", at, src), at + ".weight", src);
            means[i] = numbers(requiredArray(c, "mean", at, src), at + ".mean", src);
            if (means[i].length != d) {
                throw new SpecFormatException(src, at + ".mean", "has " + means[i].length
                        + " entries, but the dimension is " + d);
            }
            JsonNode cov = requiredArray(c, "covariance", at, src);
            covs[i] = new double[cov.size()][];
            for (int r = 0; r < cov.size(); r++) {
                String rowAt = at + ".covariance[" + r + "]";
                JsonNode row = cov.get(r);
                if (!row.isArray()) {
                    throw new SpecFormatException(src, rowAt, "must be an array (a row of the matrix), found "
                            + describe(row));
                }
                covs[i][r] = numbers(row, rowAt, src);
            }
        }
        GaussianMixture mixture;
        try {
            mixture = GaussianMixture.of(weights, means, covs);
        } catch (IllegalArgumentException e) {
            throw relocate(src, e);
        }
        return new MixtureSpec(nameNode.textValue(), description, mixture);
    }

    private static void checkFormat(JsonNode format, String src) {
        if (format == null) {
            throw new SpecFormatException(src, "format", "missing; expected \"" + FORMAT + "\"");
        }
        if (!format.isTextual()) {
            throw new SpecFormatException(src, "format", "must be the string \"" + FORMAT + "\", found "
                    + describe(format));
        }
        String f = format.textValue();
        if (f.equals(FORMAT)) {
            return;
        }
        if (f.startsWith(FORMAT_FAMILY)) {
            throw new SpecFormatException(src, "format", "unsupported version \"" + excerpt(f)
                    + "\"; this reader supports only \"" + FORMAT + "\"");
        }
        throw new SpecFormatException(src, "format", "\"" + excerpt(f) + "\" is not a scoremix mixture spec; expected \""
                + FORMAT + "\"");
    }

    private static int readDimension(JsonNode node, String src) {
        if (node == null) {
            throw new SpecFormatException(src, "dimension", "missing");
        }
        if (!node.isNumber() || !node.canConvertToExactIntegral()) {
            throw new SpecFormatException(src, "dimension", "must be an integer, found " + describe(node));
        }
        if (!node.canConvertToLong() || node.longValue() > MAX_DIMENSION) {
            throw new SpecFormatException(src, "dimension", node.asText() + " exceeds the limit of " + MAX_DIMENSION);
        }
        long d = node.longValue();
        if (d <= 0) {
            throw new SpecFormatException(src, "dimension", "must be positive, found " + d);
        }
        return (int) d;
    }

    private static JsonNode required(JsonNode parent, String field, String at, String src) {
        JsonNode n = parent.get(field);
        if (n == null) {
            throw new SpecFormatException(src, at + "." + field, "missing");
        }
        return n;
    }

    private static JsonNode requiredArray(JsonNode parent, String field, String at, String src) {
        JsonNode n = required(parent, field, at, src);
        if (!n.isArray()) {
            throw new SpecFormatException(src, at + "." + field, "must be an array, found " + describe(n));
        }
        if (n.size() > MAX_DIMENSION) {
            throw new SpecFormatException(src, at + "." + field, "has " + n.size()
                    + " entries, more than the dimension limit of " + MAX_DIMENSION);
        }
        return n;
    }

    /** A JSON number as a double; huge literals become infinite and are rejected by GaussianMixture. */
    private static double number(JsonNode n, String at, String src) {
        if (!n.isNumber()) {
            throw new SpecFormatException(src, at, "must be a number, found " + describe(n));
        }
        return n.doubleValue();
    }

    private static double[] numbers(JsonNode array, String at, String src) {
        if (array.size() > MAX_DIMENSION) {
            throw new SpecFormatException(src, at, "has " + array.size() + " entries, more than the dimension limit of "
                    + MAX_DIMENSION);
        }
        double[] out = new double[array.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = number(array.get(j), at + "[" + j + "]", src);
        }
        return out;
    }

    /**
     * Turns GaussianMixture's {@code "component i: covariance row r has ..."} into location
     * {@code components[i].covariance[r]} and problem {@code "has ..."}; other messages are about all
     * components together (the weight sum).
     */
    private static SpecFormatException relocate(String src, IllegalArgumentException e) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        Matcher m = COMPONENT_MESSAGE.matcher(msg);
        if (!m.matches()) {
            return new SpecFormatException(src, "components", msg, e);
        }
        StringBuilder at = new StringBuilder("components[").append(m.group(1)).append("].").append(m.group(2))
                .append(m.group(3));
        if (m.group(4) != null) {
            at.append('[').append(m.group(4)).append(']');
        }
        String problem = m.group(5);
        if (problem.startsWith("is ")) {
            problem = problem.substring(3);
        }
        return new SpecFormatException(src, at.toString(), problem, e);
    }

    private static String describe(JsonNode n) {
        switch (n.getNodeType()) {
            case STRING:
                return "string \"" + excerpt(n.textValue()) + "\"";
            case NUMBER:
                return "number " + n.asText();
            case BOOLEAN:
                return "boolean " + n.asText();
            case NULL:
                return "null";
            case ARRAY:
                return "an array";
            case OBJECT:
                return "an object";
            default:
                return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static String excerpt(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * Two-space indentation, one object entry per line, the elements of {@code "components"} and the rows
     * of {@code "covariance"} one per line, other arrays (means, rows) on one line. Stateless: the
     * indentation is the generator's nesting depth.
     */
    private static final class SpecPrettyPrinter implements PrettyPrinter {

        private static void newline(JsonGenerator g, int depth) throws IOException {
            g.writeRaw('\n');
            for (int i = 0; i < depth; i++) {
                g.writeRaw("  ");
            }
        }

        private static boolean blockArray(JsonGenerator g) {
            JsonStreamContext ctx = g.getOutputContext();
            JsonStreamContext parent = ctx.getParent();
            if (parent == null || !parent.inObject()) {
                return false;
            }
            String field = parent.getCurrentName();
            return "components".equals(field) || "covariance".equals(field);
        }

        @Override
        public void writeRootValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw('\n');
        }

        @Override
        public void writeStartObject(JsonGenerator g) throws IOException {
            g.writeRaw('{');
        }

        @Override
        public void beforeObjectEntries(JsonGenerator g) throws IOException {
            newline(g, g.getOutputContext().getNestingDepth());
        }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(',');
            newline(g, g.getOutputContext().getNestingDepth());
        }

        @Override
        public void writeEndObject(JsonGenerator g, int entries) throws IOException {
            if (entries > 0) {
                newline(g, g.getOutputContext().getNestingDepth() - 1);
            }
            g.writeRaw('}');
        }

        @Override
        public void writeStartArray(JsonGenerator g) throws IOException {
            g.writeRaw('[');
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) throws IOException {
            if (blockArray(g)) {
                newline(g, g.getOutputContext().getNestingDepth());
            }
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(',');
            if (blockArray(g)) {
                newline(g, g.getOutputContext().getNestingDepth());
            } else {
                g.writeRaw(' ');
            }
        }

        @Override
        public void writeEndArray(JsonGenerator g, int values) throws IOException {
            if (values > 0 && blockArray(g)) {
                newline(g, g.getOutputContext().getNestingDepth() - 1);
            }
            g.writeRaw(']');
        }
    }
}
