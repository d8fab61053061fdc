package dev.qwenimage.task;

import java.time.Duration;

/** A client's {@code Idempotency-Key} and a digest of the body it came with. */
public record IdempotencyKey(String key, String bodyDigest) {
    /** How long a key is remembered. */
    public static final Duration TTL = Duration.ofHours(24);
}
