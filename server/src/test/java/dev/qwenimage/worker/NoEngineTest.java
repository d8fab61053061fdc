package dev.qwenimage.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With no engine up a task does not wait in silence: task-result says why it waits (and gives no
 * made-up ETA), it starts as soon as an engine comes back, and after QWEN_IMAGE_NO_ENGINE_TIMEOUT
 * with none it ends FAILED saying so.
 */
class NoEngineTest {
    private static final String TASK = "{\"prompt\": \"a quiet harbour\", \"size\": \"512*512\"}";

    @TempDir
    Path dataDir;

    private QwenImageServer start(ScriptedEngine engine, String noEngineTimeout) {
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_NO_ENGINE_TIMEOUT", noEngineTimeout));
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), engine);
    }

    @Test
    void aQueuedTaskSaysWhyItWaitsAndStartsWhenAnEngineComesBack() {
        AtomicReference<EngineHealth> health = new AtomicReference<>(new EngineHealth.Down("connection refused"));
        try (QwenImageServer server = start(new ScriptedEngine("gpu-a").probeAnswers(health::get), "10m")) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            String id = api.submitOk(TASK);
            JsonNode waiting = api.result(id).json();
            assertThat(waiting.at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");
            assertThat(waiting.at("/task/eta").asLong()).as("no pace to measure: the time left until it is given up")
                    .isBetween(590L, 600L);
            assertThat(waiting.at("/task/reason").asText()).as("reason stays empty until a task fails").isEmpty();
            assertThat(waiting.at("/extra/wait_reason").asText()).contains("no engine is up").contains("gpu-a is starting")
                    .as("the engine's own error is the operator's (/healthz), not every client's").doesNotContain("refused");
            assertThat(api.get("/healthz").json().at("/engines/0/last_error").asText()).contains("connection refused");

            health.set(EngineHealth.up());
            JsonNode done = api.awaitStatus(id, "TASK_STATUS_SUCCEED"::equals, Duration.ofSeconds(20));
            assertThat(done.at("/extra").has("wait_reason")).isFalse();
            String next = api.submitOk(TASK);
            // the engines' states are read at most every 100 ms: the next poll after that sees the engine up
            JsonNode seen = api.result(next).json();
            for (long until = System.nanoTime() + 2_000_000_000L; seen.at("/extra").has("wait_reason") && System.nanoTime() < until; ) {
                seen = api.result(next).json();
            }
            assertThat(seen.at("/extra").has("wait_reason")).as("an engine is up").isFalse();
        }
    }

    @Test
    void aTaskThatNoEngineCouldTakeWithinTheTimeoutEndsFailedSayingSo() {
        ScriptedEngine engine = new ScriptedEngine("gpu-a").probeAnswers(() -> new EngineHealth.Down("connection refused"));
        try (QwenImageServer server = start(engine, "2s")) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            String id = api.submitOk(TASK);
            JsonNode failed = api.awaitStatus(id, "TASK_STATUS_FAILED"::equals, Duration.ofSeconds(20));
            assertThat(failed.at("/task/reason").asText()).contains("no engine could take the task within 2s")
                    .contains("QWEN_IMAGE_NO_ENGINE_TIMEOUT").contains("gpu-a is starting").doesNotContain("refused");
            assertThat(engine.calls()).isZero();
        }
    }
}
