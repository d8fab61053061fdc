package dev.qwenimage.task.postgres;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps PostgreSQL's statistics of the tasks table in step with bursts of submits. The planner
 * picks the claim's plan from them: while they say QUEUED rows are rare (as they are when the
 * table was last analyzed with an empty queue, or with a million finished tasks and a short
 * queue), it reads every queued row and sorts them for each claim, instead of taking the first
 * entry of the queue index: claims fall from thousands a second to a few hundred once 20,000
 * tasks wait, until autovacuum analyzes the table (up to a minute later, or much more on a busy
 * database). So a node that has admitted {@code every} tasks since its last ANALYZE runs one, in
 * the background, at most once per {@code minGap}; ANALYZE samples a bounded number of rows, so
 * its cost does not grow with the table.
 */
final class PlannerStatistics {
    private static final Logger LOG = LoggerFactory.getLogger(PlannerStatistics.class);

    interface Analyze {
        void run() throws Exception;
    }

    private final Analyze analyze;
    private final long every;
    private final long minGapNanos;
    private final LongSupplier nanos;
    private final AtomicLong admitted = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile long lastRun;
    private final AtomicLong runs = new AtomicLong();

    PlannerStatistics(Analyze analyze, long every, long minGapMillis, LongSupplier nanos) {
        this.analyze = analyze;
        this.every = every;
        this.minGapNanos = minGapMillis * 1_000_000;
        this.nanos = nanos;
        this.lastRun = nanos.getAsLong() - minGapNanos;
    }

    /** {@code count} tasks were just admitted through this node. */
    void admitted(int count) {
        if (admitted.addAndGet(count) < every || nanos.getAsLong() - lastRun < minGapNanos || !running.compareAndSet(false, true)) {
            return;
        }
        admitted.set(0);
        Thread.ofVirtual().name("pg-analyze-tasks").start(() -> {
            try {
                analyze.run();
                runs.incrementAndGet();
            } catch (Exception e) {
                LOG.debug("ANALYZE of the tasks table failed: {}", e.toString());
            } finally {
                lastRun = nanos.getAsLong();
                running.set(false);
            }
        });
    }

    /** How many times this node has analyzed the table. */
    long runs() {
        return runs.get();
    }
}
