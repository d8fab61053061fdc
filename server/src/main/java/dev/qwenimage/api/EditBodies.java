package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.edit.ImageRejected;
import dev.qwenimage.edit.ImageSource;
import dev.qwenimage.task.EditSubmission;
import dev.qwenimage.task.IdempotencyKey;
import io.javalin.http.Context;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the body of {@code POST /v3/async/qwen-image-edit}: JSON of up to the edit's own limit
 * (an image of 20 MB in base64 is 27 MB of text). The body is held once, as bytes; the image's
 * string is never made a Java string: its place in the body is noted while the other fields are
 * parsed, and its base64 is decoded straight from the body's bytes, so a large edit costs the body
 * plus the decoded image, not three copies of it.
 */
final class EditBodies {
    private final ObjectMapper mapper;
    /** Reads one field's value in the middle of the body (the body's own end is checked once, at its end). */
    private final com.fasterxml.jackson.databind.ObjectReader fields;
    private final RequestBodies bodies;
    private final long maxBodyBytes;
    private final long maxImageBytes;

    /** An edit's fields, its image's source and, when sent, its idempotency key with the digest of the whole body. */
    record EditRequest(EditSubmission submission, ImageSource image, Optional<IdempotencyKey> key) {
    }

    EditBodies(ObjectMapper mapper, RequestBodies bodies, long maxBodyBytes, long maxImageBytes) {
        this.mapper = mapper;
        this.fields = mapper.reader().without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.bodies = bodies;
        this.maxBodyBytes = maxBodyBytes;
        this.maxImageBytes = maxImageBytes;
    }

