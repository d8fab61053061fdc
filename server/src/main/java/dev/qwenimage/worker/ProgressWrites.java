package dev.qwenimage.worker;

import dev.qwenimage.task.TaskStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker node's progress reports, coalesced: each running task's latest percentage waits here
 * and all of them go to the store together, in one write every {@code every} (one statement on
 * PostgreSQL, however many engines the node drives). A flush is scheduled only while reports
 * wait, so an idle node writes nothing. Progress is advisory: a failed flush is logged and
 * dropped, and the next report writes again.
 */
final class ProgressWrites {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressWrites.class);

    private final TaskStore store;
    private final ScheduledExecutorService timers;
    private final long everyMillis;
    private final Map<String, TaskStore.Progress> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    ProgressWrites(TaskStore store, ScheduledExecutorService timers, long everyMillis) {
        this.store = store;
        this.timers = timers;
        this.everyMillis = everyMillis;
    }

    /** Task {@code id} is now at {@code percent} on {@code worker}: written with the next flush. */
    void report(String id, String worker, int percent) {
        pending.put(id, new TaskStore.Progress(id, worker, percent));
        if (scheduled.compareAndSet(false, true)) {
            timers.schedule(this::flush, everyMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** Task {@code id} has ended here: a report still waiting for it is not written. */
    void drop(String id) {
        pending.remove(id);
    }

    void flush() {
        scheduled.set(false);
        List<TaskStore.Progress> batch = new ArrayList<>(pending.size());
        for (String id : List.copyOf(pending.keySet())) {
            TaskStore.Progress p = pending.remove(id);
            if (p != null) {
                batch.add(p);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        try {
            store.updateProgress(batch);
        } catch (RuntimeException e) {
            LOG.warn("could not record the progress of {} running task(s): {}", batch.size(), e.getMessage());
        }
    }
}
