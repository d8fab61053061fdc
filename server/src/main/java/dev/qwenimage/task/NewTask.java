package dev.qwenimage.task;

import java.time.Instant;
import java.util.List;

/**
 * A task about to be enqueued.
 *
 * @param caps    the owner's limits the store enforces in the insert's own transaction
 * @param engines the engines the task may run on; empty: any
 */
public record NewTask(String id, String owner, TaskSpec spec, int maxAttempts, Instant createdAt, Caps caps, List<String> engines) {

    public NewTask {
        engines = List.copyOf(engines);
    }

    /** A task with no caps that may run on any engine. */
    public NewTask(String id, String owner, TaskSpec spec, int maxAttempts, Instant createdAt) {
        this(id, owner, spec, maxAttempts, createdAt, Caps.NONE, List.of());
    }

    /**
     * Caps checked exactly, in the transaction that stores the task: the owner's QUEUED tasks at
     * most {@code maxQueued}, and its tasks accepted since {@code dayStart} at most {@code perDay}
     * (0: no cap).
     */
    public record Caps(long maxQueued, long perDay, Instant dayStart) {
        public static final Caps NONE = new Caps(0, 0, Instant.EPOCH);
    }
}
