package io.scoremix.spark;

/**
 * The user's input is wrong (an argument, a file, an existing output): the command stops before
 * writing anything and the CLI exits with code 2, printing only this message. The message says what is
 * wrong and where, for example {@code "file:/tmp/out already exists (pass --overwrite to replace it)"}.
 */
public final class BadInputException extends RuntimeException {

    /** @param message what is wrong and where; printed as is */
    public BadInputException(String message) {
        super(message);
    }

    /** As {@link #BadInputException(String)}, keeping the underlying cause. */
    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
