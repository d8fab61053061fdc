package dev.qwenimage.edit;

import static dev.qwenimage.support.Errors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.SharedServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The edit body's {@code "image"} string, as clients really write it: base64 in either alphabet,
 * padded or not, wrapped in lines, JSON-escaped, inside a {@code data:} URI; and what no client
 * should send. Whatever arrives is answered 200 or 400 with the contract's reason, never 5xx.
 */
class EditImageFieldTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    private static final byte[] PNG = Pictures.png(64, 48);
    private static final String B64 = Base64.getEncoder().encodeToString(PNG);

    private static String body(String imageJson) {
        return "{\"prompt\": \"add a hat\", \"image\": " + imageJson + "}";
    }

    private static String quoted(String s) {
        return "\"" + s + "\"";
    }

    /** {@code b64} with a JSON-escaped line break ({@code eol}) every 76 characters, as MIME writes it. */
    private static String wrapped(String b64, String eol) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < b64.length(); i += 76) {
            out.append(b64, i, Math.min(b64.length(), i + 76)).append(eol);
        }
        return out.toString();
    }

    static Stream<Arguments> acceptedImages() {
        String urlSafe = Base64.getUrlEncoder().encodeToString(PNG);
        assertThat(urlSafe).as("the test picture's base64 uses the characters the alphabets differ in").containsAnyOf("-", "_");
        return Stream.of(
                Arguments.of("bare base64", quoted(B64)),
                Arguments.of("a data: URI", quoted("data:image/png;base64," + B64)),
                Arguments.of("a data: URI with other parameters, in capitals", quoted("DATA:image/png;name=x.png;BASE64," + B64)),
                Arguments.of("URL-safe base64", quoted(urlSafe)),
                Arguments.of("unpadded base64", quoted(B64.replace("=", ""))),
                Arguments.of("URL-safe unpadded base64", quoted(urlSafe.replace("=", ""))),
                Arguments.of("base64 in MIME lines (\\r\\n)", quoted(wrapped(B64, "\\r\\n"))),
                Arguments.of("base64 in lines (\\n)", quoted(wrapped(B64, "\\n"))),
                Arguments.of("base64 with white space around it", quoted("  \\n" + B64 + "\\t ")),
                Arguments.of("base64 with every / escaped as \\/", quoted(B64.replace("/", "\\/"))),
                Arguments.of("base64 with \\u escapes", quoted("\\u0069" + B64.substring(1))));
    }

    @ParameterizedTest(name = "{0} is taken")
    @MethodSource("acceptedImages")
    void theImageAsClientsWriteItIsTaken(String what, String imageJson) {
        assertThat(PNG[0] & 0xff).isEqualTo(0x89); // base64 "i..." : the \\u0069 case is the same picture
        Api.Response r = server.api().edit(body(imageJson));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("task_id").asText()).isNotBlank();
    }

    static Stream<Arguments> refusedImages() {
        return Stream.of(
                Arguments.of("a number", body("42"), 400, "INVALID_IMAGE", "image must be a string"),
                Arguments.of("a boolean", body("true"), 400, "INVALID_IMAGE", "image must be a string"),
                Arguments.of("an array", body("[\"" + B64 + "\"]"), 400, "INVALID_IMAGE", "image must be a string"),
                Arguments.of("an object", body("{\"url\": \"https://example.com/a.png\"}"), 400, "INVALID_IMAGE",
                        "image must be a string"),
                Arguments.of("null", body("null"), 400, "INVALID_IMAGE", "image is required"),
                Arguments.of("missing", "{\"prompt\": \"add a hat\"}", 400, "INVALID_IMAGE", "image is required"),
                Arguments.of("empty", body("\"\""), 400, "INVALID_IMAGE", "image is empty"),
                Arguments.of("white space", body("\" \\n\\t \""), 400, "INVALID_IMAGE", "image is empty"),
                Arguments.of("garbage", body("\"not an image!\""), 400, "INVALID_IMAGE", "neither an http(s) URL nor base64"),
                Arguments.of("a control character", body("\"" + B64.substring(0, 8) + "\\u0001" + B64.substring(8) + "\""), 400,
                        "INVALID_IMAGE", "the byte 0x1"),
                Arguments.of("a lone surrogate", body("\"" + B64.substring(0, 8) + "\\ud800" + B64.substring(8) + "\""), 400,
                        "INVALID_IMAGE", "neither an http(s) URL nor base64"),
                Arguments.of("non-ASCII", body("\"" + B64.substring(0, 8) + "é" + B64.substring(8) + "\""), 400,
                        "INVALID_IMAGE", "neither an http(s) URL nor base64"),
                Arguments.of("padding in the middle", body("\"" + B64.substring(0, 6) + "==" + B64.substring(8) + "\""), 400,
                        "INVALID_IMAGE", null),
                Arguments.of("base64 of text", body("\"" + Base64.getEncoder().encodeToString(
                        "hello, world".getBytes(StandardCharsets.UTF_8)) + "\""), 400, "INVALID_IMAGE", "the image is text"),
                Arguments.of("base64 of 3 bytes", body("\"AAAA\""), 400, "INVALID_IMAGE", "not a picture"),
                Arguments.of("a data: URI without base64", body("\"data:image/svg+xml,<svg/>\""), 400, "INVALID_IMAGE",
                        "not base64"),
                Arguments.of("a data: URI without a comma", body("\"data:image/png;base64\""), 400, "INVALID_IMAGE",
                        "without its ','"),
                Arguments.of("an ftp URL", body("\"ftp://example.com/a.png\""), 400, "IMAGE_FETCH_FAILED", "ftp"),
                Arguments.of("a file URL", body("\"file:///etc/passwd\""), 400, "IMAGE_FETCH_FAILED", "file"),
                Arguments.of("an http URL without a host", body("\"http:///a.png\""), 400, "IMAGE_FETCH_FAILED", "host"),
                Arguments.of("an http URL with spaces", body("\"http://exa mple.com/a.png\""), 400, "IMAGE_FETCH_FAILED",
                        "not a valid URL"),
                Arguments.of("an http URL with credentials", body("\"https://user:pw@example.com/a.png\""), 400,
                        "IMAGE_FETCH_FAILED", "credentials"),
                Arguments.of("an over-long URL", body("\"https://example.com/" + "a".repeat(3000) + "\""), 400,
                        "IMAGE_FETCH_FAILED", "2048"),
                Arguments.of("a bad escape", body("\"" + B64.substring(0, 8) + "\\x41" + B64.substring(8) + "\""), 400,
                        "INVALID_JSON", null),
                Arguments.of("the image named twice", "{\"prompt\": \"a\", \"image\": \"" + B64 + "\", \"image\": \"" + B64 + "\"}",
                        400, "INVALID_JSON", "twice"),
                Arguments.of("truncated inside the image", "{\"prompt\": \"add a hat\", \"image\": \"" + B64.substring(0, 100),
                        400, "INVALID_JSON", null),
                Arguments.of("truncated after the image", "{\"prompt\": \"add a hat\", \"image\": \"" + B64 + "\"", 400,
                        "INVALID_JSON", null),
                Arguments.of("truncated before the image's value", "{\"prompt\": \"add a hat\", \"image\": ", 400,
                        "INVALID_JSON", null),
                Arguments.of("a raw line break in the string", body("\"" + B64.substring(0, 8) + "\n" + B64.substring(8) + "\""),
                        400, "INVALID_JSON", null),
                Arguments.of("trailing content", body(quoted(B64)) + " {}", 400, "INVALID_JSON", null),
                Arguments.of("not an object", "[\"" + B64 + "\"]", 400, "INVALID_JSON", null));
    }

    @ParameterizedTest(name = "{0} is refused with {3}")
    @MethodSource("refusedImages")
    void whatNoClientShouldSendIsRefusedWith400(String what, String body, int status, String reason, String mention) {
        Api.Response r = server.api().edit(body);

        assertError(r, status, reason);
        if (mention != null) {
            assertThat(r.json().get("message").asText()).contains(mention);
        }
    }

    @Test
    void anImageOverTheLimitIsRefusedBeforeItIsDecoded() {
        // 20.1 MB of picture in 26.8 MB of base64: the body fits QWEN_IMAGE_EDIT_MAX_BODY, the image does not fit QWEN_IMAGE_EDIT_MAX_IMAGE
        byte[] big = new byte[20_100_000];
        big[0] = (byte) 0xFF;
        big[1] = (byte) 0xD8;
        big[2] = (byte) 0xFF;
        Api.Response r = server.api().edit(body(quoted(Base64.getEncoder().encodeToString(big))));

        assertError(r, 400, "IMAGE_TOO_LARGE");
        assertThat(r.json().get("message").asText()).contains("20 MB");
    }

    @Test
    void aBodyInUtf16IsRefusedNotMisread() {
        byte[] utf16 = body(quoted(B64)).getBytes(StandardCharsets.UTF_16BE);
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-edit"))
                .header("Authorization", "Bearer " + dev.qwenimage.support.TestServer.KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(utf16)));

        assertError(r, 400, "INVALID_JSON");
    }
}
