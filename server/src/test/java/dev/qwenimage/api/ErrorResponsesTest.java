package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bad input gets a 4xx with the contract's error body and a message a person can act on. */
class ErrorResponsesTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @ParameterizedTest(name = "size \"{0}\" is refused")
    @ValueSource(strings = {"255*512", "1537*512", "512*255", "512*1537", "1024x1024", "abc", "", "1024*", "*1024",
            "-512*512", "1024*1024*1024", "0*0", "99999999999*1"})
    void badSizesAreRefusedWithInvalidSize(String size) {
        Api.Response r = server.api().submit("{\"prompt\": \"a cat\", \"size\": \"" + size + "\"}");
        assertError(r, 400, "INVALID_SIZE");
        assertThat(r.json().get("message").asText()).contains("256..1536");
        assertThat(r.json().at("/metadata/field").asText()).isEqualTo("size");
    }

    @ParameterizedTest(name = "size \"{0}\" is accepted")
    @ValueSource(strings = {"256*256", "1536*1536", "256*1536", " 512*768 "})
    void sizesAtTheBoundsAreAccepted(String size) {
        assertThat(server.api().submit("{\"prompt\": \"a cat\", \"size\": \"" + size + "\"}").status()).isEqualTo(200);
    }

    @Test
    void nonJsonBodyIsInvalidJson() {
        assertError(server.api().submit("prompt=a cat"), 400, "INVALID_JSON");
        assertError(server.api().submit("{\"prompt\": \"a cat\""), 400, "INVALID_JSON");
        assertError(server.api().submit("{\"prompt\": \"a\"} trailing"), 400, "INVALID_JSON");
        assertError(server.api().submit(""), 400, "INVALID_JSON");
    }

    @Test
    void jsonThatIsNotAnObjectIsRefused() {
        assertError(server.api().submit("[\"a cat\"]"), 400, "INVALID_JSON");
        assertError(server.api().submit("\"a cat\""), 400, "INVALID_JSON");
        assertError(server.api().submit("null"), 400, "INVALID_JSON");
    }

    @Test
    void missingEmptyOrBlankPromptIsRefused() {
        assertError(server.api().submit("{}"), 400, "INVALID_PROMPT");
        assertError(server.api().submit("{\"prompt\": null}"), 400, "INVALID_PROMPT");
        assertError(server.api().submit("{\"prompt\": \"\"}"), 400, "INVALID_PROMPT");
        Api.Response blank = server.api().submit("{\"prompt\": \"  \\n\\t \"}");
        assertError(blank, 400, "INVALID_PROMPT");
        assertThat(blank.json().get("message").asText()).contains("prompt");
    }

    @Test
    void promptLongerThanTheLimitIsRefused() {
        String longPrompt = "猫".repeat(2001);
        Api.Response r = server.api().submit("{\"prompt\": \"" + longPrompt + "\"}");
        assertError(r, 400, "INVALID_PROMPT");
        assertThat(r.json().get("message").asText()).contains("2000");
        assertThat(server.api().submit("{\"prompt\": \"" + "猫".repeat(2000) + "\"}").status()).isEqualTo(200);
    }

    @Test
    void wrongJsonTypesAreRefused() {
        assertError(server.api().submit("{\"prompt\": 123}"), 400, "INVALID_PROMPT");
        assertError(server.api().submit("{\"prompt\": [\"a\"]}"), 400, "INVALID_PROMPT");
        assertError(server.api().submit("{\"prompt\": \"a\", \"size\": 1024}"), 400, "INVALID_SIZE");
        assertError(server.api().submit("{\"prompt\": \"a\", \"watermark\": \"yes\"}"), 400, "INVALID_WATERMARK");
        assertError(server.api().submit("{\"prompt\": \"a\", \"watermark\": 1}"), 400, "INVALID_WATERMARK");
    }

    @Test
    void missingOrUnknownKeyIsUnauthorized() {
        Api.Response missing = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a\"}")));
        assertError(missing, 401, "INVALID_API_KEY");
        assertThat(missing.json().get("message").asText()).contains("Authorization: Bearer");

        assertError(server.api().withKey("not-a-key").submit("{\"prompt\": \"a\"}"), 401, "INVALID_API_KEY");
        assertError(server.api().withKey("not-a-key").result("00000000-0000-0000-0000-000000000000"), 401, "INVALID_API_KEY");
    }

    @Test
    void unknownTaskIsNotFound() {
        assertError(server.api().result("00000000-0000-0000-0000-000000000000"), 404, "TASK_NOT_FOUND");
        assertError(server.api().result("not-even-a-uuid"), 404, "TASK_NOT_FOUND");
    }

    @Test
    void anotherKeysTaskIsNotFound() {
        String taskId = server.api().submitOk("{\"prompt\": \"mine\", \"size\": \"256*256\"}");
        Api.Response theirs = server.api().withKey(TestServer.OTHER_KEY).result(taskId);
        assertError(theirs, 404, "TASK_NOT_FOUND");
        assertThat(server.api().result(taskId).status()).isEqualTo(200);
    }

    @Test
    void missingTaskIdIsBadRequest() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/task-result"))
                .header("Authorization", "Bearer " + TestServer.KEY).GET());
        assertError(r, 400, "MISSING_TASK_ID");
    }

    @Test
    void bodyOver64KiBIsTooLarge() {
        String big = "{\"prompt\": \"" + "a".repeat(64 * 1024) + "\"}";
        assertError(server.api().submit(big), 413, "PAYLOAD_TOO_LARGE");
    }

    @Test
    void chunkedBodyOver64KiBIsTooLarge() {
        byte[] big = ("{\"prompt\": \"" + "a".repeat(70 * 1024) + "\"}").getBytes();
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Authorization", "Bearer " + TestServer.KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))));
        assertError(r, 413, "PAYLOAD_TOO_LARGE");
    }

    @Test
    void wrongMethodIsNotAllowed() {
        Api.Response get = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Authorization", "Bearer " + TestServer.KEY).GET());
        assertError(get, 405, "METHOD_NOT_ALLOWED");
        Api.Response post = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/task-result?task_id=x"))
                .header("Authorization", "Bearer " + TestServer.KEY).POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertError(post, 405, "METHOD_NOT_ALLOWED");
    }

    @Test
    void nonJsonContentTypeIsUnsupported() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Authorization", "Bearer " + TestServer.KEY)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a\"}")));
        assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE");
        assertThat(r.json().get("message").asText()).contains("application/json");
    }

    @Test
    void jsonWithCharsetIsAccepted() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Authorization", "Bearer " + TestServer.KEY)
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a\"}")));
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void unknownPathIsNotFoundWithErrorBody() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/nope")).GET());
        assertError(r, 404, "NOT_FOUND");
    }

    @Test
    void healthNeedsNoAuth() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/healthz")).GET());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
        assertThat(r.json().at("/engines/0/name").asText()).isEqualTo("preview");
        assertThat(r.json().at("/engines/0/state").asText()).isEqualTo("up");
    }

    static void assertError(Api.Response r, int status, String reason) {
        dev.qwenimage.support.Errors.assertError(r, status, reason);
    }

    @Test
    void aLongUnknownIdOrModelIsQuotedShortInTheMessage() {
        String id = "x".repeat(6000);
        Api.Response r = server.api().result(id);
        assertError(r, 404, "TASK_NOT_FOUND");
        assertThat(r.json().get("message").asText()).hasSizeLessThan(120).contains("xxxx…");
        Api.Response openAi = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/generations"))
                .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"" + "m".repeat(20000) + "\", \"prompt\": \"a cat\"}")));
        assertThat(openAi.status()).isEqualTo(400);
        assertThat(openAi.json().get("message").asText()).hasSizeLessThan(120);
    }
}
