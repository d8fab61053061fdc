package dev.qwenimage.health;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether writes to one place (the task store, the image store) work now, judged by the latest
 * write there, real or a probe ({@link WriteProbe}). A node whose writes fail is not ready: its
 * load balancer takes it out, its worker slots stop claiming work they could not record, and it
 * comes back by itself once a write succeeds again. Recording a success is one volatile read unless
 * the state changes, so stores call it on every commit.
 */
public final class WriteHealth {
    private static final Logger log = LoggerFactory.getLogger(WriteHealth.class);
    /** Where the target stands: {@code ok}, since when, and the last error (empty while ok after a success). */
    public record Status(boolean ok, String lastError, Instant since) {
    }

    private final String target;
    private final Clock clock;
    private final AtomicLong failures = new AtomicLong();
    private volatile Status status;

    /** @param target what is written, for messages: "task store", "image store" */
    public WriteHealth(String target, Clock clock) {
        this.target = target;
        this.clock = clock;
        this.status = new Status(true, "", clock.instant());
    }

    public String target() {
        return target;
    }

    /** A write went through. */
    public void succeeded() {
        if (!status.ok()) {
            synchronized (this) {
                Status was = status;
                if (!was.ok()) {
                    status = new Status(true, "", clock.instant());
                    log.info("writes to the {} work again (they failed for {} s); this node is ready again", target,
                            Duration.between(was.since(), status.since()).toSeconds());
                }
            }
        }
    }

    /** A write failed for a reason that is the place's, not the data's (disk full, read-only, unreachable). */
    public void failed(String error) {
        failures.incrementAndGet();
        String why = error == null || error.isBlank() ? "write failed" : error;
        synchronized (this) {
            if (status.ok()) {
                log.warn("writes to the {} fail ({}); this node reports not ready until they work again", target, why);
            }
            Instant since = status.ok() ? clock.instant() : status.since();
            status = new Status(false, why, since);
        }
    }

    public Status status() {
        return status;
    }

    public boolean ok() {
        return status.ok();
    }

    /** Failed writes since start (a counter for /metrics). */
    public long failures() {
        return failures.get();
    }
}
