package dev.qwenimage.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** /metrics in Prometheus format, /readyz, and JSON log lines. */
class OperationsTest {
    @TempDir
    Path dataDir;

    private QwenImageServer start(ScriptedEngine engine, Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY));
        values.putAll(extra);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), engine);
    }

    private static Api.Response get(QwenImageServer server, String path) {
        return new Api(server.localUrl(), TestServer.KEY).send(HttpRequest.newBuilder(URI.create(server.localUrl() + path)).GET());
    }

    /**
     * A slot is free for its engine's next task as soon as the engine is done; the image is then
     * finished beside it. /healthz and /metrics count the two apart: busy engine slots never
     * exceed the slots, and the tasks being finished are a number of their own.
     */
    @Test
    void busyEngineSlotsNeverExceedTheSlotsAndTasksBeingFinishedAreCountedApart() {
        try (QwenImageServer server = start(new ScriptedEngine("gpu-a"), Map.of("QWEN_IMAGE_WORKERS", "2"))) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            java.util.List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 30; i++) {
                ids.add(api.submitOk("{\"prompt\": \"busy " + i + "\", \"size\": \"1536*1536\"}"));
            }
            int maxBusy = 0;
            int maxFinishing = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                com.fasterxml.jackson.databind.JsonNode health = get(server, "/healthz").json();
                com.fasterxml.jackson.databind.JsonNode lane = health.path("engines").get(0);
                maxBusy = Math.max(maxBusy, lane.path("busy").asInt());
                maxFinishing = Math.max(maxFinishing, lane.path("finishing").asInt());
                assertThat(health.at("/workers/busy").asInt()).isLessThanOrEqualTo(health.at("/workers/slots").asInt());
                if (health.at("/queue/queued").asInt() == 0 && health.at("/queue/processing").asInt() == 0) {
                    break;
                }
            }
            ids.forEach(id -> api.awaitStatus(id, "TASK_STATUS_SUCCEED"::equals, Duration.ofSeconds(60)));
            assertThat(maxBusy).as("busy engine slots").isBetween(1, 2);
            assertThat(maxFinishing).as("tasks being finished while the engine went on").isPositive();
            assertThat(get(server, "/metrics").body()).containsPattern("qwen_image_engine_finishing\\{engine=\"gpu-a\",worker=\"[^\"]+\"} ");
        }
    }

    @Test
    void metricsCoverQueueStagesEnginesAndRequests() {
        try (QwenImageServer server = start(new ScriptedEngine("gpu-a"), Map.of())) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            api.awaitFinished(api.submitOk("{\"prompt\": \"measured\", \"size\": \"256*256\"}"), Duration.ofSeconds(30));
            Api.Response r = get(server, "/metrics");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            assertThat(r.body())
                    .contains("qwen_image_tasks{state=\"queued\"}")
                    .contains("qwen_image_tasks{state=\"processing\"}")
                    .contains("qwen_image_tasks_finished_total{kind=\"txt2img\",status=\"succeed\"} 1.0")
                    .contains("qwen_image_stage_seconds_bucket{engine=\"gpu-a\",stage=\"engine\"")
                    .contains("qwen_image_stage_seconds_count{engine=\"gpu-a\",stage=\"queue\"} 1")
                    .contains("qwen_image_stage_seconds_count{engine=\"gpu-a\",stage=\"finish\"} 1")
                    .contains("qwen_image_stage_seconds_count{engine=\"gpu-a\",stage=\"total\"} 1")
                    .containsPattern("qwen_image_engine_up\\{engine=\"gpu-a\",worker=\"[^\"]+\"} 1.0")
                    .containsPattern("qwen_image_engine_slots\\{engine=\"gpu-a\",worker=\"[^\"]+\"} 1.0")
                    .contains("qwen_image_http_requests_seconds_count{method=\"POST\",route=\"/v3/async/qwen-image-txt2img\",status=\"200\"} 1");
        }
    }

    @Test
    void metricsCanBeSwitchedOff() {
        try (QwenImageServer server = start(new ScriptedEngine(), Map.of("QWEN_IMAGE_METRICS", "off"))) {
            assertThat(get(server, "/metrics").status()).isEqualTo(404);
        }
    }

    @Test
    void readinessFollowsTheEngines() throws Exception {
        AtomicReference<EngineHealth> probe = new AtomicReference<>(new EngineHealth.Down("loading the model"));
        try (QwenImageServer server = start(new ScriptedEngine("slow-start").probeAnswers(probe::get), Map.of())) {
            Api.Response notYet = get(server, "/readyz");
            assertThat(notYet.status()).isEqualTo(503);
            assertThat(notYet.json().at("/checks/engines").asText()).isEqualTo("no engine is up");
            assertThat(notYet.json().at("/checks/store").asText()).isEqualTo("ok");
            assertThat(get(server, "/healthz").status()).as("alive, though not ready").isEqualTo(200);
            probe.set(EngineHealth.up());
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (get(server, "/readyz").status() != 200 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(get(server, "/readyz").json().get("ready").asBoolean()).isTrue();
        }
    }

    @Test
    void jsonLogsWriteOneObjectPerLine() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            Logging.configure("info", "json");
            LoggerFactory.getLogger("dev.qwenimage.test").info("engine {} is up", "gpu-a");
        } finally {
            System.setErr(original);
            Logging.configure("info", "text");
        }
        String line = captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("engine gpu-a is up"))
                .findFirst().orElseThrow();
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.get("level").asText()).isEqualTo("INFO");
        assertThat(json.get("loggerName").asText()).isEqualTo("dev.qwenimage.test");
        assertThat(json.get("formattedMessage").asText()).isEqualTo("engine gpu-a is up");
        assertThat(json.has("timestamp")).isTrue();
    }
}
