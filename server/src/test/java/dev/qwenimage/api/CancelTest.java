package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POST /v3/async/task-cancel: a queued task never runs, a running one stops at a step boundary; both end FAILED "cancelled". */
class CancelTest {
    @TempDir
    Path dataDir;

    private static Api.Response cancel(Api api, String key, String body) {
        return api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v3/async/task-cancel"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void aRunningTaskStopsAtItsNextStepAndAQueuedOneNeverRuns() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_WORKERS", "1",
                "QWEN_IMAGE_PREVIEW_STEP_DELAY", "150ms"))) {
            Api api = server.api();
            String running = api.submitOk("{\"prompt\": \"long job\", \"size\": \"256*256\"}");
            String queued = api.submitOk("{\"prompt\": \"waiting job\", \"size\": \"256*256\"}");
            api.awaitStatus(running, s -> s.equals("TASK_STATUS_PROCESSING"), Duration.ofSeconds(10));

            Api.Response q = cancel(api, TestServer.KEY, "{\"task_id\": \"" + queued + "\"}");
            assertThat(q.status()).isEqualTo(200);
            assertThat(q.json().get("status").asText()).isEqualTo("TASK_STATUS_FAILED");
            JsonNode queuedResult = api.result(queued).json();
            assertThat(queuedResult.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(queuedResult.at("/task/reason").asText()).isEqualTo("cancelled");

            Api.Response r = cancel(api, TestServer.KEY, "{\"task_id\": \"" + running + "\"}");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("status").asText()).isEqualTo("TASK_STATUS_PROCESSING");
            JsonNode stopped = api.awaitFinished(running, Duration.ofSeconds(10));
            assertThat(stopped.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(stopped.at("/task/reason").asText()).isEqualTo("cancelled");
            assertThat(stopped.get("images")).isEmpty();
            // the queued one never ran: the slot is free and nothing else is left
            assertThat(server.server().store().stats().processing()).isZero();
        }
    }

    @Test
    void cancellingAFinishedUnknownOrForeignTaskIsRefused() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Api api = server.api();
            String done = api.submitOk("{\"prompt\": \"quick\", \"size\": \"256*256\"}");
            api.awaitFinished(done, Duration.ofSeconds(30));
            assertError(cancel(api, TestServer.KEY, "{\"task_id\": \"" + done + "\"}"), 409, "TASK_ALREADY_FINISHED");
            assertError(cancel(api, TestServer.KEY, "{\"task_id\": \"00000000-0000-0000-0000-000000000000\"}"), 404,
                    "TASK_NOT_FOUND");
            String mine = api.submitOk("{\"prompt\": \"mine\", \"size\": \"256*256\"}");
            assertError(cancel(api, TestServer.OTHER_KEY, "{\"task_id\": \"" + mine + "\"}"), 404, "TASK_NOT_FOUND");
            assertError(cancel(api, TestServer.KEY, "{}"), 400, "MISSING_TASK_ID");
        }
    }
}
