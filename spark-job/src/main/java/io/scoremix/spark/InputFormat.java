package io.scoremix.spark;

import java.util.Locale;

/** Formats that {@code fit} reads its input in. */
public enum InputFormat {
    /** Apache Parquet (the default): numeric columns are read with their types. */
    PARQUET("parquet"),
    /** Comma-separated text with a header row; every value is parsed as a decimal number on the executors. */
    CSV("csv"),
    /** Apache ORC. */
    ORC("orc"),
    /** JSON lines (one object per line); Spark infers the column types. */
    JSON("json");

    private final String id;

    InputFormat(String id) {
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
    public static InputFormat parse(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (InputFormat f : values()) {
            if (f.id.equals(key)) {
                return f;
            }
        }
        throw new BadInputException("unknown input format '" + name + "' (expected parquet, csv, orc or json)");
    }

    @Override
    public String toString() {
        return id;
    }
}
