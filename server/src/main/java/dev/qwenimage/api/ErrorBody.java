package dev.qwenimage.api;

import java.util.Map;

/** The contract's error body: {@code {"code", "reason", "message", "metadata"}}. */
public record ErrorBody(int code, String reason, String message, Map<String, Object> metadata) {
}
