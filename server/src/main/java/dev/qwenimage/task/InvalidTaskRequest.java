package dev.qwenimage.task;

/**
 * A submit the service refuses because of its content. {@code reason} is the stable UPPER_SNAKE
 * code clients switch on; {@code field} names the offending field.
 */
public final class InvalidTaskRequest extends RuntimeException {
    private final String reason;
    private final String field;

    public InvalidTaskRequest(String reason, String field, String message) {
        super(message);
        this.reason = reason;
        this.field = field;
    }

    public String reason() {
        return reason;
    }

    public String field() {
        return field;
    }
}
