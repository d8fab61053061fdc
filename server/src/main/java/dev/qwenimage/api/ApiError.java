package dev.qwenimage.api;

import java.util.Map;

/**
 * An HTTP-level refusal (auth, method, media type, size, bad link) carrying everything the
 * contract's error body needs: status, stable reason code, a message for people, metadata.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String reason;
    private final Map<String, Object> metadata;
    private final Map<String, String> headers;

    public ApiError(int status, String reason, String message) {
        this(status, reason, message, Map.of(), Map.of());
    }

    public ApiError(int status, String reason, String message, Map<String, Object> metadata, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.reason = reason;
        this.metadata = metadata;
        this.headers = headers;
    }

    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
