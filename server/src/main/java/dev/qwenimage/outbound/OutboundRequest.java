package dev.qwenimage.outbound;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One call to a user's URL.
 *
 * @param url          checked again when sent (syntax, then the guard on every address)
 * @param headers      request headers; {@code Content-Type} describes {@code body}
 * @param body         the request body, for POST
 * @param timeout      the whole exchange, connection to the last byte of the answer
 * @param maxBodyBytes how much of the answer's body is kept; the rest is not read
 */
public record OutboundRequest(String method, String url, Map<String, String> headers, Optional<byte[]> body,
                              Duration timeout, int maxBodyBytes) {
    public OutboundRequest {
        headers = Map.copyOf(headers);
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes must be 0 or more");
        }
    }

    public static OutboundRequest post(String url, Map<String, String> headers, byte[] body, Duration timeout) {
        return new OutboundRequest("POST", url, headers, Optional.of(body), timeout, 16 * 1024);
    }

    public static OutboundRequest get(String url, Map<String, String> headers, Duration timeout, int maxBodyBytes) {
        return new OutboundRequest("GET", url, headers, Optional.empty(), timeout, maxBodyBytes);
    }
}
