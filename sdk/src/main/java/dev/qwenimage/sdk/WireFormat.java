package dev.qwenimage.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The JSON of the API in both directions: the submit body (only the fields a caller set), task
 * results and error bodies, read leniently (unknown fields ignored, numbers accepted as strings)
 * because the cloud and this server differ in small ways.
 */
final class WireFormat {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_SNIPPET = 200;

    private WireFormat() {
    }

    static byte[] submitBody(GenerateRequest r) {
        ObjectNode body = JSON.createObjectNode();
        body.put("prompt", r.prompt());
        r.size().ifPresent(size -> body.put("size", size));
        if (r.watermark() != null) {
            body.put("watermark", r.watermark());
        }
        if (r.seed() != null) {
            body.put("seed", r.seed());
        }
        if (r.negativePrompt() != null) {
            body.put("negative_prompt", r.negativePrompt());
        }
        if (r.responseImageType() != null || r.webhookUrl() != null) {
            ObjectNode extra = body.putObject("extra");
            if (r.responseImageType() != null) {
                extra.put("response_image_type", r.responseImageType().wireName());
            }
            if (r.webhookUrl() != null) {
                extra.putObject("webhook").put("url", r.webhookUrl().toString());
            }
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON object", e);
        }
    }

    /** The edit's body: the vendor's fields ({@code prompt}, {@code image}, {@code seed}, {@code output_format}, {@code watermark}) and the extensions set. */
    static byte[] editBody(EditRequest r) {
        ObjectNode body = JSON.createObjectNode();
        body.put("prompt", r.prompt());
        body.put("image", r.image().wireValue());
        if (r.seed() != null) {
            body.put("seed", r.seed());
        }
        if (r.outputFormat() != null) {
            body.put("output_format", r.outputFormat().wireName());
        }
        if (r.watermark() != null) {
            body.put("watermark", r.watermark());
        }
        if (r.negativePrompt() != null) {
            body.put("negative_prompt", r.negativePrompt());
        }
        if (r.webhookUrl() != null) {
            body.putObject("extra").putObject("webhook").put("url", r.webhookUrl().toString());
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON object", e);
        }
    }

    static byte[] cancelBody(String taskId) {
        try {
            return JSON.writeValueAsBytes(JSON.createObjectNode().put("task_id", taskId));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON object", e);
        }
    }

    /** The body of a 2xx answer as a JSON object. */
    static JsonNode object(HttpResponse<byte[]> response, String what) {
        JsonNode node;
        try {
            node = JSON.readTree(response.body());
        } catch (IOException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            throw QwenImageException.clientSide(QwenImageException.INVALID_RESPONSE,
                    what + " answered " + response.statusCode() + " with a body that is not a JSON object: "
                            + snippet(response.body()), null);
        }
        return node;
    }

    static String taskId(JsonNode body, HttpResponse<byte[]> response) {
        JsonNode id = body.get("task_id");
        if (id == null || !id.isTextual() || id.textValue().isBlank()) {
            throw QwenImageException.clientSide(QwenImageException.INVALID_RESPONSE,
                    "the submit answer has no task_id: " + snippet(response.body()), null);
        }
        return id.textValue();
    }

    static TaskResult taskResult(JsonNode root, String askedId) {
        JsonNode task = root.path("task");
        if (!task.isObject()) {
            throw QwenImageException.clientSide(QwenImageException.INVALID_RESPONSE,
                    "the task-result answer has no task object: " + snippet(root.toString().getBytes(StandardCharsets.UTF_8)), null);
        }
        String id = task.path("task_id").asText("");
        TaskStatus status = TaskStatus.fromWire(task.path("status").asText(null));
        String reason = task.path("reason").asText("");
        long eta = Math.max(0, task.path("eta").asLong(0));
        int progress = Math.clamp(task.path("progress_percent").asLong(0), 0, 100);
        List<TaskImage> images = new ArrayList<>();
        for (JsonNode image : root.path("images")) {
            String url = image.path("image_url").asText("");
            if (url.isEmpty()) {
                continue;
            }
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw QwenImageException.clientSide(QwenImageException.INVALID_RESPONSE,
                        "the task result has an image_url that is not a URL: " + url, e);
            }
            long ttl = Math.max(0, image.path("image_url_ttl").asLong(0));
            String type = image.path("image_type").asText("");
            JsonNode nsfw = image.path("nsfw_detection_result");
            Optional<NsfwDetection> verdict = nsfw.isObject()
                    ? Optional.of(new NsfwDetection(nsfw.path("valid").asBoolean(false), nsfw.path("confidence").asDouble(0)))
                    : Optional.empty();
            images.add(new TaskImage(uri, Duration.ofSeconds(ttl), type.isEmpty() ? ImageType.JPEG.wireName() : type, verdict));
        }
        JsonNode seedNode = root.path("extra").path("seed");
        OptionalLong seed = seedNode.isIntegralNumber() && seedNode.canConvertToLong()
                ? OptionalLong.of(seedNode.longValue()) : OptionalLong.empty();
        return new TaskResult(id.isEmpty() ? askedId : id, status, reason, Duration.ofSeconds(eta), progress, images, seed);
    }

    /** The exception for a non-2xx answer, from the contract's error body when there is one. */
    static QwenImageException error(HttpResponse<byte[]> response, String what) {
        int status = response.statusCode();
        String reason = "HTTP_" + status;
        String message = null;
        JsonNode metadata = null;
        try {
            JsonNode body = JSON.readTree(response.body());
            if (body != null && body.isObject()) {
                JsonNode r = body.get("reason");
                if (r != null && r.isTextual() && !r.textValue().isBlank()) {
                    reason = r.textValue();
                }
                JsonNode m = body.get("message");
                if (m != null && m.isTextual() && !m.textValue().isBlank()) {
                    message = m.textValue();
                }
                metadata = body.get("metadata");
            }
        } catch (IOException e) {
            // not JSON: a proxy's or gateway's page; the snippet below says what it was
        }
        if (message == null) {
            String text = snippet(response.body());
            message = what + " answered HTTP " + status + (text.isEmpty() ? "" : ": " + text);
        }
        Duration retryAfter = retryAfter(response, metadata);
        return new QwenImageException(status, reason, message, retryAfter, null, null);
    }

    /** {@code Retry-After} as seconds or an HTTP date; else the error body's {@code metadata.retry_after}. */
    static Duration retryAfter(HttpResponse<?> response, JsonNode metadata) {
        Optional<String> header = response.headers().firstValue("Retry-After").map(String::strip).filter(v -> !v.isEmpty());
        if (header.isPresent()) {
            String v = header.get();
            try {
                return Duration.ofMillis(Math.max(0, Math.round(Double.parseDouble(v) * 1000)));
            } catch (NumberFormatException notSeconds) {
                try {
                    Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                    Duration d = Duration.between(Instant.now(), at);
                    return d.isNegative() ? Duration.ZERO : d;
                } catch (DateTimeParseException notADate) {
                    // an unreadable header counts as absent
                }
            }
        }
        if (metadata != null && metadata.path("retry_after").isNumber()) {
            return Duration.ofSeconds(Math.max(0, metadata.path("retry_after").asLong()));
        }
        return null;
    }

    static String snippet(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
        return text.length() > MAX_SNIPPET ? text.substring(0, MAX_SNIPPET) + "..." : text;
    }
}
