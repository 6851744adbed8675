package io.scoremix.spark;

import java.util.Locale;

/** Formats that jobs write generated points in. */
public enum OutputFormat {
    /** Apache Parquet, Snappy-compressed (Spark's default codec). */
    PARQUET("parquet"),
    /** Comma-separated text with a header row; doubles printed so that they read back exactly. */
    CSV("csv");

    private final String id;

    OutputFormat(String id) {
        this.id = id;
    }

    /** The lower-case name used on the command line, in provenance records and as Spark's source name. */
    public String id() {
        return id;
    }

    /**
     * The format named {@code name}, case-insensitively.
     *
     * @throws BadInputException naming the unknown value and the known ones
     */
    public static OutputFormat parse(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (OutputFormat f : values()) {
            if (f.id.equals(key)) {
                return f;
            }
        }
        throw new BadInputException("unknown format '" + name + "' (expected parquet or csv)");
    }

    @Override
    public String toString() {
        return id;
    }
}