    EditRequest read(Context ctx) {
        RequestBodies.mediaTypeProblem(ctx.header("Content-Type")).ifPresent(problem -> {
            throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", problem);
        });
        byte[] body = bodies.readLimited(ctx, maxBodyBytes);
        if (body.length == 0) {
            throw new ApiError(400, "INVALID_JSON", "the request body is empty; send a JSON object such as "
                    + "{\"prompt\": \"make the sky purple\", \"image\": \"https://...\"}");
        }
        for (int i = 0; i < Math.min(4, body.length); i++) {
            // UTF-16 and UTF-32 JSON start with a NUL byte among the first four (the parser would take them, by other offsets)
            if (body[i] == 0) {
                throw new ApiError(400, "INVALID_JSON", "the request body must be JSON text in UTF-8; it holds a NUL byte at byte "
                        + (i + 1) + " (UTF-16 or UTF-32 text?)");
            }
        }
        ObjectNode rest = mapper.createObjectNode();
        int imageStart = -1;
        boolean imageSeen = false;
        try (JsonParser p = mapper.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ApiError(400, "INVALID_JSON", "the request body must be a JSON object, e.g. "
                        + "{\"prompt\": \"make the sky purple\", \"image\": \"https://...\"}");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("image")) {
                    if (imageSeen) {
                        throw new ApiError(400, "INVALID_JSON", "the request body is not valid JSON for this API: it names the "
                                + "field \"image\" twice in one object; send each field once");
                    }
                    imageSeen = true;
                    if (value == JsonToken.VALUE_NULL) {
                        continue;
                    }
                    if (value != JsonToken.VALUE_STRING) {
                        p.skipChildren();
                        throw invalidImage("image must be a string: an http(s) URL, a data: URI or base64; got " + describe(value));
                    }
                    JsonLocation at = p.currentTokenLocation();
                    if (at.getByteOffset() < 0 || at.getByteOffset() >= body.length || body[(int) at.getByteOffset()] != '"') {
                        throw new ApiError(400, "INVALID_JSON", "the request body must be JSON text in UTF-8");
                    }
                    imageStart = (int) at.getByteOffset(); // the opening quote; the string itself is skipped, never decoded
                    continue;
                }
                if (rest.has(field)) {
                    throw new ApiError(400, "INVALID_JSON", "the request body is not valid JSON for this API: it names the field \""
                            + field + "\" twice in one object; send each field once");
                }
                JsonNode node = fields.readTree(p);
                rest.set(field, node);
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new ApiError(400, "INVALID_JSON", "the request body is not valid JSON: it goes on after its object ends");
            }
        } catch (ApiError e) {
            throw e;
        } catch (IOException e) {
            throw RequestBodies.invalidJson(e);
        }
        if (imageStart < 0) {
            throw invalidImage("image is required: send the picture to edit as an http(s) URL, a data: URI or base64, "
                    + "e.g. {\"prompt\": \"make the sky purple\", \"image\": \"https://example.com/photo.jpg\"}");
        }
        int start = imageStart + 1;
        int end = closingQuote(body, start);
        EditSubmission submission = submission(rest);
        Optional<IdempotencyKey> key = bodies.idempotencyKey(ctx, rest).map(k -> new IdempotencyKey(k.key(),
                digest(k.bodyDigest(), body, start, end)));
        return new EditRequest(submission, source(body, start, end), key);
    }

    /** The edit's fields other than the image, their JSON types checked. */
    private static EditSubmission submission(JsonNode body) {
        String prompt = RequestBodies.optionalString(body, "prompt", "INVALID_PROMPT");
        boolean watermark = RequestBodies.optionalBoolean(body, "watermark", "INVALID_WATERMARK");
        String format = RequestBodies.optionalString(body, "output_format", "INVALID_OUTPUT_FORMAT");
        String negative = RequestBodies.optionalString(body, "negative_prompt", "INVALID_NEGATIVE_PROMPT");
        return new EditSubmission(prompt, RequestBodies.seed(body), Optional.ofNullable(format), watermark,
                negative == null ? "" : negative, RequestBodies.webhookUrl(body));
    }

    /** Where the image's JSON string, opening at {@code from - 1}, closes. */
    private static int closingQuote(byte[] body, int from) {
        for (int i = from; i < body.length; i++) {
            if (body[i] == '\\') {
                i++;
            } else if (body[i] == '"') {
                return i;
            }
        }
        throw new ApiError(400, "INVALID_JSON", "the request body is not valid JSON: the image's string never ends");
    }

    /** The image's source from its string's bytes {@code [from, to)} of {@code body}. */
    private ImageSource source(byte[] body, int from, int to) {
        byte[] text = body;
        int start = from;
        int end = to;
        for (int i = from; i < to; i++) {
            if (body[i] == '\\') { // an escape (a client that writes "\/" for "/"): unescape this one string
                text = unescape(body, from, to);
                start = 0;
                end = text.length;
                break;
            }
        }
        while (start < end && isSpace(text[start])) {
            start++;
        }
        while (end > start && isSpace(text[end - 1])) {
            end--;
        }
        if (end == start) {
            throw invalidImage("image is empty; send the picture to edit as an http(s) URL, a data: URI or base64");
        }
        String head = new String(text, start, Math.min(end - start, 16), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        if (head.startsWith("http://") || head.startsWith("https://")) {
            if (end - start > dev.qwenimage.outbound.OutboundUrl.MAX_LENGTH) {
                throw new ImageRejected(ImageRejected.IMAGE_FETCH_FAILED, "the image URL is longer than "
                        + dev.qwenimage.outbound.OutboundUrl.MAX_LENGTH + " characters");
            }
            return new ImageSource.Url(new String(text, start, end - start, StandardCharsets.UTF_8));
        }
        if (head.startsWith("data:")) {
            int comma = -1;
            for (int i = start; i < end && i < start + 256; i++) {
                if (text[i] == ',') {
                    comma = i;
                    break;
                }
            }
            if (comma < 0) {
                throw invalidImage("image is a data: URI without its ',' : write it as data:image/png;base64,<base64>");
            }
            String meta = new String(text, start, comma - start, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            if (!meta.endsWith(";base64")) {
                throw invalidImage("image is a data: URI that is not base64 (" + meta + "); write it as data:image/png;base64,<base64>");
            }
            start = comma + 1;
        } else if (head.matches("^[a-z][a-z0-9+.-]*://.*")) {
            throw new ImageRejected(ImageRejected.IMAGE_FETCH_FAILED, "image is a URL of a scheme this service does not fetch ("
                    + head.substring(0, head.indexOf(':')) + "); send an http(s) URL, a data: URI or base64");
        }
        return new ImageSource.Inline(base64(text, start, end));
    }

    /** Decodes base64 (standard or URL-safe alphabet, line breaks allowed) from {@code [from, to)}, refusing anything else. */
    private byte[] base64(byte[] text, int from, int to) {
        int symbols = 0;
        boolean urlSafe = false;
        for (int i = from; i < to; i++) {
            int c = text[i] & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/') {
                symbols++;
            } else if (c == '-' || c == '_') {
                symbols++;
                urlSafe = true;
            } else if (c != '=' && !isSpace(text[i])) {
                throw invalidImage("image is neither an http(s) URL nor base64: it holds "
                        + (c < 0x20 || c > 0x7e ? "the byte 0x" + Integer.toHexString(c) : "'" + (char) c + "'")
                        + " at character " + (i - from + 1) + "; send a URL, a data: URI or the file's bytes in base64");
            }
        }
        long decoded = symbols * 3L / 4;
        if (decoded > maxImageBytes) {
            throw ImageRejected.tooLarge(decoded, maxImageBytes);
        }
        InputStream in = new ByteArrayInputStream(text, from, to - from);
        if (urlSafe) {
            in = new UrlSafeToStandard(in);
        }
        try (InputStream decoder = Base64.getMimeDecoder().wrap(in)) {
            return decoder.readAllBytes();
        } catch (IOException | IllegalArgumentException e) {
            throw invalidImage("image is not valid base64 (" + e.getMessage() + "); send the file's bytes in base64");
        }
    }

    /** Reads the URL-safe base64 alphabet as the standard one. */
    private static final class UrlSafeToStandard extends java.io.FilterInputStream {
        UrlSafeToStandard(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            return c == '-' ? '+' : c == '_' ? '/' : c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            for (int i = off; i < off + Math.max(0, n); i++) {
                b[i] = b[i] == '-' ? (byte) '+' : b[i] == '_' ? (byte) '/' : b[i];
            }
            return n;
        }
    }

    /**
     * The JSON string {@code [from, to)} of {@code body} with its escapes resolved, into one byte
     * array no longer than the string (no Java string of it: an image is many megabytes, and a
     * client such as PHP's json_encode writes every {@code /} of its base64 as {@code \/}).
     */
    private static byte[] unescape(byte[] body, int from, int to) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            byte b = body[i];
            if (b != '\\') {
                out.write(b);
                continue;
            }
            if (++i >= to) {
                throw malformed();
            }
            switch (body[i]) {
                case '"', '\\', '/' -> out.write(body[i]);
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'u' -> {
                    if (i + 4 >= to) {
                        throw malformed();
                    }
                    int c;
                    try {
                        c = Integer.parseInt(new String(body, i + 1, 4, StandardCharsets.US_ASCII), 16);
                    } catch (NumberFormatException e) {
                        throw malformed();
                    }
                    byte[] utf8 = String.valueOf((char) c).getBytes(StandardCharsets.UTF_8);
                    out.write(utf8, 0, utf8.length);
                    i += 4;
                }
                default -> throw malformed();
            }
        }
        return out.toByteArray();
    }

    private static ApiError malformed() {
        return new ApiError(400, "INVALID_JSON", "the request body is not valid JSON: the image's string holds a malformed escape");
    }

    /** The body's digest for idempotency: the other fields' canonical digest and the image string's bytes. */
    private static String digest(String restDigest, byte[] body, int from, int to) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(restDigest.getBytes(StandardCharsets.US_ASCII));
            sha.update((byte) 0);
            sha.update(body, from, to - from);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            default -> t.name().toLowerCase(Locale.ROOT);
        };
    }

    private static ImageRejected invalidImage(String message) {
        return new ImageRejected(ImageRejected.INVALID_IMAGE, message);
    }
}
