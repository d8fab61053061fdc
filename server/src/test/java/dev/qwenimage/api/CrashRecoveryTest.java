package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing is lost when the process dies: a restart on the same data directory finishes every task once. */
class CrashRecoveryTest {
    @TempDir
    Path dataDir;

    private static final Map<String, String> ENV = Map.of(
            "QWEN_IMAGE_API_KEYS", TestServer.KEY,
            "QWEN_IMAGE_WORKERS", "2",
            "QWEN_IMAGE_PREVIEW_STEP_DELAY", "25ms");

    @Test
    void killedWhileProcessingThenRestartedEveryTaskSucceedsWithExactlyOneImage() throws IOException {
        List<String> ids = new ArrayList<>();
        try (ServerProcess first = ServerProcess.start(dataDir, ENV)) {
            Api api = new Api(first.awaitReady(), TestServer.KEY);
            for (int i = 0; i < 30; i++) {
                ids.add(api.submitOk("{\"prompt\": \"durable task " + i + "\", \"size\": \"512*512\"}"));
            }
            // wait until work is under way: some task is PROCESSING with progress
            api.awaitSomeProcessing(ids);
            first.kill();
        }

        try (ServerProcess second = ServerProcess.start(dataDir, ENV)) {
            Api api = new Api(second.awaitReady(), TestServer.KEY);
            assertThat(second.output()).anyMatch(line -> line.contains("recovered") && line.contains("re-queued"));
            for (String id : ids) {
                JsonNode result = api.awaitFinished(id, Duration.ofSeconds(120));
                assertThat(result.at("/task/status").asText()).as("task %s", id).isEqualTo("TASK_STATUS_SUCCEED");
                assertThat(result.get("images")).hasSize(1);
                assertThat(Api.fetch(result.at("/images/0/image_url").asText()).statusCode()).isEqualTo(200);
            }

            // the key is billed for each task once, though some ran twice; the killed attempts' time is counted too
            String token = Files.readString(dataDir.resolve("admin-token")).strip();
            JsonNode rows = new dev.qwenimage.support.Admin(api.baseUrl(), token).get("/admin/v1/usage").json().get("rows");
            assertThat(rows).hasSize(1);
            JsonNode usage = rows.get(0);
            assertThat(usage.get("name").asText()).isEqualTo("QWEN_IMAGE_API_KEYS #1");
            assertThat(usage.get("submitted").asLong()).isEqualTo(30);
            assertThat(usage.get("succeeded").asLong()).isEqualTo(30);
            assertThat(usage.get("images").asLong()).isEqualTo(30);
            assertThat(usage.get("failed").asLong()).isZero();
            // each image takes at least 20 steps x 25 ms of engine time
            assertThat(usage.get("engine_seconds").asDouble()).isGreaterThanOrEqualTo(30 * 0.5);
        }

        // exactly one image per task, and no half-written upload left behind
        try (Stream<Path> files = Files.walk(dataDir.resolve("images"))) {
            List<String> names = files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList();
            assertThat(names).hasSize(30);
            assertThat(names).containsExactlyInAnyOrderElementsOf(ids.stream().map(id -> id + ".jpeg").toList());
        }
    }
}
