package dev.qwenimage.task;

/** The caller's key had its tasks for the day (429 QUOTA_EXCEEDED, Retry-After: until 00:00 UTC). */
public final class QuotaExceeded extends RuntimeException {
    private final long retryAfterSeconds;

    public QuotaExceeded(long retryAfterSeconds, String message) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
