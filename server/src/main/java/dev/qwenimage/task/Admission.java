package dev.qwenimage.task;

/**
 * What became of a submit: a new task; the task created earlier for the same idempotency key and
 * body (replayed); a refusal because the key was used for a different body; or a refusal because
 * the owner is at one of its caps ({@link NewTask.Caps}).
 */
public sealed interface Admission {

    record Created(String taskId) implements Admission {
    }

    record Replayed(String taskId) implements Admission {
    }

    record KeyReused(String taskId) implements Admission {
    }

    /** The owner already has {@code cap} tasks waiting. */
    record QueueCapReached(long cap) implements Admission {
    }

    /** The owner has had {@code cap} tasks accepted today (UTC). */
    record DailyCapReached(long cap) implements Admission {
    }
}
