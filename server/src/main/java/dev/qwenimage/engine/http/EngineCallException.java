package dev.qwenimage.engine.http;

/**
 * A call to a remote engine failed. Transient failures (unreachable, timed out, overloaded, 5xx)
 * may pass on another attempt or another engine; permanent ones (the engine refused the request
 * as invalid) will not. The message reads as the end of "the engine at URL ..." and never holds
 * a stack trace.
 */
public final class EngineCallException extends Exception {
    private final boolean transientFailure;

    public EngineCallException(boolean transientFailure, String message) {
        super(message, null, false, false);
        this.transientFailure = transientFailure;
    }

    public boolean isTransient() {
        return transientFailure;
    }
}
