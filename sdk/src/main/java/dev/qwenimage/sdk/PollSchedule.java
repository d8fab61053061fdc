package dev.qwenimage.sdk;

import java.time.Duration;

/**
 * How long {@link QwenImageClient#await} waits between two polls of one task: a backoff that
 * starts at {@code initial} and grows by half each poll up to {@code max}, bent by the task's ETA
 * (never more than about eight polls over the time the server says is left, and no sleeping past
 * the expected end) and by a {@code Retry-After} the server asked for.
 */
final class PollSchedule {
    private static final double GROWTH = 1.5;
    private static final int POLLS_PER_ETA = 8;

    private final Duration initial;
    private final Duration max;
    private Duration last;

    PollSchedule(Duration initial, Duration max) {
        this.initial = initial;
        this.max = max;
    }

    /** The wait before the next poll, after a poll that answered {@code result}. */
    Duration after(TaskResult result) {
        Duration wait = backoff();
        Duration eta = result.eta();
        if (!eta.isZero() && !eta.isNegative()) {
            wait = clamp(wait, eta.dividedBy(POLLS_PER_ETA), eta);
        }
        wait = clamp(wait, initial, max);
        last = wait;
        return wait;
    }

    /** The wait before the next poll, after a poll that failed in a way worth retrying. */
    Duration afterFailure(Duration retryAfter) {
        Duration wait = backoff();
        if (retryAfter != null && retryAfter.compareTo(wait) > 0) {
            wait = retryAfter;
        }
        last = clamp(wait, initial, max);
        return wait;
    }

    private Duration backoff() {
        if (last == null) {
            return initial;
        }
        Duration grown = Duration.ofNanos((long) (last.toNanos() * GROWTH));
        return grown.compareTo(max) > 0 ? max : grown;
    }

    private static Duration clamp(Duration d, Duration low, Duration high) {
        if (d.compareTo(low) < 0) {
            return low;
        }
        return d.compareTo(high) > 0 ? high : d;
    }
}
