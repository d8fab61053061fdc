package dev.qwenimage.worker;

import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.task.QueueSignal;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker slots of this process. Each slot claims a task, runs it through a {@link TaskRunner}
 * and claims the next at once; an idle slot blocks on the store's {@link QueueSignal} (with a slow
 * fallback poll for work that becomes claimable later, such as a retry after back-off). The pool
 * also keeps the leases of its running tasks alive ({@link #renewLeases}).
 */
public final class WorkerPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
    /** Longest an idle slot sleeps without a signal; only matters for work no signal announces. */
    private static final Duration FALLBACK_POLL = Duration.ofSeconds(2);

    private final TaskStore store;
    private final TaskRunner runner;
    private final Clock clock;
    private final int slots;
    private final Duration lease;
    private final String workerId;
    private final String engineName;
    private final Map<String, Cancellation> running = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    public WorkerPool(TaskStore store, TaskRunner runner, Clock clock, int slots, Duration lease, String workerId,
                      String engineName) {
        this.store = store;
        this.runner = runner;
        this.clock = clock;
        this.slots = slots;
        this.lease = lease;
        this.workerId = workerId;
        this.engineName = engineName;
    }

    public void start() {
        for (int i = 0; i < slots; i++) {
            threads.add(Thread.ofPlatform().name("worker-slot-" + i).daemon(true).start(this::slotLoop));
        }
    }

    public int slots() {
        return slots;
    }

    public int busySlots() {
        return running.size();
    }

    private void slotLoop() {
        QueueSignal signal = store.signal();
        while (!stopping) {
            try {
                long seen = signal.generation();
                Optional<Task> claimed = store.claim(workerId, engineName, clock.instant(), lease);
                if (claimed.isPresent()) {
                    Task task = claimed.get();
                    Cancellation cancellation = new Cancellation();
                    running.put(task.id(), cancellation);
                    try {
                        if (stopping) {
                            cancellation.cancel(TaskRunner.SHUTDOWN);
                        }
                        runner.run(task, workerId, cancellation);
                    } finally {
                        running.remove(task.id());
                    }
                } else {
                    signal.awaitChange(seen, idleWait());
                }
            } catch (InterruptedException e) {
                if (stopping) {
                    return;
                }
            } catch (RuntimeException e) {
                // the store is unreachable or a bug: keep the slot alive, do not spin
                log.error("worker slot error; retrying in 1 s", e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    if (stopping) {
                        return;
                    }
                }
            }
        }
    }

    /** Until the next delayed task becomes claimable, capped by the fallback poll interval. */
    private Duration idleWait() {
        Instant now = clock.instant();
        return store.nextAvailableAt()
                .filter(at -> at.isAfter(now))
                .map(at -> Duration.between(now, at).plusMillis(1))
                .filter(d -> d.compareTo(FALLBACK_POLL) < 0)
                .orElse(FALLBACK_POLL);
    }

    /**
     * Extends the leases of every running task (called every third of the lease). A task whose
     * lease was lost, because this process stalled longer than the lease and another worker
     * took the task over, is cancelled here so that it stops wasting the engine.
     */
    public void renewLeases() {
        Set<String> ids = new HashSet<>(running.keySet());
        if (ids.isEmpty()) {
            return;
        }
        Set<String> held = store.renewLeases(workerId, ids, clock.instant().plus(lease));
        for (String id : ids) {
            if (!held.contains(id)) {
                Cancellation c = running.get(id);
                if (c != null) {
                    log.warn("lost the lease on task {}; stopping it here", id);
                    c.cancel(TaskRunner.LEASE_LOST);
                }
            }
        }
    }

    /** Stops claiming, gives running tasks back to the queue (at their next step boundary) and waits. */
    @Override
    public void close() {
        stopping = true;
        running.values().forEach(c -> c.cancel(TaskRunner.SHUTDOWN));
        store.signal().raise(); // wakes idle slots, which then see stopping
        for (Thread t : threads) {
            try {
                t.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
