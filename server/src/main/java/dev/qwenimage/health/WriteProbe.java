package dev.qwenimage.health;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes to each place the node writes to (the task store, the image store) every
 * {@value #OK_SECONDS} s while writes work there and every {@value #FAILING_SECONDS} s while they
 * fail, so that an idle node notices a full or read-only disk before a client does, and a node taken
 * out for failed writes comes back on its own within seconds of the fault clearing. Each probe
 * reports through the place's own {@link WriteHealth}. Run every second; a probe still running (a
 * hung network store) is not started twice.
 */
public final class WriteProbe implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(WriteProbe.class);
    static final int OK_SECONDS = 15;
    static final int FAILING_SECONDS = 2;
    /** A probe still running after this long counts as a failed write: a hung disk or connection is a fault too. */
    static final int HUNG_SECONDS = 10;

    /** One place and how to write to it once; the write reports to {@code health} itself. */
    public record Target(WriteHealth health, Runnable write) {
    }

    /** One target's probe: whether one is running, and when the last started (System.nanoTime). */
    private record Probe(Target target, AtomicBoolean running, long[] lastNanos) {
    }

    private final List<Probe> probes;

    /**
     * Probes are paced by the machine's monotonic time, not the service clock: they must go on
     * at their pace whatever that clock says (tests freeze it).
     */
    public WriteProbe(List<Target> targets) {
        long never = System.nanoTime() - Duration.ofDays(1).toNanos();
        this.probes = targets.stream().map(t -> new Probe(t, new AtomicBoolean(), new long[] {never})).toList();
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        for (Probe p : probes) {
            WriteHealth health = p.target().health();
            long running = now - p.lastNanos()[0];
            if (p.running().get()) {
                if (running > Duration.ofSeconds(HUNG_SECONDS).toNanos() && health.ok()) {
                    health.failed("a write to the " + health.target() + " has not returned for "
                            + Duration.ofNanos(running).toSeconds() + " s");
                }
                continue;
            }
            long every = Duration.ofSeconds(health.ok() ? OK_SECONDS : FAILING_SECONDS).toNanos();
            if (running < every || !p.running().compareAndSet(false, true)) {
                continue;
            }
            p.lastNanos()[0] = now;
            Thread.ofVirtual().name("write-probe").start(() -> {
                try {
                    p.target().write().run();
                } catch (RuntimeException e) {
                    log.debug("write probe of the {} failed: {}", p.target().health().target(), e.getMessage());
                } finally {
                    p.running().set(false);
                }
            });
        }
    }
}
