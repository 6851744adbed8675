package io.scoremix.ml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scoremix.core.score.ScoreModel;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@code scoremix.model/v1} model as the bytes of its two files, validated on creation. Serializable so
 * that Spark can broadcast it; each JVM decodes the bytes once ({@link #model()} caches in a transient
 * field) and the model itself is never Java-serialized. Saving writes the same bytes, so a model saved
 * after loading is byte-identical.
 */
final class ModelBytes implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final byte[] modelJson;
    private final byte[] coefficients;
    private transient volatile ScoreModel model;

    private ModelBytes(String source, byte[] modelJson, byte[] coefficients, ScoreModel decoded) {
        this.source = source;
        this.modelJson = modelJson;
        this.coefficients = coefficients;
        this.model = decoded;
    }

    /** Encodes a fitted model with its model.json metadata (feature names, config, provenance, report). */
    static ModelBytes encode(ScoreModel model, Map<String, ?> metadata, String source) {
        ScoreModelFormat.Encoded e = ScoreModelFormat.encode(model, metadata);
        return new ModelBytes(source, e.modelJson(), e.coefficients(), model);
    }

    /**
     * Decodes and validates the two files.
     *
     * @throws IllegalArgumentException naming the source, the location in model.json and the problem
     */
    static ModelBytes decode(byte[] modelJson, byte[] coefficients, String source) {
        ScoreModel m = ScoreModelFormat.decode(modelJson, coefficients, source);
        ModelBytes bytes = new ModelBytes(source, modelJson, coefficients, m);
        bytes.featureNames();
        return bytes;
    }

    String source() {
        return source;
    }

    byte[] modelJson() {
        return modelJson.clone();
    }

    byte[] coefficients() {
        return coefficients.clone();
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

    private JsonNode json() {
        try {
            return JSON.readTree(modelJson);
        } catch (IOException e) {
            throw new UncheckedIOException(source + "/" + ScoreModelFormat.MODEL_JSON + ": " + e.getMessage(), e);
        }
    }

    /**
     * The training data's feature names (model.json's {@code feature_names}), or {@code x0 .. x(d-1)}.
     *
     * @throws IllegalArgumentException if {@code feature_names} is not an array of d strings
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
            throw new IllegalArgumentException(source + "/" + ScoreModelFormat.MODEL_JSON
                    + ": feature_names must be an array of " + d + " names");
        }
        for (JsonNode n : names) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException(source + "/" + ScoreModelFormat.MODEL_JSON
                        + ": feature_names must hold strings, got " + n);
            }
            out.add(n.asText());
        }
        return out;
    }

    /**
     * The model's early-stopping time delta (its first learned level) and horizon T (its last level, or
     * the configured horizon of a single-level model), as {@code {delta, T}}.
     */
    double[] deltaAndHorizon() {
        double[] t = model().levelTimes();
        double horizon = t.length > 1 ? t[t.length - 1] : json().path("config").path("horizon").asDouble(6.0);
        return new double[] {t[0], horizon};
    }
}
