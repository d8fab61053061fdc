package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The answers Jetty gives on its own, before a request reaches a route (a malformed request, two
 * Host headers, two Content-Lengths, headers too large), written as the contract's error body
 * instead of Jetty's HTML page. The reason is the status's name in UPPER_SNAKE
 * ({@code BAD_REQUEST}, {@code REQUEST_HEADER_FIELDS_TOO_LARGE}), or {@code DUPLICATE_HEADER}
 * with {@code metadata.header} for a header sent twice, as {@link HttpApi} answers for the
 * headers it reads.
 */
final class ProtocolErrors extends ErrorHandler {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        byte[] body = body(code, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    static byte[] body(int status, String jettyMessage) {
        String detail = jettyMessage == null ? "" : jettyMessage.strip();
        String lower = detail.toLowerCase(Locale.ROOT);
        ErrorBody body;
        if (status == 400 && lower.contains("host") && (lower.contains("duplicate") || lower.contains("multiple"))) {
            body = duplicate("Host");
        } else if (status == 400 && lower.contains("content-length") && lower.contains("multiple")) {
            body = duplicate("Content-Length");
        } else {
            String name = HttpStatus.getMessage(status);
            String reason = status == 413 ? "PAYLOAD_TOO_LARGE"
                    : name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_").replaceAll("^_|_$", "");
            String message = status == 400 ? "the request is not valid HTTP" + (detail.isEmpty() ? "" : ": " + detail)
                    : name.toLowerCase(Locale.ROOT) + (detail.isEmpty() || detail.equalsIgnoreCase(name) ? "" : ": " + detail);
            body = new ErrorBody(status, reason.isEmpty() ? "HTTP_" + status : reason, message, Map.of());
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render an error body", e);
        }
    }

    /** The answer to a request that names one thing twice (see {@link HttpApi}'s check of the headers it reads). */
    static ErrorBody duplicate(String header) {
        return new ErrorBody(400, "DUPLICATE_HEADER", "the request has more than one " + header
                + " header; send it once (a proxy and this service could otherwise read different ones)", Map.of("header", header));
    }
}
