package io.scoremix.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A {@code scoremix.model/v1} folder read through the Hadoop FileSystem API (any Hadoop path): the bytes
 * of model.json and coefficients.bin, validated once on the driver by {@link ScoreModelFormat#decode},
 * and the feature names of the training data. Serializable so that a job can broadcast the two byte
 * arrays; each JVM decodes them once ({@link #model()} caches in a transient field) and never uses Java
 * serialization of the model itself.
 */
final class ModelFolder implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_JSON_BYTES = 256L << 20;
    private static final long MAX_COEFFICIENT_BYTES = Integer.MAX_VALUE - 8;

    private final String source;
    private final byte[] modelJson;
    private final byte[] coefficients;
    private transient volatile ScoreModel model;

    private ModelFolder(String source, byte[] modelJson, byte[] coefficients) {
        this.source = source;
        this.modelJson = modelJson;
        this.coefficients = coefficients;
    }

    /**
     * Reads and validates the model at {@code dir}.
     *
     * @throws BadInputException if the folder or a file is missing, or the model does not validate (the
     *                           message of {@link ScoreModelFormat#decode})
     */
    static ModelFolder read(Configuration hadoop, String dir) throws IOException {
        Path path = new Path(dir);
        FileSystem fs = path.getFileSystem(hadoop);
        Path qualified = fs.makeQualified(path);
        if (!fs.exists(qualified)) {
            throw new BadInputException("model not found: " + qualified);
        }
        if (!fs.getFileStatus(qualified).isDirectory()) {
            throw new BadInputException("model " + qualified + " is a file; a model is a folder holding "
                    + ScoreModelFormat.MODEL_JSON + " and " + ScoreModelFormat.COEFFICIENTS);
        }
        byte[] json = readFile(fs, new Path(qualified, ScoreModelFormat.MODEL_JSON), MAX_JSON_BYTES);
        byte[] coef = readFile(fs, new Path(qualified, ScoreModelFormat.COEFFICIENTS), MAX_COEFFICIENT_BYTES);
        ModelFolder folder = new ModelFolder(qualified.toString(), json, coef);
        try {
            folder.model();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        return folder;
    }

    private static byte[] readFile(FileSystem fs, Path file, long max) throws IOException {
        if (!fs.exists(file)) {
            throw new BadInputException("not a scoremix model: " + file + " is missing");
        }
        FileStatus st = fs.getFileStatus(file);
        if (st.getLen() > max) {
            throw new BadInputException(file + " has " + st.getLen() + " bytes, more than the " + max + " allowed");
        }
        byte[] bytes = new byte[(int) st.getLen()];
        try (InputStream in = fs.open(file)) {
            readFully(in, file, bytes);
        } catch (ChecksumException e) {
            // Local and HDFS file systems keep CRCs beside the data: a changed file fails here first.
            throw new BadInputException(file + " is corrupted (" + firstLine(e.getMessage()) + ")", e);
        }
        return bytes;
    }

    private static void readFully(InputStream in, Path file, byte[] bytes) throws IOException {
        int at = 0;
        while (at < bytes.length) {
            int r = in.read(bytes, at, bytes.length - at);
            if (r < 0) {
                throw new IOException(file + " ended after " + at + " of " + bytes.length + " bytes");
            }
            at += r;
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "checksum error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The qualified folder, for messages and provenance. */
    String source() {
        return source;
    }

    /** The decoded model, decoded on first use in this JVM. */
    ScoreModel model() {
        ScoreModel m = model;
        if (m == null) {
            synchronized (this) {
                m = model;
                if (m == null) {
                    m = ScoreModelFormat.decode(modelJson, coefficients, source);
                    model = m;
                }
            }
        }
        return m;
    }

    /** The parsed model.json (for its metadata). */
    JsonNode json() {
        try {
            return JSON.readTree(modelJson);
        } catch (IOException e) {
            throw new BadInputException(source + "/" + ScoreModelFormat.MODEL_JSON + ": " + e.getMessage(), e);
        }
    }

    /**
     * The training data's feature names from model.json's {@code feature_names}, or {@code x0 .. x(d-1)} if
     * it has none.
     *
     * @throws BadInputException if the names are not d distinct strings
     */
    List<String> featureNames() {
        int d = model().dimension();
        JsonNode names = json().path("feature_names");
        List<String> out = new ArrayList<>(d);
        if (names.isMissingNode() || names.isNull()) {
            for (int r = 0; r < d; r++) {
                out.add("x" + r);
            }
            return out;
        }
        if (!names.isArray() || names.size() != d) {
            throw new BadInputException(source + "/" + ScoreModelFormat.MODEL_JSON + ": feature_names must be an array of "
                    + d + " names");
        }
        for (JsonNode n : names) {
            if (!n.isTextual() || n.asText().isEmpty() || out.contains(n.asText())) {
                throw new BadInputException(source + "/" + ScoreModelFormat.MODEL_JSON
                        + ": feature_names must be distinct non-empty strings, got " + names);
            }
            out.add(n.asText());
        }
        return out;
    }

    /** The early-stopping time and horizon the model was learned for: its first and last level times. */
    double[] deltaAndHorizon() {
        double[] t = model().levelTimes();
        double horizon = t.length > 1 ? t[t.length - 1] : json().path("config").path("horizon").asDouble(6.0);
        return new double[] {t[0], horizon};
    }
}
