package dev.qwenimage.tenant;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Submits per minute per key, as token buckets on this node: a bucket holds up to the key's
 * limit and refills evenly over a minute, so a key may burst its whole minute at once and then
 * goes at its pace. With several api nodes each keeps its own buckets.
 */
public final class SubmitRate {
    private static final long MINUTE_NANOS = 60_000_000_000L;

    /** The answer to one submit: allowed or not, and what the X-RateLimit headers say. */
    public record Decision(boolean allowed, long limit, long remaining, long resetSeconds, long retryAfterSeconds) {
    }

    private static final class Bucket {
        double tokens;
        long at;
        long limit;
    }

    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** Takes one submit from {@code owner}'s bucket of {@code perMinute} (which must be positive) at {@code nowNanos}. */
    public Decision take(String owner, long perMinute, long nowNanos) {
        Bucket b = buckets.computeIfAbsent(owner, o -> {
            Bucket fresh = new Bucket();
            fresh.tokens = perMinute;
            fresh.at = nowNanos;
            fresh.limit = perMinute;
            return fresh;
        });
        synchronized (b) {
            double perNano = (double) perMinute / MINUTE_NANOS;
            if (b.limit != perMinute) {
                b.tokens = Math.min(b.tokens, perMinute); // the limit changed: keep what is left, up to the new size
                b.limit = perMinute;
            }
            b.tokens = Math.min(perMinute, b.tokens + Math.max(0, nowNanos - b.at) * perNano);
            b.at = nowNanos;
            boolean allowed = b.tokens >= 1;
            if (allowed) {
                b.tokens -= 1;
            }
            long remaining = (long) Math.floor(b.tokens);
            long reset = (long) Math.ceil((perMinute - b.tokens) / perNano / 1e9);
            long retry = allowed ? 0 : Math.max(1, (long) Math.ceil((1 - b.tokens) / perNano / 1e9));
            return new Decision(allowed, perMinute, remaining, reset, retry);
        }
    }
}
