package dev.qwenimage.task;

/** What a cancel request did. */
public enum CancelOutcome {
    /** The task was waiting and is now FAILED with reason "cancelled". */
    CANCELLED,
    /** The task is running; its worker stops it at the next step boundary (then FAILED "cancelled"). */
    REQUESTED,
    /** The task had already ended; nothing changed. */
    ALREADY_FINISHED,
    /** No such task. */
    NOT_FOUND
}
