package dev.qwenimage.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.QwenImageServer.EngineSetup;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many engines at once: free slots pull work, failures move work elsewhere, broken engines are taken out and probed back. */
class EngineRoutingTest {
    @TempDir
    Path dataDir;

    private QwenImageServer start(List<EngineSetup> engines, Map<String, String> extra) {
        Map<String, String> values = new java.util.HashMap<>(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY));
        values.putAll(extra);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), engines);
    }

    private static EngineSetup setup(ScriptedEngine engine) {
        return new EngineSetup(engine, 1, Duration.ZERO);
    }

    private static Api api(QwenImageServer server) {
        return new Api(server.localUrl(), TestServer.KEY);
    }

    private static JsonNode health(QwenImageServer server) {
        return api(server).send(HttpRequest.newBuilder(URI.create(server.localUrl() + "/healthz")).GET()).json();
    }

    private static JsonNode engineHealth(QwenImageServer server, String name) {
        for (JsonNode e : health(server).get("engines")) {
            if (e.get("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no engine " + name + " in /healthz");
    }

    @Test
    void tasksSpreadOverEveryEngineWithAFreeSlot() {
        ScriptedEngine a = new ScriptedEngine("gpu-a").otherwise(call -> call.runSlowly(40));
        ScriptedEngine b = new ScriptedEngine("gpu-b").otherwise(call -> call.runSlowly(40));
        try (QwenImageServer server = start(List.of(setup(a), setup(b)), Map.of())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ids.add(api(server).submitOk("{\"prompt\": \"spread " + i + "\", \"size\": \"256*256\"}"));
            }
            for (String id : ids) {
                assertThat(api(server).awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                        .isEqualTo("TASK_STATUS_SUCCEED");
            }
            assertThat(a.calls()).isPositive();
            assertThat(b.calls()).isPositive();
            assertThat(a.calls() + b.calls()).isEqualTo(6);
        }
    }

    @Test
    void aTransientFailureIsRunAgainOnAnotherEngine() {
        ScriptedEngine flaky = new ScriptedEngine("flaky")
                .otherwise(call -> new GenerationResult.TransientFailure("CUDA error: an illegal memory access"));
        AtomicReference<EngineHealth> healthyProbe = new AtomicReference<>(new EngineHealth.Down("still loading the model"));
        ScriptedEngine healthy = new ScriptedEngine("healthy").probeAnswers(healthyProbe::get);
        try (QwenImageServer server = start(List.of(setup(flaky), setup(healthy)), Map.of())) {
            // only the flaky engine is up when the task arrives, so it runs there first and fails
            String id = api(server).submitOk("{\"prompt\": \"moves\", \"size\": \"256*256\"}");
            awaitCalls(flaky, 1);
            healthyProbe.set(EngineHealth.up());

            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(flaky.requests()).extracting(r -> r.taskId()).containsExactly(id);
            assertThat(healthy.requests()).extracting(r -> r.taskId()).containsExactly(id);
            assertThat(server.store().find(id).orElseThrow().engine()).hasValue("healthy");
            assertThat(server.store().find(id).orElseThrow().attempts()).isEqualTo(2);
        }
    }

    @Test
    void anEngineFailingRepeatedlyIsTakenOutThenProbedBack() {
        AtomicReference<EngineHealth> probe = new AtomicReference<>(EngineHealth.up());
        ScriptedEngine broken = new ScriptedEngine("broken").probeAnswers(probe::get)
                .otherwise(call -> new GenerationResult.TransientFailure("HTTP 502 from the engine"));
        try (QwenImageServer server = start(List.of(setup(broken)),
                Map.of("QWEN_IMAGE_ENGINE_FAILURES", "2", "QWEN_IMAGE_MAX_ATTEMPTS", "10"))) {
            probe.set(new EngineHealth.Down("HTTP 502"));
            String id = api(server).submitOk("{\"prompt\": \"waits for the engine\", \"size\": \"256*256\"}");
            awaitEngineState(server, "broken", "down");
            JsonNode down = engineHealth(server, "broken");
            assertThat(down.get("last_error").asText()).startsWith("HTTP 502");
            assertThat(health(server).get("status").asText()).isEqualTo("degraded");
            int callsWhileDown = broken.calls();
            assertThat(callsWhileDown).isEqualTo(2);
            assertThat(api(server).result(id).json().at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");

            // the engine recovers: the probe brings it back and the task runs
            broken.otherwise(call -> call.succeed());
            probe.set(EngineHealth.up());
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(engineHealth(server, "broken").get("state").asText()).isEqualTo("up");
        }
    }

    @Test
    void anEngineDownAtStartUpIsNotFatalAndTakesWorkOnceReachable() {
        AtomicReference<EngineHealth> probe = new AtomicReference<>(new EngineHealth.Down("connection refused"));
        ScriptedEngine late = new ScriptedEngine("late").probeAnswers(probe::get);
        try (QwenImageServer server = start(List.of(setup(late)), Map.of())) {
            assertThat(engineHealth(server, "late").get("state").asText()).isEqualTo("starting");
            String id = api(server).submitOk("{\"prompt\": \"patience\", \"size\": \"256*256\"}");
            Api.sleep(300);
            assertThat(late.calls()).isZero();
            JsonNode queued = api(server).result(id).json();
            assertThat(queued.at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");
            // no engine is up: the ETA is the time left until the task would be given up (10 minutes
            // by default), and the task says what it waits for
            assertThat(queued.at("/task/eta").asInt()).isBetween(590, 600);
            assertThat(queued.at("/extra/wait_reason").asText()).contains("late is starting");

            probe.set(EngineHealth.up());
            assertThat(api(server).awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                    .isEqualTo("TASK_STATUS_SUCCEED");
        }
    }

    @Test
    void aTaskOverItsEnginesTimeLimitIsStoppedAndRetried() {
        ScriptedEngine hangs = new ScriptedEngine("hangs")
                .then(call -> call.runSlowly(150)) // 8 steps x 150 ms: stopped at the 300 ms limit
                .otherwise(call -> call.succeed());
        try (QwenImageServer server = start(List.of(new EngineSetup(hangs, 1, Duration.ofMillis(300))), Map.of())) {
            String id = api(server).submitOk("{\"prompt\": \"slow\", \"size\": \"256*256\"}");
            JsonNode result = api(server).awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(hangs.calls()).isEqualTo(2);
            assertThat(server.store().find(id).orElseThrow().attempts()).isEqualTo(2);
        }
    }

    private static void awaitCalls(ScriptedEngine engine, int calls) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (engine.calls() < calls) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(engine.name() + " was called " + engine.calls() + " times, expected " + calls);
            }
            Api.sleep(20);
        }
    }

    private static void awaitEngineState(QwenImageServer server, String name, String state) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (engineHealth(server, name).get("state").asText().equals(state)) {
                return;
            }
            Api.sleep(50);
        }
        throw new AssertionError("engine " + name + " never became " + state + ": " + engineHealth(server, name));
    }
}
