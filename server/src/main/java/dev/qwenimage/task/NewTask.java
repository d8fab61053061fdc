package dev.qwenimage.task;

import java.time.Instant;

/** A task about to be enqueued. */
public record NewTask(String id, String owner, TaskSpec spec, int maxAttempts, Instant createdAt) {
}
