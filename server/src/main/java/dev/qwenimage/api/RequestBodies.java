package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.task.IdempotencyKey;
import dev.qwenimage.task.Submission;
import dev.qwenimage.task.TaskService;
import dev.qwenimage.task.TextRules;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads and type-checks request bodies: media type (415: JSON, in UTF-8, and said so), size limit
 * (413), a body that stops arriving (408), UTF-8 and JSON syntax with each key once per object
 * (400 INVALID_JSON), and the JSON types of known fields (400). Unknown fields are ignored, as the
 * contract asks; {@code null} counts as absent.
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
        this.mapper = mapper.copy().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.canonical = mapper.copy().enable(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        this.requestTimeout = requestTimeout;
    }

    /** The strict mapper bodies are read with (each key once per object, nothing after the value). */
    ObjectMapper mapper() {
        return mapper;
    }

    /** The body as a JSON object, after the media-type and size checks. */
    JsonNode jsonObject(Context ctx) {
        mediaTypeProblem(ctx.header("Content-Type")).ifPresent(problem -> {
            throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", problem);
        });
        byte[] body = readLimited(ctx);
        if (body.length == 0) {
            throw new ApiError(400, "INVALID_JSON", "the request body is empty; send a JSON object such as {\"prompt\": \"a cat\"}");
        }
        utf8Problem(body).ifPresent(problem -> {
            throw new ApiError(400, "INVALID_JSON", problem);
        });
        JsonNode node;
        try {
            node = mapper.readTree(body);
        } catch (IOException e) {
            throw invalidJson(e);
        }
        if (node == null || !node.isObject()) {
            throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object, e.g. {\"prompt\": \"a cat\", \"size\": \"1024*1024\"}");
        }
        return node;
    }

    /** The answer to a body the JSON parser refused (or could not read). */
    static ApiError invalidJson(IOException e) {
        if (!(e instanceof JsonProcessingException j)) {
            return new ApiError(400, "INVALID_JSON", "the request body could not be read");
        }
        String why = j.getOriginalMessage();
        if (why != null && why.startsWith("Duplicate field")) {
            return new ApiError(400, "INVALID_JSON", "the request body is not valid JSON for this API: "
                    + why.replace("Duplicate field", "it names the field") + " twice in one object; send each field once");
        }
        return new ApiError(400, "INVALID_JSON", "the request body is not valid JSON: " + why);
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
        if (key.isEmpty() || key.length() > 255 || !key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw new ApiError(400, "INVALID_IDEMPOTENCY_KEY",
                    "the Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces, e.g. a UUID");
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
        boolean watermark = optionalBoolean(body, "watermark", "INVALID_WATERMARK");
        OptionalLong seed = seed(body);
        String negative = optionalString(body, "negative_prompt", "INVALID_NEGATIVE_PROMPT");
        Optional<String> imageType = extra(body).map(extra ->
                optionalString(extra, "response_image_type", "INVALID_IMAGE_TYPE", "extra."));
        Optional<String> webhook = webhookUrl(body);
        return new Submission(prompt, size, watermark, seed, negative == null ? "" : negative, imageType, webhook);
    }

    /** {@code field} as a JSON boolean, false when absent. */
    static boolean optionalBoolean(JsonNode body, String field, String reason) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw typeError(field, reason, "a boolean (true or false)", n);
        }
        return n.booleanValue();
    }

    /** {@code extra}, when sent: an object. */
    static Optional<JsonNode> extra(JsonNode body) {
        JsonNode extra = body.get("extra");
        if (extra == null || extra.isNull()) {
            return Optional.empty();
        }
        if (!extra.isObject()) {
            throw typeError("extra", "INVALID_EXTRA", "an object", extra);
        }
        return Optional.of(extra);
    }

    /** {@code extra.webhook.url}, when sent. */
    static Optional<String> webhookUrl(JsonNode body) {
        return extra(body).flatMap(extra -> {
            JsonNode hook = extra.get("webhook");
            if (hook == null || hook.isNull()) {
                return Optional.empty();
            }
            if (!hook.isObject()) {
                throw typeError("extra.webhook", "INVALID_WEBHOOK_URL", "an object such as {\"url\": \"https://...\"}", hook);
            }
            return Optional.ofNullable(optionalString(hook, "url", "INVALID_WEBHOOK_URL", "extra.webhook."));
        });
    }

    /**
     * {@code seed} as a JSON integer: written without a fraction or an exponent, not as a string
     * ({@code 1.0}, {@code 1e3} and {@code "7"} are refused); its range is the task domain's.
     */
    static OptionalLong seed(JsonNode body) {
        JsonNode sn = body.get("seed");
        if (sn == null || sn.isNull()) {
            return OptionalLong.empty();
        }
        if (!sn.isIntegralNumber()) {
            throw typeError("seed", "INVALID_SEED", "a whole number written without a fraction or exponent (-1 for a random seed)", sn);
        }
        if (!sn.canConvertToLong()) {
            throw new ApiError(400, "INVALID_SEED", "seed must be -1 (random) or a whole number from 0 to " + TaskService.MAX_SEED
                    + "; got " + abbreviate(sn.asText()), Map.of("field", "seed"), Map.of());
        }
        return OptionalLong.of(sn.longValue());
    }

    static String optionalString(JsonNode body, String field, String reason) {
        return optionalString(body, field, reason, "");
    }

    /** {@code field} of {@code body} as a string, or null; {@code path} prefixes the name in messages (e.g. "extra."). */
    static String optionalString(JsonNode body, String field, String reason, String path) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw typeError(path + field, reason, "a string", n);
        }
        TextRules.unpairedSurrogate(path + field, n.textValue()).ifPresent(problem -> {
            throw new ApiError(400, reason, problem, Map.of("field", path + field), Map.of());
        });
        return n.textValue();
    }

    private static ApiError typeError(String field, String reason, String expected, JsonNode got) {
        return new ApiError(400, reason, field + " must be " + expected + ", got " + describe(got),
                Map.of("field", field), Map.of());
    }

    private static String describe(JsonNode got) {
        return switch (got.getNodeType()) {
            case NUMBER -> "the number " + abbreviate(got.asText());
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            default -> got.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    /**
     * What is wrong with the request's {@code Content-Type}: JSON is required
     * ({@code application/json} or any {@code +json} type), and in UTF-8 (a {@code charset}, when
     * given, must say so). Empty when it is fine.
     */
    static Optional<String> mediaTypeProblem(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return Optional.of("the request has no Content-Type; the body must be JSON: send Content-Type: application/json");
        }
        String[] parts = contentType.split(";");
        String mediaType = parts[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !(mediaType.startsWith("application/") && mediaType.endsWith("+json"))) {
            return Optional.of("the body must be JSON: send Content-Type: application/json (got " + abbreviate(contentType.strip()) + ")");
        }
        for (int i = 1; i < parts.length; i++) {
            String[] param = parts[i].split("=", 2);
            if (param[0].strip().equalsIgnoreCase("charset")) {
                String charset = param.length < 2 ? "" : param[1].strip().replaceAll("^\"|\"$", "");
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    return Optional.of("the body must be JSON in UTF-8: send Content-Type: application/json (or with charset=utf-8); got "
                            + abbreviate(contentType.strip()));
                }
            }
        }
        return Optional.empty();
    }

    /** What is wrong with the body's bytes as UTF-8 JSON text; empty when nothing. */
    private static Optional<String> utf8Problem(byte[] body) {
        for (int i = 0; i < body.length; i++) {
            if (body[i] == 0) {
                return Optional.of("the request body must be JSON text in UTF-8; it holds a NUL byte at byte " + (i + 1)
                        + " (UTF-16 or UTF-32 text?)");
            }
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        CoderResult r = StandardCharsets.UTF_8.newDecoder().decode(in, CharBuffer.allocate(body.length), true);
        if (r.isError()) {
            return Optional.of("the request body is not valid UTF-8 (at byte " + (in.position() + 1) + "); send JSON text in UTF-8");
        }
        return Optional.empty();
    }

    private byte[] readLimited(Context ctx) {
        return readLimited(ctx, MAX_BODY_BYTES);
    }

    /** The body, of at most {@code max} bytes (413 beyond). */
    byte[] readLimited(Context ctx, long max) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) {
            // read a moderately large body to its end before answering, so the client, still
            // sending, is not cut off before it can read the 413 (a huge one is cut off anyway)
            if (declared <= DRAIN_LIMIT) {
                try (InputStream in = ctx.req().getInputStream()) {
                    in.skipNBytes(declared);
                } catch (IOException e) {
                    // the client went away; the 413 below is all there is to say
                }
            }
            throw tooLarge(max);
        }
        try {
            if (declared >= 0 && max == MAX_BODY_BYTES) {
                return ctx.bodyAsBytes(); // the usual case: a length within the limit, read the way Javalin reads any body
            }
            try (InputStream in = ctx.req().getInputStream()) { // a large limit, or chunked: read at most one byte past the limit
                if (declared >= 0) {
                    byte[] body = in.readNBytes((int) declared);
                    if (body.length < declared) {
                        throw new java.io.EOFException("the body ended before its declared length");
                    }
                    return body;
                }
                byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
                if (body.length > max) {
                    throw tooLarge(max);
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
        return tooLarge(MAX_BODY_BYTES);
    }

    static ApiError tooLarge(long max) {
        return new ApiError(413, "PAYLOAD_TOO_LARGE", "the request body is larger than "
                + (max % (1024 * 1024) == 0 || max < 1024 * 1024 ? max / 1024 + " KiB" : dev.qwenimage.health.Bytes.human(max)));
    }
}
