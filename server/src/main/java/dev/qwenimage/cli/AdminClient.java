package dev.qwenimage.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A client of the admin API ({@code /admin/v1/...}, docs/admin.md) as the {@code keys} and
 * {@code usage} commands call it: the admin token as a bearer token, JSON in and out. A refusal
 * or a server that cannot be reached is an {@link AdminException} whose message is one line a
 * person can act on.
 */
final class AdminClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** A value and where it came from (an option, a variable, a file), for messages. */
    record Found(String value, String source) {
    }

    /** A refusal of the server or a failure to reach it, said in one line. */
    static final class AdminException extends RuntimeException {
        private final int status;
        private final String reason;

        AdminException(int status, String reason, String message) {
            super(message);
            this.status = status;
            this.reason = reason;
        }

        /** The HTTP status, or 0 when no answer came. */
        int status() {
            return status;
        }

        /** The error body's {@code reason}, or empty when there was none. */
        String reason() {
            return reason;
        }
    }

    private final HttpClient http;
    private final Found server;
    private final Found token;

    /** @param server the server's base URL, e.g. {@code http://localhost:8080}, and where it came from */
    AdminClient(Found server, Found token) {
        this.server = new Found(server.value().replaceAll("/+$", ""), server.source());
        this.token = token;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();
    }

    String baseUrl() {
        return server.value();
    }

    JsonNode get(String path) {
        return json(send("GET", path, null, "application/json"));
    }

    JsonNode post(String path, JsonNode body) {
        return json(send("POST", path, body, "application/json"));
    }

    JsonNode patch(String path, JsonNode body) {
        return json(send("PATCH", path, body, "application/json"));
    }

    JsonNode delete(String path) {
        return json(send("DELETE", path, null, "application/json"));
    }

    /** A GET answered as text of the type {@code accept} (the usage CSV), returned as the server wrote it. */
    String getText(String path, String accept) {
        return send("GET", path, null, accept).body();
    }

    /** {@code /admin/v1/keys/<id>}, the id encoded as one path segment. */
    static String keyPath(String id, String... more) {
        StringBuilder sb = new StringBuilder("/admin/v1/keys/").append(segment(id));
        for (String m : more) {
            sb.append('/').append(m);
        }
        return sb.toString();
    }

    /** {@code path?name=value&...} for the parameters whose value is not null, in their order. */
    static String withQuery(String path, Map<String, String> params) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        params.forEach((k, v) -> {
            if (v != null) {
                q.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        });
        return path + q;
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpResponse<String> send(String method, String path, JsonNode body, String accept) {
        URI uri;
        try {
            uri = URI.create(server.value() + path);
        } catch (IllegalArgumentException e) {
            throw new AdminException(0, "", "not a URL: " + server.value() + path + " (the server's URL comes from " + server.source() + ")");
        }
        HttpRequest.BodyPublisher publisher;
        try {
            publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request: " + e.getMessage(), e);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token.value())
                .header("Accept", accept)
                .method(method, publisher);
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException e) {
            throw unreachable("no answer within " + CONNECT_TIMEOUT.toSeconds() + "s");
        } catch (HttpTimeoutException e) {
            throw new AdminException(0, "", "the server at " + server.value() + " did not answer " + method + " " + path
                    + " within " + REQUEST_TIMEOUT.toSeconds() + "s");
        } catch (IOException e) {
            throw unreachable(why(e, uri));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(0, "", "interrupted while waiting for " + server.value());
        } catch (IllegalArgumentException e) {
            throw new AdminException(0, "", "cannot call " + server.value() + ": " + oneLine(e.getMessage())
                    + " (the URL comes from " + server.source() + ")");
        }
        if (response.statusCode() >= 400) {
            throw refusal(method, path, response);
        }
        return response;
    }

    /** Why no answer came, in a few words. */
    private static String why(IOException e, URI uri) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return "unknown host " + uri.getHost();
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return "TLS failed: " + oneLine(t.getMessage());
            }
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : oneLine(e.getMessage());
    }

    private AdminException unreachable(String why) {
        return new AdminException(0, "", "no server answers at " + server.value() + " (" + why + "; the URL comes from "
                + server.source() + "): start one with ./qwen-image, or pass --server or set " + AdminOptions.SERVER_VARIABLE
                + " to the server's address");
    }

    /** The error body's message in one line with its status and reason; a hint where the token came from for 401 and 403. */
    private AdminException refusal(String method, String path, HttpResponse<String> response) {
        int status = response.statusCode();
        JsonNode error = null;
        try {
            error = JSON.readTree(response.body());
        } catch (IOException notJson) {
            // said below
        }
        if (error == null || !error.isObject() || !error.hasNonNull("message")) {
            String hint = status == 404 ? ": is " + server.value() + " a qwen-image server with the admin API?"
                    : status == 401 || status == 403 ? " (the admin token came from " + token.source() + ")" : "";
            return new AdminException(status, "", "the server at " + server.value() + " answered " + status + " to "
                    + method + " " + path + hint);
        }
        String reason = error.path("reason").asText("");
        String hint = switch (status) {
            case 401 -> "; the admin token came from " + token.source();
            case 403 -> "; the token from " + token.source() + " is not the admin token";
            default -> "";
        };
        return new AdminException(status, reason, oneLine(error.get("message").asText())
                + " (" + status + (reason.isEmpty() ? "" : " " + reason) + hint + ")");
    }

    private JsonNode json(HttpResponse<String> response) {
        try {
            JsonNode node = JSON.readTree(response.body());
            if (node == null || node.isMissingNode()) {
                throw new IOException("empty body");
            }
            return node;
        } catch (IOException e) {
            throw new AdminException(response.statusCode(), "", "the server at " + server.value() + " answered "
                    + response.request().method() + " " + response.request().uri().getRawPath() + " with something that is not JSON: "
                    + "is it a qwen-image server with the admin API?");
        }
    }

    static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
