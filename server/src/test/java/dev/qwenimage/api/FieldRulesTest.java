package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.RawHttp;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The README's table of field rules, row by row, on both doors: the async submit and the
 * OpenAI-compatible generation. One rule per field, the same on every door: what one accepts the
 * other accepts (in its own spelling), and what one refuses the other refuses with the same reason.
 */
class FieldRulesTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    private static final String P = "\"prompt\": \"a cat\"";

    /** Rows: what, the body of an async submit, and the reason it is refused with, or null when it is accepted. */
    static Stream<Arguments> asyncSubmits() {
        return Stream.of(
                // size
                ok("the smallest size", "{" + P + ", \"size\": \"256*256\"}"),
                ok("the largest size", "{" + P + ", \"size\": \"1536*1536\"}"),
                ok("white space around the size", "{" + P + ", \"size\": \" 512*768 \"}"),
                ok("tabs and new lines around the size", "{" + P + ", \"size\": \"\\t512*512\\n\"}"),
                ok("null size (the default)", "{" + P + ", \"size\": null}"),
                no("a leading zero on both sides", "{" + P + ", \"size\": \"0256*0256\"}", "INVALID_SIZE"),
                no("many leading zeros", "{" + P + ", \"size\": \"00000256*256\"}", "INVALID_SIZE"),
                no("a leading zero on the height", "{" + P + ", \"size\": \"256*0256\"}", "INVALID_SIZE"),
                no("a plus sign", "{" + P + ", \"size\": \"+512*512\"}", "INVALID_SIZE"),
                no("a minus sign", "{" + P + ", \"size\": \"-512*512\"}", "INVALID_SIZE"),
                no("white space inside the size", "{" + P + ", \"size\": \"512 * 512\"}", "INVALID_SIZE"),
                no("OpenAI's x on the async door", "{" + P + ", \"size\": \"512x512\"}", "INVALID_SIZE"),
                no("three sides", "{" + P + ", \"size\": \"512*512*512\"}", "INVALID_SIZE"),
                no("non-ASCII digits", "{" + P + ", \"size\": \"\u0665\u0661\u0662*\u0665\u0661\u0662\"}", "INVALID_SIZE"),
                no("a fraction", "{" + P + ", \"size\": \"512.0*512\"}", "INVALID_SIZE"),
                no("an empty size", "{" + P + ", \"size\": \"\"}", "INVALID_SIZE"),
                no("a side below the range", "{" + P + ", \"size\": \"255*512\"}", "INVALID_SIZE"),
                no("a side above the range", "{" + P + ", \"size\": \"512*1537\"}", "INVALID_SIZE"),
                no("a size that is a number", "{" + P + ", \"size\": 512}", "INVALID_SIZE"),
                // prompt
                ok("a prompt with new lines, tabs and carriage returns", "{\"prompt\": \"a cat\\non a mat\\tat noon\\r\"}"),
                ok("a prompt outside the BMP", "{\"prompt\": \"\\ud83d\\ude00 a smiling cat\"}"),
                ok("a prompt with a zero width joiner", "{\"prompt\": \"\\ud83d\\udc69\\u200d\\ud83d\\udcbb\"}"),
                no("a prompt of only NUL", "{\"prompt\": \"\\u0000\"}", "INVALID_PROMPT"),
                no("a NUL inside a prompt", "{\"prompt\": \"a c\\u0000t\"}", "INVALID_PROMPT"),
                no("a bell character", "{\"prompt\": \"a cat\\u0007\"}", "INVALID_PROMPT"),
                no("DEL", "{\"prompt\": \"a cat\\u007f\"}", "INVALID_PROMPT"),
                no("a C1 control", "{\"prompt\": \"a cat\\u0085\"}", "INVALID_PROMPT"),
                no("a vertical tab", "{\"prompt\": \"a\\u000bcat\"}", "INVALID_PROMPT"),
                no("a lone high surrogate", "{\"prompt\": \"a cat \\ud800\"}", "INVALID_PROMPT"),
                no("a lone low surrogate", "{\"prompt\": \"\\udc00 a cat\"}", "INVALID_PROMPT"),
                no("a surrogate pair written backwards", "{\"prompt\": \"\\ude00\\ud83d\"}", "INVALID_PROMPT"),
                no("a prompt of white space only", "{\"prompt\": \" \\n\\t \"}", "INVALID_PROMPT"),
                no("a prompt of no-break and ideographic spaces", "{\"prompt\": \"\\u00a0\\u3000\"}", "INVALID_PROMPT"),
                no("a prompt of a zero width space", "{\"prompt\": \"\\u200b\"}", "INVALID_PROMPT"),
                no("a prompt of a byte order mark", "{\"prompt\": \"\\ufeff\"}", "INVALID_PROMPT"),
                no("a prompt that is a number", "{\"prompt\": 7}", "INVALID_PROMPT"),
                no("no prompt", "{\"size\": \"256*256\"}", "INVALID_PROMPT"),
                // negative_prompt
                ok("an empty negative prompt", "{" + P + ", \"negative_prompt\": \"\"}"),
                ok("a blank negative prompt", "{" + P + ", \"negative_prompt\": \"  \"}"),
                no("a control character in the negative prompt", "{" + P + ", \"negative_prompt\": \"blur\\u0000\"}",
                        "INVALID_NEGATIVE_PROMPT"),
                no("a lone surrogate in the negative prompt", "{" + P + ", \"negative_prompt\": \"\\ud800\"}", "INVALID_NEGATIVE_PROMPT"),
                // seed
                ok("seed -1", "{" + P + ", \"seed\": -1}"),
                ok("seed 0", "{" + P + ", \"seed\": 0}"),
                ok("seed 2^53-1", "{" + P + ", \"seed\": 9007199254740991}"),
                no("seed -2", "{" + P + ", \"seed\": -2}", "INVALID_SEED"),
                no("seed 2^53", "{" + P + ", \"seed\": 9007199254740992}", "INVALID_SEED"),
                no("seed 2^63", "{" + P + ", \"seed\": 9223372036854775808}", "INVALID_SEED"),
                no("seed 1.5", "{" + P + ", \"seed\": 1.5}", "INVALID_SEED"),
                no("seed 1.0", "{" + P + ", \"seed\": 1.0}", "INVALID_SEED"),
                no("seed 1e3", "{" + P + ", \"seed\": 1e3}", "INVALID_SEED"),
                no("seed \"abc\"", "{" + P + ", \"seed\": \"abc\"}", "INVALID_SEED"),
                no("seed \"42\"", "{" + P + ", \"seed\": \"42\"}", "INVALID_SEED"),
                // watermark
                ok("watermark true", "{" + P + ", \"watermark\": true}"),
                no("watermark \"true\"", "{" + P + ", \"watermark\": \"true\"}", "INVALID_WATERMARK"),
                no("watermark 1", "{" + P + ", \"watermark\": 1}", "INVALID_WATERMARK"),
                // the body
                no("a key twice", "{\"prompt\": \"a cat\", \"prompt\": \"a dog\"}", "INVALID_JSON"),
                no("a key twice, nested", "{" + P + ", \"extra\": {\"response_image_type\": \"png\", \"response_image_type\": \"jpeg\"}}",
                        "INVALID_JSON"),
                ok("unknown fields", "{" + P + ", \"model_name\": \"x\", \"extra\": {\"foo\": 1}}"),
                // a lone surrogate in any string is refused with that field's reason, never stored as '?'
                no("a lone surrogate in the webhook URL", "{" + P + ", \"extra\": {\"webhook\": {\"url\": \"https://example.com/\\ud800\"}}}",
                        "INVALID_WEBHOOK_URL"),
                no("a lone surrogate in the image type", "{" + P + ", \"extra\": {\"response_image_type\": \"\\udfffpng\"}}",
                        "INVALID_IMAGE_TYPE"),
                no("a lone surrogate in the size", "{" + P + ", \"size\": \"512*512\\ud800\"}", "INVALID_SIZE"));
    }

    /** Rows: what, the body of an OpenAI generation, and the reason it is refused with, or null. */
    static Stream<Arguments> openAiGenerations() {
        return Stream.of(
                ok("WxH", "{" + P + ", \"size\": \"256x256\"}"),
                ok("WXH", "{" + P + ", \"size\": \"256X256\"}"),
                ok("W*H", "{" + P + ", \"size\": \"256*256\"}"),
                ok("white space around the size", "{" + P + ", \"size\": \" 256x256 \"}"),
                no("a leading zero", "{" + P + ", \"size\": \"0256x256\"}", "INVALID_SIZE"),
                no("white space inside the size", "{" + P + ", \"size\": \"256 x 256\"}", "INVALID_SIZE"),
                no("a plus sign", "{" + P + ", \"size\": \"+256x256\"}", "INVALID_SIZE"),
                no("a side out of range", "{" + P + ", \"size\": \"1792x1024\"}", "INVALID_SIZE"),
                no("a size that is a number", "{" + P + ", \"size\": 256}", "INVALID_SIZE"),
                ok("n 1", "{" + P + ", \"size\": \"256x256\", \"n\": 1}"),
                no("n 2", "{" + P + ", \"n\": 2}", "INVALID_N"),
                no("n 2^32+1, which an int would read as 1", "{" + P + ", \"n\": 4294967297}", "INVALID_N"),
                no("n 1.0", "{" + P + ", \"n\": 1.0}", "INVALID_N"),
                no("n \"1\"", "{" + P + ", \"n\": \"1\"}", "INVALID_N"),
                ok("seed 7", "{" + P + ", \"size\": \"256x256\", \"seed\": 7}"),
                no("seed \"abc\"", "{" + P + ", \"seed\": \"abc\"}", "INVALID_SEED"),
                no("seed 2^63", "{" + P + ", \"seed\": 9223372036854775808}", "INVALID_SEED"),
                no("seed 1.5", "{" + P + ", \"seed\": 1.5}", "INVALID_SEED"),
                no("seed 2^53", "{" + P + ", \"seed\": 9007199254740992}", "INVALID_SEED"),
                no("seed -2", "{" + P + ", \"seed\": -2}", "INVALID_SEED"),
                no("a prompt of only NUL", "{\"prompt\": \"\\u0000\"}", "INVALID_PROMPT"),
                no("a lone surrogate in the prompt", "{\"prompt\": \"\\ud800\"}", "INVALID_PROMPT"),
                no("a blank prompt", "{\"prompt\": \"  \"}", "INVALID_PROMPT"),
                no("a prompt that is a number", "{\"prompt\": 7}", "INVALID_PROMPT"),
                no("a control character in the negative prompt", "{" + P + ", \"negative_prompt\": \"\\u0001\"}",
                        "INVALID_NEGATIVE_PROMPT"),
                no("another model", "{" + P + ", \"model\": \"dall-e-3\"}", "MODEL_NOT_FOUND"),
                no("an unknown response_format", "{" + P + ", \"response_format\": \"png\"}", "INVALID_RESPONSE_FORMAT"),
                no("a key twice", "{\"prompt\": \"a cat\", \"prompt\": \"a dog\"}", "INVALID_JSON"));
    }

    /** Rows: what, the Content-Type sent (null: none), the body's bytes, and the reason, or null when accepted. */
    static Stream<Arguments> mediaTypesAndEncodings() {
        byte[] json = ("{" + P + ", \"size\": \"256*256\"}").getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                Arguments.of("no Content-Type", null, json, "UNSUPPORTED_MEDIA_TYPE"),
                Arguments.of("a form", "application/x-www-form-urlencoded", json, "UNSUPPORTED_MEDIA_TYPE"),
                Arguments.of("text/json", "text/json", json, "UNSUPPORTED_MEDIA_TYPE"),
                Arguments.of("JSON declared in Latin-1", "application/json; charset=iso-8859-1", json, "UNSUPPORTED_MEDIA_TYPE"),
                Arguments.of("JSON declared in UTF-16", "application/json; charset=utf-16", json, "UNSUPPORTED_MEDIA_TYPE"),
                Arguments.of("JSON in UTF-8, quoted and in capitals", "Application/JSON; charset=\"UTF-8\"", json, null),
                Arguments.of("a +json type", "application/vnd.api+json", json, null),
                Arguments.of("a UTF-16 body", "application/json", ("{" + P + "}").getBytes(StandardCharsets.UTF_16LE), "INVALID_JSON"),
                Arguments.of("a byte that is not UTF-8", "application/json", bytes("{\"prompt\": \"a c", 0xff, "t\"}"), "INVALID_JSON"),
                Arguments.of("an overlong UTF-8 slash", "application/json", bytes("{\"prompt\": \"a ", 0xc0, 0xaf, " cat\"}"),
                        "INVALID_JSON"),
                Arguments.of("a surrogate encoded in UTF-8", "application/json", bytes("{\"prompt\": \"a ", 0xed, 0xa0, 0x80, "\"}"),
                        "INVALID_JSON"));
    }

    @ParameterizedTest(name = "async: {0}")
    @MethodSource("asyncSubmits")
    void theAsyncDoorAppliesTheRule(String what, String body, String reason) {
        Api.Response r = server.api().submit(body);
        if (reason == null) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        } else {
            assertError(r, 400, reason);
        }
    }

    @ParameterizedTest(name = "OpenAI: {0}")
    @MethodSource("openAiGenerations")
    void theOpenAiDoorAppliesTheSameRule(String what, String body, String reason) {
        Api.Response r = post("/v1/images/generations", "application/json", body.getBytes(StandardCharsets.UTF_8));
        if (reason == null) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().at("/data/0/url").asText()).startsWith("http");
        } else {
            assertError(r, 400, reason);
            assertThat(r.json().at("/error/code").asText()).isEqualTo(reason.toLowerCase(Locale.ROOT));
        }
    }

    @ParameterizedTest(name = "media type and encoding: {0}")
    @MethodSource("mediaTypesAndEncodings")
    void everyDoorWantsJsonInUtf8AndSaysSo(String what, String contentType, byte[] body, String reason) {
        for (String path : new String[]{"/v3/async/qwen-image-txt2img", "/v1/images/generations", "/v3/async/task-cancel"}) {
            Api.Response r = post(path, contentType, body);
            if (reason == null) {
                // the body is fine for a submit; task-cancel refuses it for its own reason
                assertThat(r.status()).as(path + ": " + r.body()).isIn(200, 400);
                assertThat(r.reason()).as(path).isIn(null, "MISSING_TASK_ID");
            } else {
                assertError(r, reason.equals("UNSUPPORTED_MEDIA_TYPE") ? 415 : 400, reason);
                if (contentType == null) {
                    assertThat(r.json().get("message").asText()).contains("Content-Type: application/json");
                }
            }
        }
    }

    @ParameterizedTest(name = "Idempotency-Key \"{0}\" is refused")
    @ValueSource(strings = {"two words", "a\tb", "cl\u00e9-1"})
    void anIdempotencyKeyIsPrintableAsciiWithoutSpacesAsTheSdkSends(String key) {
        // over a raw socket: java.net.http would send the \u00e9 as '?'
        String body = "{" + P + "}";
        RawHttp.Response r = RawHttp.exchange(server.api().baseUrl(), "POST /v3/async/qwen-image-txt2img HTTP/1.1\r\nHost: x\r\n"
                + "Authorization: Bearer " + TestServer.KEY + "\r\nContent-Type: application/json\r\nIdempotency-Key: " + key
                + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        MalformedRequestsTest.assertOnContract(r, 400, "INVALID_IDEMPOTENCY_KEY");
    }

    private static Api.Response post(String path, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.api().baseUrl() + path))
                .header("Authorization", "Bearer " + TestServer.KEY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return server.api().send(b);
    }

    private static byte[] bytes(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                out.write((Integer) p);
            }
        }
        return out.toByteArray();
    }

    private static Arguments ok(String what, String body) {
        return Arguments.of(what, body, null);
    }

    private static Arguments no(String what, String body, String reason) {
        return Arguments.of(what, body, reason);
    }
}
