package dev.qwenimage.task;

/**
 * What became of a submit that carried an {@code Idempotency-Key}: a new task, the task created
 * earlier for the same key and body (replayed), or a refusal because the key was used for a
 * different body.
 */
public sealed interface Admission {
    String taskId();

    record Created(String taskId) implements Admission {
    }

    record Replayed(String taskId) implements Admission {
    }

    record KeyReused(String taskId) implements Admission {
    }
}
