package dev.qwenimage.engine.openai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service configured with QWEN_IMAGE_ENGINES=openai:... drives an OpenAI-compatible images server end to end. */
class OpenAiEndToEndTest {
    @TempDir
    Path dataDir;

    private TestServer serverFor(FakeOpenAiImages images, String options) {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", "openai:" + images.base() + "?" + options));
    }

    @Test
    void aTaskRunsOnTheImagesServerAndServesAJpegOfExactlyTheRequestedSize() throws Exception {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving("Qwen/Qwen-Image").requireKey("sk-local-1").delay(Duration.ofMillis(1500));
             TestServer server = serverFor(images, "key=sk-local-1&extras=vllm&steps=20&step_time=20ms")) {
            String id = server.api().submitOk("{\"prompt\": \"a paper boat on a canal, 纸船\", \"size\": \"1000*700\"}");

            JsonNode midway = awaitProgress(server.api(), id);
            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(midway.at("/task/status").asText()).isEqualTo("TASK_STATUS_PROCESSING");
            assertThat(midway.at("/task/progress_percent").asInt()).isBetween(1, 95);
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/progress_percent").asInt()).isEqualTo(100);
            BufferedImage jpeg = downloadJpeg(result.at("/images/0/image_url").asText());
            assertThat(jpeg.getWidth()).isEqualTo(1000);
            assertThat(jpeg.getHeight()).isEqualTo(700);
            JsonNode sent = images.requests().getFirst();
            assertThat(sent.get("size").asText()).isEqualTo("1008x704");
            assertThat(sent.get("num_inference_steps").asInt()).isEqualTo(20);
            assertThat(sent.get("seed").asLong()).isEqualTo(server.server().store().find(id).orElseThrow().spec().seed());
            assertThat(images.authorizations()).containsOnly("Bearer sk-local-1");
        }
    }

    @Test
    void aRequestTheServerRefusesEndsTheTaskFailedWithTheServersMessage() {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving("Qwen/Qwen-Image")
                .failNext(400, "{\"error\": {\"message\": \"Invalid value for 'size': 1008x704 is not supported.\", "
                        + "\"type\": \"invalid_request_error\", \"param\": \"size\", \"code\": \"invalid_value\"}}");
             TestServer server = serverFor(images, "")) {
            String id = server.api().submitOk("{\"prompt\": \"never drawn\", \"size\": \"1000*700\"}");

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).contains("openai at " + images.base())
                    .contains("HTTP 400: Invalid value for 'size': 1008x704 is not supported. (invalid_value)");
            assertThat(images.requests()).hasSize(1);
        }
    }

    @Test
    void aBusyServerIsTriedAgainAndTheTaskSucceeds() {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving("Qwen/Qwen-Image")
                .failNext(429, "{\"error\": {\"message\": \"Server is busy, try again later\", \"type\": \"rate_limit_error\"}}");
             TestServer server = serverFor(images, "step_time=10ms")) {
            String id = server.api().submitOk("{\"prompt\": \"patience\", \"size\": \"512*512\"}");

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(2);
            assertThat(images.requests()).hasSize(2);
        }
    }

    @Test
    void anEngineWhoseKeyIsRefusedIsTakenOutAndTasksRunOnTheOther() {
        try (FakeOpenAiImages locked = FakeOpenAiImages.serving("Qwen/Qwen-Image").requireKey("sk-right");
             FakeOpenAiImages open = FakeOpenAiImages.serving("Qwen/Qwen-Image");
             TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES",
                     "openai:" + locked.base() + "?name=locked&key=sk-wrong&step_time=10ms; openai:" + open.base()
                             + "?name=open&step_time=10ms"))) {
            List<String> ids = List.of(
                    server.api().submitOk("{\"prompt\": \"one\", \"size\": \"256*256\"}"),
                    server.api().submitOk("{\"prompt\": \"two\", \"size\": \"256*256\"}"),
                    server.api().submitOk("{\"prompt\": \"three\", \"size\": \"256*256\"}"));

            for (String id : ids) {
                assertThat(server.api().awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                        .isEqualTo("TASK_STATUS_SUCCEED");
                assertThat(server.server().store().find(id).orElseThrow().engine()).hasValue("open");
            }
            assertThat(locked.answered()).isZero();
            JsonNode engines = server.api().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(server.api().baseUrl() + "/healthz")).GET()).json().path("engines");
            JsonNode lockedHealth = java.util.stream.StreamSupport.stream(engines.spliterator(), false)
                    .filter(e -> e.path("name").asText().equals("locked")).findFirst().orElseThrow();
            // never up since start-up ("starting", probed again and again), or taken out ("down")
            assertThat(lockedHealth.path("state").asText()).isIn("starting", "down");
            assertThat(lockedHealth.toString()).contains("refused the key").doesNotContain("sk-wrong");
        }
    }

    private static JsonNode awaitProgress(Api api, String id) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = api.result(id).json();
            if (last.at("/task/progress_percent").asInt() > 0 || !last.at("/task/status").asText().matches(".*(QUEUED|PROCESSING)")) {
                return last;
            }
            Api.sleep(20);
        }
        throw new AssertionError("no progress seen: " + last);
    }

    private static BufferedImage downloadJpeg(String url) throws Exception {
        HttpResponse<byte[]> r = Api.fetch(url);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
        assertThat(img).isNotNull();
        return img;
    }
}
