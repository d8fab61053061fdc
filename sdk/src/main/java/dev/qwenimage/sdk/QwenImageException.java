package dev.qwenimage.sdk;

import java.io.Serial;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Every failure of a {@link QwenImageClient} call. When the server answered, {@link #status()} is
 * its HTTP status and {@link #reason()} the stable {@code reason} of its error body
 * ({@code INVALID_SIZE}, {@code INVALID_API_KEY}, {@code RATE_LIMITED}...); otherwise
 * {@link #status()} is 0 and {@link #reason()} one of this class's constants, which say what
 * happened on the client's side. {@link #getMessage()} is the text for people.
 */
public final class QwenImageException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** No answer: the server was unreachable, the connection broke or the call timed out. */
    public static final String NETWORK_ERROR = "NETWORK_ERROR";
    /** {@link QwenImageClient#await} gave up waiting; {@link #taskResult()} is the last state seen. */
    public static final String TIMEOUT = "TIMEOUT";
    /** The task ended {@link TaskStatus#FAILED}; the message is its reason, {@link #taskResult()} the task. */
    public static final String TASK_FAILED = "TASK_FAILED";
    /** The server answered 2xx with a body this client cannot read, or a finished task without an image. */
    public static final String INVALID_RESPONSE = "INVALID_RESPONSE";
    /** The calling thread was interrupted; its interrupt flag is set again. */
    public static final String INTERRUPTED = "INTERRUPTED";

    private final int status;
    private final String reason;
    private final transient Duration retryAfter;
    private final transient TaskResult taskResult;

    /**
     * @param status     the HTTP status, 0 when there was no HTTP answer
     * @param reason     the server's reason code, or one of this class's constants
     * @param message    the text for people
     * @param retryAfter how long the server asked to wait before trying again ({@code Retry-After}), or null
     * @param taskResult the task's last known state, or null
     * @param cause      the underlying exception, or null
     */
    public QwenImageException(int status, String reason, String message, Duration retryAfter, TaskResult taskResult,
                              Throwable cause) {
        super(message, cause);
        this.status = status;
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = retryAfter;
        this.taskResult = taskResult;
    }

    static QwenImageException clientSide(String reason, String message, Throwable cause) {
        return new QwenImageException(0, reason, message, null, null, cause);
    }

    static QwenImageException about(TaskResult task, String reason, String message) {
        return new QwenImageException(0, reason, message, null, task, null);
    }

    /** The HTTP status the server answered, or 0 when it did not answer. */
    public int status() {
        return status;
    }

    /** The stable reason code: the server's ({@code INVALID_SIZE}...) or this class's constants. */
    public String reason() {
        return reason;
    }

    /** How long the server asked to wait before trying again (429 and 503 carry it). */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** The task's last known state, for {@link #TIMEOUT} and {@link #TASK_FAILED}. */
    public Optional<TaskResult> taskResult() {
        return Optional.ofNullable(taskResult);
    }

    /**
     * True when the same call may succeed later: no answer, 408, 425, 429 or a 5xx. Other 4xx
     * mean the request or the key is wrong and will be refused again.
     */
    public boolean isRetryable() {
        if (status == 0) {
            return reason.equals(NETWORK_ERROR);
        }
        return status == 408 || status == 425 || status == 429 || status >= 500;
    }

    /** True for a 4xx answer other than 408, 425 and 429: the request or the API key must change. */
    public boolean isClientError() {
        return status >= 400 && status < 500 && !isRetryable();
    }

    @Override
    public String toString() {
        String where = status > 0 ? "HTTP " + status + " " : "";
        return "QwenImageException[" + where + reason + "]: " + getMessage();
    }
}
