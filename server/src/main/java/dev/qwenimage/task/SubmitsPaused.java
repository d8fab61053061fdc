package dev.qwenimage.task;

/**
 * This node takes no new tasks for now, for a reason of its own (its disk is nearly full): the API
 * answers 503 with {@code reason} and Retry-After; the client should try again later or elsewhere.
 */
public final class SubmitsPaused extends RuntimeException {
    private final String reason;
    private final long retryAfterSeconds;

    public SubmitsPaused(String reason, long retryAfterSeconds, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The stable UPPER_SNAKE reason code of the error body. */
    public String reason() {
        return reason;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
