package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.qwenimage.task.IdempotencyKey;
import dev.qwenimage.task.Submission;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads and type-checks request bodies: size limit (413), media type (415), JSON syntax and the
 * JSON types of known fields (400). Unknown fields are ignored, as the contract asks.
 */
final class RequestBodies {
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** Bodies up to this size are read and dropped before a 413, larger ones are not read at all. */
    private static final long DRAIN_LIMIT = 1024 * 1024;

    private final ObjectMapper mapper;

    /** Writes maps with their keys sorted: the same JSON content always gives the same bytes. */
    private final ObjectMapper canonical;
    private final Duration requestTimeout;

    RequestBodies(ObjectMapper mapper, Duration requestTimeout) {
        this.mapper = mapper.copy().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.canonical = mapper.copy().enable(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        this.requestTimeout = requestTimeout;
    }

    /** The body as a JSON object, after the size and media-type checks. */
    JsonNode jsonObject(Context ctx) {
        String contentType = ctx.header("Content-Type");
        if (contentType != null && !isJson(contentType)) {
            throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                    "the body must be JSON: send Content-Type: application/json (got " + contentType.strip() + ")");
        }
        byte[] body = readLimited(ctx);
        if (body.length == 0) {
            throw new ApiError(400, "INVALID_JSON", "the request body is empty; send a JSON object such as {\"prompt\": \"a cat\"}");
        }
        JsonNode node;
        try {
            node = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiError(400, "INVALID_JSON", "the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiError(400, "INVALID_JSON", "the request body could not be read");
        }
        if (node == null || !node.isObject()) {
            throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object, e.g. {\"prompt\": \"a cat\", \"size\": \"1024*1024\"}");
        }
        return node;
    }

    /** {@code task_id} of a cancel body. */
    String taskId(JsonNode body) {
        String id = optionalString(body, "task_id", "MISSING_TASK_ID");
        if (id == null || id.isBlank()) {
            throw new ApiError(400, "MISSING_TASK_ID", "the body must name the task: {\"task_id\": \"<id>\"}");
        }
        return id.strip();
    }

    /**
     * The {@code Idempotency-Key} header, if sent, with a digest of the body's content (key order
     * and white space do not count, so a client re-sending the same request matches).
     */
    Optional<IdempotencyKey> idempotencyKey(Context ctx, JsonNode body) {
        String key = ctx.header("Idempotency-Key");
        if (key == null) {
            return Optional.empty();
        }
        key = key.strip();
        if (key.isEmpty() || key.length() > 255) {
            throw new ApiError(400, "INVALID_IDEMPOTENCY_KEY", "the Idempotency-Key header must be 1 to 255 characters");
        }
        try {
            Object content = canonical.treeToValue(body, Object.class);
            byte[] bytes = canonical.writeValueAsBytes(content);
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
            return Optional.of(new IdempotencyKey(key, java.util.HexFormat.of().formatHex(digest)));
        } catch (JsonProcessingException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot digest the request body", e);
        }
    }

    /** The submit fields with their JSON types checked; content rules are the task domain's. */
    Submission submission(JsonNode body) {
        String prompt = optionalString(body, "prompt", "INVALID_PROMPT");
        String size = optionalString(body, "size", "INVALID_SIZE");
        boolean watermark = false;
        JsonNode wm = body.get("watermark");
        if (wm != null && !wm.isNull()) {
            if (!wm.isBoolean()) {
                throw typeError("watermark", "INVALID_WATERMARK", "a boolean (true or false)", wm);
            }
            watermark = wm.booleanValue();
        }
        OptionalLong seed = OptionalLong.empty();
        JsonNode sn = body.get("seed");
        if (sn != null && !sn.isNull()) {
            if (!sn.isIntegralNumber() || !sn.canConvertToLong()) {
                throw typeError("seed", "INVALID_SEED", "a whole number (-1 for a random seed)", sn);
            }
            seed = OptionalLong.of(sn.longValue());
        }
        String negative = optionalString(body, "negative_prompt", "INVALID_NEGATIVE_PROMPT");
        Optional<String> imageType = Optional.empty();
        Optional<String> webhook = Optional.empty();
        JsonNode extra = body.get("extra");
        if (extra != null && !extra.isNull()) {
            if (!extra.isObject()) {
                throw typeError("extra", "INVALID_EXTRA", "an object", extra);
            }
            imageType = Optional.ofNullable(optionalString(extra, "response_image_type", "INVALID_IMAGE_TYPE", "extra."));
            JsonNode hook = extra.get("webhook");
            if (hook != null && !hook.isNull()) {
                if (!hook.isObject()) {
                    throw typeError("extra.webhook", "INVALID_WEBHOOK_URL", "an object such as {\"url\": \"https://...\"}", hook);
                }
                webhook = Optional.ofNullable(optionalString(hook, "url", "INVALID_WEBHOOK_URL", "extra.webhook."));
            }
        }
        return new Submission(prompt, size, watermark, seed, negative == null ? "" : negative, imageType, webhook);
    }

    private static String optionalString(JsonNode body, String field, String reason) {
        return optionalString(body, field, reason, "");
    }

    /** {@code field} of {@code body} as a string, or null; {@code path} prefixes the name in messages (e.g. "extra."). */
    private static String optionalString(JsonNode body, String field, String reason, String path) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw typeError(path + field, reason, "a string", n);
        }
        return n.textValue();
    }

    private static ApiError typeError(String field, String reason, String expected, JsonNode got) {
        return new ApiError(400, reason, field + " must be " + expected + ", got " + describe(got.getNodeType()),
                Map.of("field", field), Map.of());
    }

    private static String describe(JsonNodeType type) {
        return switch (type) {
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }

    private static boolean isJson(String contentType) {
        String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    private byte[] readLimited(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > MAX_BODY_BYTES) {
            // read a moderately large body to its end before answering, so the client, still
            // sending, is not cut off before it can read the 413 (a huge one is cut off anyway)
            if (declared <= DRAIN_LIMIT) {
                try (InputStream in = ctx.req().getInputStream()) {
                    in.skipNBytes(declared);
                } catch (IOException e) {
                    // the client went away; the 413 below is all there is to say
                }
            }
            throw tooLarge();
        }
        try {
            if (declared >= 0) {
                return ctx.bodyAsBytes(); // the usual case: a length within the limit, read the way Javalin reads any body
            }
            try (InputStream in = ctx.req().getInputStream()) { // chunked: read at most one byte past the limit
                byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
                if (body.length > MAX_BODY_BYTES) {
                    throw tooLarge();
                }
                return body;
            }
        } catch (ApiError e) {
            throw e;
        } catch (Exception e) {
            throw unreadable(e);
        }
    }

    /** The answer to a body that could not be read: it stalled or ran out of time (408), or its framing is broken (400). */
    private ApiError unreadable(Exception e) {
        if (JettyErrors.isTimeout(e)) {
            JettyErrors.Answer answer = JettyErrors.timeout(requestTimeout);
            return new ApiError(408, answer.reason(), answer.message());
        }
        if (e instanceof IOException || e instanceof java.io.UncheckedIOException || e instanceof org.eclipse.jetty.http.HttpException) {
            return new ApiError(400, "BAD_REQUEST", "the request body could not be read: it ended before its declared length, "
                    + "or its chunked encoding is malformed");
        }
        throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }

    static ApiError tooLarge() {
        return new ApiError(413, "PAYLOAD_TOO_LARGE", "the request body is larger than " + MAX_BODY_BYTES / 1024 + " KiB");
    }
}
