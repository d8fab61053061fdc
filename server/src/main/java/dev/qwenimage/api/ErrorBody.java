package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The contract's error body: {@code {"code", "reason", "message", "metadata"}}. {@link #json} is
 * the one renderer of every error the process sends, whether a route raised it ({@link HttpApi})
 * or Jetty refused the request before any route saw it ({@link JettyErrors}).
 */
public record ErrorBody(int code, String reason, String message, Map<String, Object> metadata) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The bytes of the error answer to a request for {@code path}. Under {@code /v1/} (the
     * OpenAI-compatible door) the body also carries OpenAI's {@code {"error": {...}}}, which OpenAI
     * clients read; the contract's fields stay beside it.
     */
    static byte[] json(String path, int status, String reason, String message, Map<String, Object> metadata) {
        Object body;
        if (path != null && path.startsWith("/v1/")) {
            Map<String, Object> wrapped = new LinkedHashMap<>();
            wrapped.put("error", Map.of("message", message, "type", status >= 500 ? "server_error" : "invalid_request_error",
                    "param", metadata.getOrDefault("field", ""), "code", reason.toLowerCase(Locale.ROOT)));
            wrapped.put("code", status);
            wrapped.put("reason", reason);
            wrapped.put("message", message);
            wrapped.put("metadata", metadata);
            body = wrapped;
        } else {
            body = new ErrorBody(status, reason, message, metadata);
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render an error body", e);
        }
    }
}
