package dev.qwenimage.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;

/** A small client of the service's public HTTP API, as a real client would call it. */
public final class Api {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String baseUrl;
    private final String key;

    public Api(String baseUrl, String key) {
        this.baseUrl = baseUrl;
        this.key = key;
    }

    public Api withKey(String otherKey) {
        return new Api(baseUrl, otherKey);
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** A response with its body parsed as JSON (null when the body is not JSON). */
    public record Response(int status, JsonNode json, String body, HttpResponse<byte[]> raw) {
        public String reason() {
            return json == null ? null : json.path("reason").asText(null);
        }
    }

    public Response submit(String jsonBody) {
        return submit(jsonBody, null);
    }

    /** A submit with an {@code Idempotency-Key} header, or none when {@code idempotencyKey} is null. */
    public Response submit(String jsonBody, String idempotencyKey) {
        return post("/v3/async/qwen-image-txt2img", jsonBody, idempotencyKey);
    }

    private Response post(String path, String jsonBody, String idempotencyKey) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        return send(b);
    }

    /** An edit submit (POST /v3/async/qwen-image-edit). */
    public Response edit(String jsonBody) {
        return edit(jsonBody, null);
    }

    /** An edit submit with an {@code Idempotency-Key} header, or none when {@code idempotencyKey} is null. */
    public Response edit(String jsonBody, String idempotencyKey) {
        return post("/v3/async/qwen-image-edit", jsonBody, idempotencyKey);
    }

    /** Submits an edit and returns the task id, failing unless the answer is 200. */
    public String editOk(String jsonBody) {
        Response r = edit(jsonBody);
        if (r.status() != 200) {
            throw new AssertionError("edit answered " + r.status() + ": " + r.body());
        }
        return r.json().get("task_id").asText();
    }

    /** Submits and returns the task id, failing unless the answer is 200. */
    public String submitOk(String jsonBody) {
        Response r = submit(jsonBody);
        if (r.status() != 200) {
            throw new AssertionError("submit answered " + r.status() + ": " + r.body());
        }
        return r.json().get("task_id").asText();
    }

    public Response result(String taskId) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + "/v3/async/task-result?task_id=" + taskId))
                .header("Authorization", "Bearer " + key)
                .GET());
    }

    /** Asks to cancel the task (POST /v3/async/task-cancel). */
    public Response cancel(String taskId) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + "/v3/async/task-cancel"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"task_id\": \"" + taskId + "\"}")));
    }

    /** Polls until the task's status matches, or fails after {@code timeout}. */
    public JsonNode awaitStatus(String taskId, Predicate<String> status, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        JsonNode last = null;
        while (Instant.now().isBefore(deadline)) {
            Response r = result(taskId);
            if (r.status() == 200) {
                last = r.json();
                if (status.test(last.path("task").path("status").asText())) {
                    return last;
                }
            }
            sleep(50);
        }
        throw new AssertionError("task " + taskId + " did not reach the expected status in " + timeout + "; last: " + last);
    }

    /** Waits until one of {@code ids} is PROCESSING with some progress (work under way), or fails after a minute. */
    public void awaitSomeProcessing(java.util.List<String> ids) {
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            for (String id : ids) {
                JsonNode task = result(id).json().get("task");
                if (task.get("status").asText().equals("TASK_STATUS_PROCESSING") && task.get("progress_percent").asInt() > 0) {
                    return;
                }
            }
            sleep(20);
        }
        throw new AssertionError("no task of " + ids.size() + " started within 60 s");
    }

    public JsonNode awaitFinished(String taskId, Duration timeout) {
        return awaitStatus(taskId, s -> s.equals("TASK_STATUS_SUCCEED") || s.equals("TASK_STATUS_FAILED"), timeout);
    }

    /** A GET of {@code path} (e.g. "/readyz") with no auth header. */
    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path)).GET());
    }

    /** GETs {@code path} until it answers {@code status}, or fails after {@code timeout} with the last answer. */
    public Response awaitGet(String path, int status, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Response r = get(path);
        while (r.status() != status && System.nanoTime() < deadline) {
            sleep(100);
            r = get(path);
        }
        if (r.status() != status) {
            throw new AssertionError(path + " did not answer " + status + " within " + timeout + "; last: " + r.status() + " " + r.body());
        }
        return r;
    }

    public Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> r = HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
            JsonNode json = null;
            if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
                json = JSON.readTree(r.body());
            }
            return new Response(r.statusCode(), json, body, r);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A plain GET with no auth header, as a browser or image downloader would do. */
    public static HttpResponse<byte[]> fetch(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
