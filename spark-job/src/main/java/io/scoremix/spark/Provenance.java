package io.scoremix.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The provenance record {@code _scoremix.json} written into every output directory, after the data and
 * before the directory is renamed into place: format {@code scoremix.provenance/v1}, the command, its
 * resolved settings, for a command run from the command line every option with its effective value and
 * its source ({@code options}: the command line, a configuration file or the built-in default), the
 * versions of scoremix, Spark, Scala, Hadoop and Java, and the times.
 */
final class Provenance {

    static final String FORMAT = "scoremix.provenance/v1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Map<String, Object> fields = new LinkedHashMap<>();

    /** A record of {@code command} started at {@code started}. */
    Provenance(String command, Instant started) {
        fields.put("format", FORMAT);
        fields.put("command", command);
        fields.put("started", started.toString());
    }

    /** Adds a field (a string, number, boolean, list or map); returns this. */
    Provenance put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** Adds a field from a JSON document (for example a mixture spec); returns this. */
    Provenance putJson(String key, String json) throws IOException {
        fields.put(key, JSON.readTree(json));
        return this;
    }

    /** Adds the finish time and duration, then writes {@code dir/_scoremix.json} (must not exist). */
    void write(FileSystem fs, Path dir, String sparkVersion, Instant started) throws IOException {
        Instant finished = Instant.now();
        fields.put("versions", Versions.all(sparkVersion));
        fields.put("finished", finished.toString());
        fields.put("seconds", Duration.between(started, finished).toMillis() / 1000.0);
        try (OutputStream out = fs.create(new Path(dir, AtomicOutput.PROVENANCE_FILE), false)) {
            JSON.writeValue(out, fields);
        }
    }
}
