package dev.qwenimage.task;

/**
 * The task store could not do what was asked. {@link #unavailable()} tells a store that cannot be
 * used now (database unreachable, disk full or read-only, no connection free in time: try again
 * shortly) from a request the store refused for its own reasons (a bug: retrying will not help).
 */
public class StoreException extends RuntimeException {
    private final boolean unavailable;

    public StoreException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public StoreException(String message, Throwable cause, boolean unavailable) {
        super(message, cause);
        this.unavailable = unavailable;
    }

    /** Whether the store itself failed, so the same request may well work in a few seconds. */
    public boolean unavailable() {
        return unavailable;
    }
}
