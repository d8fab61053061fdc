package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An Idempotency-Key makes a retried submit safe: same key and body, same task; same key, other body, 422. */
class IdempotencyTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    private static Api.Response submit(String key, String idempotencyKey, String body) {
        return server.api().withKey(key).submit(body, idempotencyKey);
    }

    @Test
    void theSameKeyAndBodyReturnTheOriginalTask() {
        String first = submit(TestServer.KEY, "order-1", "{\"prompt\": \"a cat\", \"size\": \"256*256\"}").json().get("task_id").asText();
        // the same content, keys reordered and spaced differently, is the same request
        Api.Response again = submit(TestServer.KEY, "order-1", "{ \"size\":\"256*256\",  \"prompt\":\"a cat\" }");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("task_id").asText()).isEqualTo(first);
    }

    @Test
    void theSameKeyWithAnotherBodyIsRefused() {
        String first = submit(TestServer.KEY, "order-2", "{\"prompt\": \"a dog\"}").json().get("task_id").asText();
        Api.Response other = submit(TestServer.KEY, "order-2", "{\"prompt\": \"a different dog\"}");
        assertError(other, 422, "IDEMPOTENCY_KEY_REUSED");
        assertThat(other.json().at("/metadata/task_id").asText()).isEqualTo(first);
    }

    @Test
    void keysAreScopedToTheApiKeyAndAbsentKeysDoNothing() {
        String mine = submit(TestServer.KEY, "shared-name", "{\"prompt\": \"x\"}").json().get("task_id").asText();
        String theirs = submit(TestServer.OTHER_KEY, "shared-name", "{\"prompt\": \"x\"}").json().get("task_id").asText();
        assertThat(theirs).isNotEqualTo(mine);
        String a = submit(TestServer.KEY, null, "{\"prompt\": \"no key\"}").json().get("task_id").asText();
        String b = submit(TestServer.KEY, null, "{\"prompt\": \"no key\"}").json().get("task_id").asText();
        assertThat(a).isNotEqualTo(b);
        assertError(submit(TestServer.KEY, "x".repeat(256), "{\"prompt\": \"x\"}"), 400, "INVALID_IDEMPOTENCY_KEY");
    }
}
