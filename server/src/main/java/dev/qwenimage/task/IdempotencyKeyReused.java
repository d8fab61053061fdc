package dev.qwenimage.task;

/** An {@code Idempotency-Key} sent again with a different body (answered 422). */
public final class IdempotencyKeyReused extends RuntimeException {
    private final String taskId;

    public IdempotencyKeyReused(String key, String taskId) {
        super("the Idempotency-Key '" + key + "' was already used with a different request body (for task " + taskId
                + "); use a new key for a new request", null, false, false);
        this.taskId = taskId;
    }

    public String taskId() {
        return taskId;
    }
}
