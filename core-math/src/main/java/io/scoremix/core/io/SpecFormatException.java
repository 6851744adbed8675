package io.scoremix.core.io;

/**
 * A file or string in one of scoremix's JSON formats has bad content. The message reads
 * {@code "<source>: <location>: <problem>"}, for example
 * {@code "blobs.json: components[1].covariance: not positive definite (Cholesky factorisation fails at pivot 1)"},
 * where the location is a JSON path ({@code $} for the whole document) or, for syntax errors, a line and
 * column. The three parts are also available separately.
 */
public final class SpecFormatException extends IllegalArgumentException {

    private final String source;
    private final String location;
    private final String problem;

    /**
     * @param source   the file name, or {@code "<string>"}
     * @param location where in the document, e.g. {@code components[1].mean[0]}
     * @param problem  what is wrong, e.g. {@code not finite (Infinity)}
     */
    public SpecFormatException(String source, String location, String problem) {
        this(source, location, problem, null);
    }

    /** As {@link #SpecFormatException(String, String, String)}, keeping the underlying cause. */
    public SpecFormatException(String source, String location, String problem, Throwable cause) {
        super(source + ": " + location + ": " + problem, cause);
        this.source = source;
        this.location = location;
        this.problem = problem;
    }

    /** The file name or {@code "<string>"}. */
    public String source() {
        return source;
    }

    /** The JSON path, or line and column, of the problem. */
    public String location() {
        return location;
    }

    /** What is wrong, without source and location. */
    public String problem() {
        return problem;
    }
}
