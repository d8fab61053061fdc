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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker slots of this process, grouped in lanes: one lane per engine, with that engine's
 * slots and its {@link EngineGuard}. A slot claims a task only while its engine is up, runs it
 * through a {@link TaskRunner} and claims the next at once, so tasks go to whichever engine has a
 * free slot. An idle slot blocks on the store's {@link QueueSignal} (with a slow fallback poll for
 * work that becomes claimable later, such as a retry after back-off); a slot whose engine is down
 * blocks on the guard. The pool also keeps the leases of its running tasks alive.
 */
public final class WorkerPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
    /** Longest an idle slot sleeps without a signal; only matters for work no signal announces. */
    private static final Duration FALLBACK_POLL = Duration.ofSeconds(2);
    /** How long {@link #close} waits for engines to stop at a step before it releases their tasks' leases itself. */
    static final Duration HAND_BACK_PATIENCE = Duration.ofSeconds(2);

    /** One engine's share of the pool: its guard, how many tasks it runs at once, its time limit per task. */
    public record Lane(EngineGuard guard, int slots, Duration timeout) {
        public String engineName() {
            return guard.engine().name();
        }
    }

    private final TaskStore store;
    private final TaskRunner runner;
    private final Clock clock;
    private final List<Lane> lanes;
    private final Duration lease;
    private final String workerId;
    /** How long a task that failed on an engine is left for the other engines before that engine may retry it. */
    private final Duration othersFirst;
    private final Map<String, Cancellation> running = new ConcurrentHashMap<>();
    /** The engine each running task is on, for per-lane busy counts. */
    private final Map<String, String> runningOn = new ConcurrentHashMap<>();
    /** The running tasks whose engine is still at work on them (the rest are being finished). */
    private final Set<String> generating = ConcurrentHashMap.newKeySet();
    /** The running tasks an engine still holds (not yet let go of): what {@link #close} may have to hand back. */
    private final Set<String> atEngine = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    /**
     * Finish generated images (resize, NSFW check, watermark, JPEG, storage) off the slots, one
     * thread per core; when they fall behind, the queue is short and the slot finishes its own
     * image (caller runs), so work never piles up unbounded.
     */
    private final ThreadPoolExecutor finishers;
    private volatile boolean stopping;
    private final java.util.function.BooleanSupplier writable;
    /** How often a slot paused for failing writes looks again (the write probe retries every 2 s). */
    private static final long WRITES_PAUSE_MILLIS = 250;

    /**
     * @param writable whether this node's writes work now (task store and image store): while they
     *                 fail, slots claim nothing, so no task spends an attempt on a result that could
     *                 not be recorded
     */
    public WorkerPool(TaskStore store, TaskRunner runner, Clock clock, List<Lane> lanes, Duration lease, String workerId,
                      Duration othersFirst, java.util.function.BooleanSupplier writable) {
        this.writable = writable;
        this.store = store;
        this.runner = runner;
        this.clock = clock;
        this.lanes = List.copyOf(lanes);
        this.lease = lease;
        this.workerId = workerId;
        this.othersFirst = othersFirst;
        int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
        this.finishers = new ThreadPoolExecutor(cores, cores, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(Math.max(1, slots())), Thread.ofPlatform().name("finisher-", 0).daemon(true).factory(),
                new ThreadPoolExecutor.CallerRunsPolicy());
    }

    public void start() {
        for (Lane lane : lanes) {
            for (int i = 0; i < lane.slots(); i++) {
                threads.add(Thread.ofPlatform().name("slot-" + lane.engineName() + "-" + i).daemon(true)
                        .start(() -> slotLoop(lane)));
            }
        }
    }

    public List<Lane> lanes() {
        return lanes;
    }

    public int slots() {
        return lanes.stream().mapToInt(Lane::slots).sum();
    }

    /** Whether this node's writes work, so its slots may claim work (see the constructor). */
    public boolean writable() {
        return writable.getAsBoolean();
    }

    /** Slots whose engine is up now. */
    public int usableSlots() {
        return lanes.stream().filter(l -> l.guard().isUp()).mapToInt(Lane::slots).sum();
    }

    /** Slots whose engine is working on a task now. */
    public int busySlots() {
        return generating.size();
    }

    /** Slots of {@code lane} whose engine is working on a task now: at most the lane's slots. */
    public int busySlots(Lane lane) {
        return (int) runningOn.entrySet().stream()
                .filter(e -> e.getValue().equals(lane.engineName()) && generating.contains(e.getKey())).count();
    }

    /** Tasks of {@code lane} its engine is done with that are being finished (post-processing, storage). */
    public int finishing(Lane lane) {
        return (int) runningOn.entrySet().stream()
                .filter(e -> e.getValue().equals(lane.engineName()) && !generating.contains(e.getKey())).count();
    }

    /** Running tasks this pool gave back to the queue when it was closed. */
    public int handedBack() {
        return runner.handedBack();
    }

    public String workerId() {
        return workerId;
    }

    private void slotLoop(Lane lane) {
        QueueSignal signal = store.signal();
        while (!stopping) {
            try {
                if (!lane.guard().isUp()) {
                    lane.guard().awaitUp(FALLBACK_POLL);
                    continue;
                }
                if (!writable.getAsBoolean()) {
                    Thread.sleep(WRITES_PAUSE_MILLIS);
                    continue;
                }
                long seen = signal.generation();
                Optional<Task> claimed = store.claim(workerId, lane.engineName(), lane.guard().engine().kinds(), clock.instant(), lease,
                        lanes.size() > 1 ? othersFirst : Duration.ZERO);
                if (claimed.isPresent()) {
                    Task task = claimed.get();
                    Cancellation cancellation = new Cancellation();
                    generating.add(task.id()); // first, so the task is never counted as finishing before it ran
                    atEngine.add(task.id());
                    running.put(task.id(), cancellation);
                    runningOn.put(task.id(), lane.engineName());
                    if (stopping) {
                        cancellation.cancel(TaskRunner.SHUTDOWN);
                    }
                    // the slot is free again as soon as the engine is: the image is finished on
                    // the finishers while this slot already runs the next task
                    try {
                        runner.run(task, lane, workerId, cancellation, finishers, () -> atEngine.remove(task.id()), () -> {
                            running.remove(task.id());
                            runningOn.remove(task.id());
                        });
                    } finally {
                        atEngine.remove(task.id());
                        generating.remove(task.id());
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

    /** Probes every engine whose check is due, each on its own virtual thread so a hung engine delays no other. */
    public void checkEngines() {
        for (Lane lane : lanes) {
            Thread.ofVirtual().name("probe-" + lane.engineName()).start(lane.guard()::checkIfDue);
        }
    }

    /**
     * The first probe of every engine, waited for up to {@code patience} in all (start-up: the
     * banner then shows real states); an engine that takes longer keeps being probed in the background.
     */
    public void checkEnginesAndWait(Duration patience) {
        List<Thread> probes = new ArrayList<>();
        for (Lane lane : lanes) {
            probes.add(Thread.ofVirtual().name("probe-" + lane.engineName()).start(lane.guard()::checkIfDue));
        }
        long deadline = System.nanoTime() + patience.toNanos();
        try {
            for (Thread t : probes) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops a task this process runs, at its next step boundary (a client cancelled it). */
    public void cancel(String taskId) {
        Cancellation c = running.get(taskId);
        if (c != null) {
            c.cancel(TaskRunner.CANCELLED);
        }
    }

    /** Stops the running tasks whose cancel was asked for on any node (called every second). */
    public void checkCancellations() {
        if (running.isEmpty()) {
            return;
        }
        for (String id : store.cancelRequested(new HashSet<>(running.keySet()))) {
            cancel(id);
        }
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

    /**
     * The first step of a graceful stop (a drain): slots claim nothing more from now on, while the
     * tasks running here go on. Idempotent; {@link #close} still hands back whatever is left.
     */
    public void stopClaiming() {
        if (stopping) {
            return;
        }
        stopping = true;
        store.signal().raise(); // wakes idle slots, which then see stopping
        lanes.forEach(l -> l.guard().wakeWaiters()); // and slots waiting for their engine
    }

    /** Tasks this process has now: at an engine or being finished (post-processing, storage). */
    public int running() {
        return running.size();
    }

    /**
     * Waits until no task runs here (none at an engine, none being finished), for at most
     * {@code patience}; answers whether none is left. Call after {@link #stopClaiming}.
     */
    public boolean awaitIdle(Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        try {
            while (!running.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                Thread.sleep(Math.min(20, Math.max(1, left / 1_000_000)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return running.isEmpty();
        }
        return true;
    }

    /**
     * Stops claiming and gives the tasks still at an engine back to the queue now, without
     * spending an attempt, so another worker can take them at once: each is cancelled (engines stop
     * at their next step and interrupt their remote job), and one whose engine has not let go
     * within {@link #HAND_BACK_PATIENCE} has its lease released here all the same (its late result,
     * if any, is not recorded: the store only takes it from the lease owner). Images already
     * generated are finished and stored; then the slots and finishers are waited for.
     */
    @Override
    public void close() {
        stopClaiming();
        running.values().forEach(c -> c.cancel(TaskRunner.SHUTDOWN));
        try {
            long deadline = System.nanoTime() + HAND_BACK_PATIENCE.toNanos();
            while (!atEngine.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            for (String id : Set.copyOf(atEngine)) {
                log.warn("task {}: its engine did not stop within {} ms; handing it back to the queue now", id,
                        HAND_BACK_PATIENCE.toMillis());
                runner.handBack(id, workerId);
            }
            long joinDeadline = System.nanoTime() + 15_000_000_000L;
            for (Thread t : threads) {
                long left = joinDeadline - System.nanoTime();
                if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                    break; // a slot stuck in an engine call: its task is handed back already, it is a daemon
                }
            }
            finishers.shutdown();
            finishers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
