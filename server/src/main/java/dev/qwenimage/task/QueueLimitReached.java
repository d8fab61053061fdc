package dev.qwenimage.task;

/**
 * A submit refused because a queue cap is reached: the caller's key has its most queued tasks
 * ({@code perKey}: answered 429) or the whole queue is full (503). {@code retryAfterSeconds} is
 * when trying again is likely to succeed.
 */
public final class QueueLimitReached extends RuntimeException {
    private final boolean perKey;
    private final long retryAfterSeconds;

    public QueueLimitReached(boolean perKey, long retryAfterSeconds, String message) {
        super(message, null, false, false);
        this.perKey = perKey;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public boolean perKey() {
        return perKey;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
