package io.scoremix.ml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.SparkSession;

/**
 * The files of Spark ML persistence for scoremix, through the Hadoop FileSystem API (any Hadoop path).
 * A saved stage is a folder with Spark ML's {@code metadata/part-00000} (one JSON line: class, uid,
 * Spark version, timestamp, paramMap, defaultParamMap, the layout Spark's own DefaultParamsWriter writes,
 * so that {@code PipelineModel.load} finds the class) and, for a model, the {@code scoremix.model/v1}
 * files {@code model.json} and {@code coefficients.bin}: the folder is also a model folder that
 * {@code scoremix sample --model} reads, and a folder written by {@code scoremix fit} loads as a
 * {@link ScoreMixtureModel} with default parameters. Only public Spark APIs are used (params are encoded
 * by {@link Param#jsonEncode} and decoded by {@link Param#jsonDecode}).
 */
final class MlFiles {

    static final String METADATA = "metadata";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_JSON_BYTES = 256L << 20;
    private static final long MAX_COEFFICIENT_BYTES = Integer.MAX_VALUE - 8;

    private MlFiles() {
    }

    /** Writes Spark ML's metadata of {@code stage} (its set and default params) under {@code dir}. */
    static void writeMetadata(Params stage, String dir, SparkSession spark) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("class", stage.getClass().getName());
        root.put("timestamp", System.currentTimeMillis());
        root.put("sparkVersion", spark.version());
        root.put("uid", stage.uid());
        ObjectNode set = root.putObject("paramMap");
        ObjectNode defaults = root.putObject("defaultParamMap");
        for (Param<?> p : stage.params()) {
            @SuppressWarnings("unchecked")
            Param<Object> param = (Param<Object>) p;
            if (stage.isSet(param)) {
                set.set(param.name(), JSON.readTree(param.jsonEncode(stage.getOrDefault(param))));
            }
            if (stage.hasDefault(param)) {
                defaults.set(param.name(), JSON.readTree(param.jsonEncode(stage.getDefault(param).get())));
            }
        }
        Path file = new Path(new Path(dir, METADATA), "part-00000");
        writeFile(file, (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8), spark);
    }

    /**
     * Spark ML metadata of a saved stage: the recorded uid (null if the folder has none, as for a model
     * written by {@code scoremix fit}) and the explicitly set params as JSON values by name.
     */
    record Metadata(String source, String uid, JsonNode paramMap) {

        /**
         * The recorded params as a ParamMap of {@code owner}'s params ({@code owner} must have the recorded
         * uid, so that the map applies to it).
         *
         * @throws IllegalArgumentException if a param is unknown to {@code owner} or its value does not decode
         */
        ParamMap params(Params owner) {
            ParamMap map = ParamMap.empty();
            for (Map.Entry<String, JsonNode> e : paramMap.properties()) {
                if (!owner.hasParam(e.getKey())) {
                    throw new IllegalArgumentException(source + ": unknown param '" + e.getKey() + "' of "
                            + owner.getClass().getName());
                }
                Param<Object> param = owner.getParam(e.getKey());
                try {
                    map.put(param, param.jsonDecode(JSON.writeValueAsString(e.getValue())));
                } catch (IOException | RuntimeException ex) {
                    throw new IllegalArgumentException(source + ": param '" + e.getKey() + "': " + ex.getMessage(), ex);
                }
            }
            return map;
        }
    }

    /**
     * Reads {@code dir}'s Spark ML metadata, if any, for a stage of class {@code expected}.
     *
     * @throws IllegalArgumentException if the metadata names another class
     */
    static Metadata readMetadata(String dir, Class<?> expected, SparkSession spark) throws IOException {
        Path file = new Path(new Path(dir, METADATA), "part-00000");
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(file)) {
            return new Metadata(file.toString(), null, JSON.createObjectNode());
        }
        byte[] bytes = readFile(fs, file, MAX_JSON_BYTES);
        JsonNode root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8).lines().findFirst().orElse("{}"));
        String cls = root.path("class").asText("");
        if (!cls.equals(expected.getName())) {
            throw new IllegalArgumentException(file + ": a saved " + (cls.isEmpty() ? "stage of no class" : cls)
                    + ", not a " + expected.getName());
        }
        return new Metadata(file.toString(), root.path("uid").asText(null), root.path("paramMap"));
    }

    /** Writes the model's two files into {@code dir}. */
    static void writeModel(ModelBytes model, String dir, SparkSession spark) throws IOException {
        writeFile(new Path(dir, ScoreModelFormat.MODEL_JSON), model.modelJson(), spark);
        writeFile(new Path(dir, ScoreModelFormat.COEFFICIENTS), model.coefficients(), spark);
    }

    /**
     * Reads and validates the model files in {@code dir}.
     *
     * @throws IllegalArgumentException if a file is missing, too large or does not validate
     */
    static ModelBytes readModel(String dir, SparkSession spark) throws IOException {
        Path path = new Path(dir);
        FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Path qualified = fs.makeQualified(path);
        byte[] json = readFile(fs, new Path(qualified, ScoreModelFormat.MODEL_JSON), MAX_JSON_BYTES);
        byte[] coef = readFile(fs, new Path(qualified, ScoreModelFormat.COEFFICIENTS), MAX_COEFFICIENT_BYTES);
        return ModelBytes.decode(json, coef, qualified.toString());
    }

    private static void writeFile(Path file, byte[] bytes, SparkSession spark) throws IOException {
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, false)) {
            out.write(bytes);
        }
    }

    private static byte[] readFile(FileSystem fs, Path file, long max) throws IOException {
        if (!fs.exists(file)) {
            throw new IllegalArgumentException("not a saved scoremix model: " + file + " is missing");
        }
        FileStatus st = fs.getFileStatus(file);
        if (st.getLen() > max) {
            throw new IllegalArgumentException(file + " has " + st.getLen() + " bytes, more than the " + max
                    + " allowed");
        }
        byte[] bytes = new byte[(int) st.getLen()];
        try (InputStream in = fs.open(file)) {
            int at = 0;
            while (at < bytes.length) {
                int r = in.read(bytes, at, bytes.length - at);
                if (r < 0) {
                    throw new IOException(file + " ended after " + at + " of " + bytes.length + " bytes");
                }
                at += r;
            }
        }
        return bytes;
    }
}
