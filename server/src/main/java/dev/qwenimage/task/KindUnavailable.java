package dev.qwenimage.task;

import dev.qwenimage.engine.TaskKind;

/**
 * No engine of this service can run tasks of this kind (no configured engine can edit, say): the
 * submit is refused at once (503 with the engines there are) instead of making a task that would
 * wait for good.
 */
public final class KindUnavailable extends RuntimeException {
    private final TaskKind kind;

    public KindUnavailable(TaskKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public TaskKind kind() {
        return kind;
    }
}
