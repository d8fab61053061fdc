package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Caps on waiting tasks: per key 429, in all 503, both with Retry-After. */
class QueueLimitsTest {
    @TempDir
    Path dataDir;

    /** A server whose only engine never comes up, so every task stays queued. */
    private QwenImageServer start(Map<String, String> caps) {
        ScriptedEngine stalled = new ScriptedEngine("stalled").probeAnswers(() -> new EngineHealth.Down("loading"));
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(),
                "QWEN_IMAGE_API_KEYS", TestServer.KEY + "," + TestServer.OTHER_KEY));
        values.putAll(caps);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), stalled);
    }

    @Test
    void aKeyAtItsCapGets429WithRetryAfterWhileOtherKeysStillSubmit() {
        try (QwenImageServer server = start(Map.of("QWEN_IMAGE_MAX_QUEUED_PER_KEY", "3"))) {
            Api alice = new Api(server.localUrl(), TestServer.KEY);
            for (int i = 0; i < 3; i++) {
                alice.submitOk("{\"prompt\": \"queued " + i + "\"}");
            }
            Api.Response refused = alice.submit("{\"prompt\": \"one too many\"}");
            assertError(refused, 429, "RATE_LIMITED");
            assertThat(refused.json().get("message").asText()).contains("3 tasks waiting");
            long retryAfter = Long.parseLong(refused.raw().headers().firstValue("Retry-After").orElseThrow());
            assertThat(retryAfter).isBetween(1L, 120L);
            assertThat(refused.json().at("/metadata/retry_after").asLong()).isEqualTo(retryAfter);

            assertThat(alice.withKey(TestServer.OTHER_KEY).submit("{\"prompt\": \"bob is fine\"}").status()).isEqualTo(200);
        }
    }

    @Test
    void aFullQueueGets503WithRetryAfter() throws Exception {
        try (QwenImageServer server = start(Map.of("QWEN_IMAGE_MAX_QUEUED", "2"))) {
            Api alice = new Api(server.localUrl(), TestServer.KEY);
            alice.submitOk("{\"prompt\": \"one\"}");
            alice.withKey(TestServer.OTHER_KEY).submitOk("{\"prompt\": \"two\"}");
            Thread.sleep(600); // the queue snapshot the cap reads lives half a second
            Api.Response refused = alice.submit("{\"prompt\": \"three\"}");
            assertError(refused, 503, "QUEUE_FULL");
            assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
        }
    }
}
