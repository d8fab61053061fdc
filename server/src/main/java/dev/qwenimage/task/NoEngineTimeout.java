package dev.qwenimage.task;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends tasks that no engine could take in time: once no engine has been up for the whole timeout,
 * every task that has waited that long ends FAILED with the reason (which engines, in which state),
 * instead of waiting forever while its client polls. Tasks queued more recently keep waiting their
 * own full timeout, and nothing fails while any engine is up. Run every second; the statement is
 * idempotent, so every node may run it.
 */
public final class NoEngineTimeout implements Runnable, EngineAvailability {
    private static final Logger log = LoggerFactory.getLogger(NoEngineTimeout.class);

    private final TaskStore store;
    private final EngineAvailability engines;
    private final Clock clock;
    private final Duration timeout;
    private final String timeoutText;
    /** Since when no engine has been up, as this node saw it; null while one is. */
    private volatile Instant blockedSince;

    /** @param timeoutText the timeout as people write it ("10m"), for the failure reason */
    public NoEngineTimeout(TaskStore store, EngineAvailability engines, Clock clock, Duration timeout, String timeoutText) {
        this.store = store;
        this.engines = engines;
        this.clock = clock;
        this.timeout = timeout;
        this.timeoutText = timeoutText;
    }

    @Override
    public List<EngineCapacity> capacity() {
        return engines.capacity();
    }

    @Override
    public List<EngineCapacity> capacity(dev.qwenimage.engine.TaskKind kind) {
        return engines.capacity(kind);
    }

    @Override
    public Optional<String> nothingRunsBecause() {
        return engines.nothingRunsBecause();
    }

    /**
     * A task waits out the whole timeout from when it was queued or from when the last engine
     * went, whichever is later (the sweep, every second, notices the moment no engine is up).
     */
    @Override
    public Optional<Instant> givesUpAt(Instant queuedAt) {
        Instant since = blockedSince;
        Instant lastEngineGone = since != null ? since : clock.instant(); // not swept yet: it went just now
        return Optional.of((lastEngineGone.isAfter(queuedAt) ? lastEngineGone : queuedAt).plus(timeout));
    }

    @Override
    public void run() {
        try {
            Optional<String> why = engines.nothingRunsBecause();
            Instant now = clock.instant();
            if (why.isEmpty()) {
                blockedSince = null;
                return;
            }
            if (blockedSince == null) {
                blockedSince = now;
            }
            if (Duration.between(blockedSince, now).compareTo(timeout) < 0) {
                return;
            }
            int failed = store.failWaiting(now.minus(timeout), "no engine could take the task within " + timeoutText
                    + " (QWEN_IMAGE_NO_ENGINE_TIMEOUT): " + why.get(), now);
            if (failed > 0) {
                log.warn("{} task(s) waited {} with no engine up and ended FAILED: {}", failed, timeoutText, why.get());
            }
        } catch (RuntimeException e) {
            log.error("no-engine sweep failed; will retry", e);
        }
    }
}
