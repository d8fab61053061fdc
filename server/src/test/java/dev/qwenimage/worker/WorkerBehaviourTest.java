package dev.qwenimage.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How workers react to each kind of engine outcome, observed through the public API. */
class WorkerBehaviourTest {
    @TempDir
    Path dataDir;

    private QwenImageServer start(ScriptedEngine engine, Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_WORKERS", "1"));
        values.putAll(extra);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), engine);
    }

    private static Api api(QwenImageServer server) {
        return new Api(server.localUrl(), TestServer.KEY);
    }

    @Test
    void engineReceivesSidesRoundedToMultiplesOf16AndTheTaskSeed() {
        ScriptedEngine engine = new ScriptedEngine();
        try (QwenImageServer server = start(engine, Map.of())) {
            String id = api(server).submitOk("{\"prompt\": \"rounding\", \"size\": \"1000*700\"}");
            api(server).awaitFinished(id, Duration.ofSeconds(30));
            var request = engine.requests().getFirst();
            assertThat(request.width()).isEqualTo(1008);
            assertThat(request.height()).isEqualTo(704);
            assertThat(request.requestedWidth()).as("the size the client asked for reaches the engine too").isEqualTo(1000);
            assertThat(request.requestedHeight()).isEqualTo(700);
            assertThat(request.steps()).isEqualTo(8);
            assertThat(request.prompt()).isEqualTo("rounding");
            assertThat(request.seed()).isEqualTo(server.store().find(id).orElseThrow().spec().seed());
        }
    }

    @Test
    void transientFailureIsRetriedAndThenSucceeds() {
        ScriptedEngine engine = new ScriptedEngine()
                .then(call -> new GenerationResult.TransientFailure("engine restarting"));
        try (QwenImageServer server = start(engine, Map.of())) {
            String id = api(server).submitOk("{\"prompt\": \"retry me\", \"size\": \"256*256\"}");
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(engine.calls()).isEqualTo(2);
            assertThat(server.store().find(id).orElseThrow().attempts()).isEqualTo(2);
        }
    }

    @Test
    void transientFailuresBeyondTheAttemptBudgetEndFailedWithTheReason() {
        ScriptedEngine engine = new ScriptedEngine()
                .otherwise(call -> new GenerationResult.TransientFailure("GPU out of memory"));
        try (QwenImageServer server = start(engine, Map.of("QWEN_IMAGE_MAX_ATTEMPTS", "2"))) {
            String id = api(server).submitOk("{\"prompt\": \"doomed\", \"size\": \"256*256\"}");
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).isEqualTo("gave up after 2 attempts: GPU out of memory");
            assertThat(result.get("images")).isEmpty();
            assertThat(engine.calls()).isEqualTo(2);
        }
    }

    @Test
    void permanentFailureEndsFailedAtOnceWithTheEnginesReason() {
        ScriptedEngine engine = new ScriptedEngine()
                .then(call -> new GenerationResult.PermanentFailure("workflow refers to a missing model file"));
        try (QwenImageServer server = start(engine, Map.of())) {
            String id = api(server).submitOk("{\"prompt\": \"bad\", \"size\": \"256*256\"}");
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).isEqualTo("workflow refers to a missing model file");
            assertThat(result.at("/task/eta").asInt()).isZero();
            assertThat(engine.calls()).isEqualTo(1);
        }
    }

    @Test
    void engineThatThrowsIsRetriedAndTheClientNeverSeesAStackTrace() {
        ScriptedEngine engine = new ScriptedEngine().otherwise(call -> {
            throw new IllegalStateException("boom at com.example.Secret.method(Secret.java:42)");
        });
        try (QwenImageServer server = start(engine, Map.of("QWEN_IMAGE_MAX_ATTEMPTS", "1"))) {
            String id = api(server).submitOk("{\"prompt\": \"throws\", \"size\": \"256*256\"}");
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText())
                    .startsWith("gave up after 1 attempts: the engine failed unexpectedly (error id ")
                    .doesNotContain("Secret.java").doesNotContain("IllegalStateException");
        }
    }

    @Test
    void progressIsReportedFromRealStepsWhileProcessing() {
        ScriptedEngine engine = new ScriptedEngine().otherwise(call -> call.runSlowly(150));
        try (QwenImageServer server = start(engine, Map.of())) {
            Api api = api(server);
            String id = api.submitOk("{\"prompt\": \"slow\", \"size\": \"256*256\"}");
            JsonNode mid = api.awaitStatus(id, s -> s.equals("TASK_STATUS_PROCESSING"), Duration.ofSeconds(10));
            int seen = mid.at("/task/progress_percent").asInt();
            Api.sleep(700);
            JsonNode later = api.result(id).json();
            if (later.at("/task/status").asText().equals("TASK_STATUS_PROCESSING")) {
                assertThat(later.at("/task/progress_percent").asInt()).isGreaterThan(seen).isLessThan(100);
                assertThat(later.at("/task/eta").asInt()).isGreaterThanOrEqualTo(0);
            }
            assertThat(api.awaitFinished(id, Duration.ofSeconds(30)).at("/task/progress_percent").asInt()).isEqualTo(100);
        }
    }

    @Test
    void queuedTaskEtaCountsTheWorkAheadOfIt() {
        ScriptedEngine engine = new ScriptedEngine().otherwise(call -> call.runSlowly(100));
        try (QwenImageServer server = start(engine, Map.of())) {
            Api api = api(server);
            // measure one task so the ETA knows the engine's pace (8 steps x 100 ms)
            api.awaitFinished(api.submitOk("{\"prompt\": \"warm-up\", \"size\": \"512*512\"}"), Duration.ofSeconds(30));
            for (int i = 0; i < 4; i++) {
                api.submitOk("{\"prompt\": \"ahead " + i + "\", \"size\": \"512*512\"}");
            }
            String last = api.submitOk("{\"prompt\": \"last\", \"size\": \"512*512\"}");
            JsonNode queued = api.result(last).json();
            assertThat(queued.at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");
            // 3 or 4 tasks ahead at ~0.8 s each plus its own: several seconds, not zero, not minutes
            assertThat(queued.at("/task/eta").asInt()).isBetween(3, 10);
            assertThat(queued.at("/task/progress_percent").asInt()).isZero();
        }
    }

    @Test
    void gracefulShutdownReturnsTheRunningTaskToTheQueueWithoutSpendingAnAttempt() {
        ScriptedEngine engine = new ScriptedEngine().otherwise(call -> call.runSlowly(200));
        String id;
        try (QwenImageServer server = start(engine, Map.of())) {
            Api api = api(server);
            id = api.submitOk("{\"prompt\": \"interrupted\", \"size\": \"256*256\"}");
            api.awaitStatus(id, s -> s.equals("TASK_STATUS_PROCESSING"), Duration.ofSeconds(10));
        }
        ScriptedEngine second = new ScriptedEngine();
        try (QwenImageServer server = start(second, Map.of())) {
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            Task done = server.store().find(id).orElseThrow();
            assertThat(done.state()).isInstanceOf(TaskState.Succeeded.class);
            // the interrupted run was handed back, so the run that finished is attempt 1
            assertThat(done.attempts()).isEqualTo(1);
        }
    }
}
