package dev.qwenimage.sdk;

/**
 * Where a task stands, from the {@code task.status} field ({@code TASK_STATUS_QUEUED} and so on).
 * {@link #UNKNOWN} stands for any status this client does not know.
 */
public enum TaskStatus {
    QUEUED,
    PROCESSING,
    SUCCEED,
    FAILED,
    UNKNOWN;

    private static final String PREFIX = "TASK_STATUS_";

    /** True for {@link #SUCCEED} and {@link #FAILED}: the task will not change any more. */
    public boolean isFinished() {
        return this == SUCCEED || this == FAILED;
    }

    /** The status named by a wire value such as {@code TASK_STATUS_PROCESSING}; {@link #UNKNOWN} for anything else. */
    public static TaskStatus fromWire(String value) {
        if (value == null || !value.startsWith(PREFIX)) {
            return UNKNOWN;
        }
        return switch (value.substring(PREFIX.length())) {
            case "QUEUED" -> QUEUED;
            case "PROCESSING" -> PROCESSING;
            case "SUCCEED" -> SUCCEED;
            case "FAILED" -> FAILED;
            default -> UNKNOWN;
        };
    }

    /** The wire value, e.g. {@code TASK_STATUS_SUCCEED}. */
    public String wireName() {
        return PREFIX + name();
    }
}
