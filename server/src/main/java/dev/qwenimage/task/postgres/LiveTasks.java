package dev.qwenimage.task.postgres;

import dev.qwenimage.task.Task;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queued and running tasks clients are polling through this node, kept in memory and read
 * back from PostgreSQL in bulk: every {@code refreshEvery}, one statement per thousand ids reads
 * the rows of all tasks polled in the last {@code keepFor}, so that the database sees a few
 * statements a second however many clients poll, and however often. A poll is answered from here
 * only while its copy is younger than {@code maxAge} (a progress change made on any node shows
 * within that); past it (the refresh is failing: PostgreSQL is down or slow) polls read the row
 * themselves and fail as any read does. Writes this node makes to a task drop its copy, so a
 * node's own cancel shows at once.
 *
 * <p>What the refresh finds finished is handed to {@code onFinished} (the finished-task cache)
 * and dropped from here; a row the refresh no longer finds (retention deleted it) is dropped.
 */
final class LiveTasks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveTasks.class);
    private static final int CHUNK = 1000;

    /**
     * A task's row as last read, when it was read, and when a client last asked for it; with no
     * task, a mark that this node changed the task at {@code readAt}, so that no read begun
     * earlier puts back what it saw.
     */
    private record Copy(Task task, long readAt, long polledAt) {
        boolean forgotten() {
            return task == null;
        }
    }

    interface BulkRead {
        /** The rows of those of {@code ids} that still exist. */
        List<Task> read(Collection<String> ids) throws Exception;
    }

    private final Map<String, Copy> copies = new ConcurrentHashMap<>();
    private final BulkRead bulk;
    private final java.util.function.Consumer<Task> onFinished;
    private final LongSupplier nanos;
    private final long maxAgeNanos;
    private final long keepForNanos;
    private final int capacity;
    private final ScheduledExecutorService refresher;

    LiveTasks(BulkRead bulk, java.util.function.Consumer<Task> onFinished, long refreshEveryMillis, long maxAgeMillis,
              long keepForMillis, int capacity) {
        this(bulk, onFinished, System::nanoTime, refreshEveryMillis, maxAgeMillis, keepForMillis, capacity);
    }

    LiveTasks(BulkRead bulk, java.util.function.Consumer<Task> onFinished, LongSupplier nanos, long refreshEveryMillis,
              long maxAgeMillis, long keepForMillis, int capacity) {
        if (maxAgeMillis <= refreshEveryMillis) {
            throw new IllegalArgumentException("copies must live longer than the refresh interval");
        }
        this.bulk = bulk;
        this.onFinished = onFinished;
        this.nanos = nanos;
        this.maxAgeNanos = TimeUnit.MILLISECONDS.toNanos(maxAgeMillis);
        this.keepForNanos = TimeUnit.MILLISECONDS.toNanos(keepForMillis);
        this.capacity = capacity;
        this.refresher = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("pg-live-tasks").factory());
        refresher.scheduleWithFixedDelay(this::refreshQuietly, refreshEveryMillis, refreshEveryMillis, TimeUnit.MILLISECONDS);
    }

    /** The copy of task {@code id} if one is fresh, noting that a client asked for it. */
    Optional<Task> get(String id) {
        long now = nanos.getAsLong();
        Copy c = copies.computeIfPresent(id, (k, old) -> !old.forgotten() && now - old.readAt() <= maxAgeNanos
                ? new Copy(old.task(), old.readAt(), now) : old);
        return c != null && !c.forgotten() && now - c.readAt() <= maxAgeNanos ? Optional.of(c.task()) : Optional.empty();
    }

    /** The now of the clock copies are stamped with: take it before a read whose answer goes to {@link #put}. */
    long now() {
        return nanos.getAsLong();
    }

    /** Keeps {@code task} (read from the database at {@code readAt}) for the polls to come, while there is room. */
    void put(Task task, long readAt) {
        if (task.state().isFinished() || nanos.getAsLong() - readAt > maxAgeNanos
                || copies.size() >= capacity && !copies.containsKey(task.id())) {
            return;
        }
        copies.merge(task.id(), new Copy(task, readAt, readAt), (old, fresh) -> old.readAt() >= readAt ? old : fresh);
    }

    /** Drops the copy of {@code id}: this node has just changed the task. */
    void forget(String id) {
        long now = nanos.getAsLong();
        copies.put(id, new Copy(null, now, now));
    }

    /** Drops every copy: this node has just changed tasks it cannot name. */
    void forgetAll() {
        copies.clear();
    }

    int size() {
        return copies.size();
    }

    /** Reads back every copy polled within {@code keepFor}; forgets the rest. */
    void refresh() throws Exception {
        long start = nanos.getAsLong();
        List<String> ids = new ArrayList<>();
        copies.forEach((id, c) -> {
            if (c.forgotten() ? start - c.readAt() > maxAgeNanos : start - c.polledAt() > keepForNanos) {
                copies.remove(id, c); // a mark older than any read still under way; a task no one polls now
            } else if (!c.forgotten()) {
                ids.add(id);
            }
        });
        for (int from = 0; from < ids.size(); from += CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
            Map<String, Task> found = new java.util.HashMap<>();
            for (Task t : bulk.read(chunk)) {
                found.put(t.id(), t);
            }
            for (String id : chunk) {
                Task t = found.get(id);
                if (t == null) {
                    // deleted (retention): the next poll reads, and finds nothing
                    copies.computeIfPresent(id, (k, old) -> old.readAt() >= start ? old : null);
                } else if (t.state().isFinished()) {
                    onFinished.accept(t);
                    copies.computeIfPresent(id, (k, old) -> old.readAt() >= start ? old : null);
                } else {
                    // never over a copy read (or a change made here) after this refresh began
                    copies.computeIfPresent(id, (k, old) -> old.readAt() >= start ? old : new Copy(t, start, old.polledAt()));
                }
            }
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (Exception e) {
            // the copies age past maxAge and polls read for themselves, failing as reads do
            LOG.debug("could not refresh the {} polled tasks: {}", copies.size(), e.toString());
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
        copies.clear();
    }
}
