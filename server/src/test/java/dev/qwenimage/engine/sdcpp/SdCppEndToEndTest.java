package dev.qwenimage.engine.sdcpp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service configured with QWEN_IMAGE_ENGINES=sdcpp:... drives an sd-server end to end through its public API. */
class SdCppEndToEndTest {
    @TempDir
    Path dataDir;

    private TestServer serverFor(FakeSdServer sd, String extra) {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", "sdcpp:" + sd.url() + "?poll=50ms&step_time=20ms" + extra,
                "QWEN_IMAGE_MAX_ATTEMPTS", "2"));
    }

    @Test
    void aTaskRunsOnSdServerAndServesAJpegOfExactlyTheRequestedSize() throws Exception {
        try (FakeSdServer sd = FakeSdServer.start().generationTime(Duration.ofMillis(1500));
             TestServer server = serverFor(sd, "&steps=20")) {
            String id = server.api().submitOk("{\"prompt\": \"a harbour at dawn, 港口\", \"size\": \"1000*700\"}");

            JsonNode midway = awaitProgress(server.api(), id);
            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(midway.at("/task/status").asText()).isEqualTo("TASK_STATUS_PROCESSING");
            assertThat(midway.at("/task/progress_percent").asInt()).isBetween(1, 95);
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/progress_percent").asInt()).isEqualTo(100);
            BufferedImage jpeg = downloadJpeg(result.at("/images/0/image_url").asText());
            assertThat(jpeg.getWidth()).isEqualTo(1000);
            assertThat(jpeg.getHeight()).isEqualTo(700);
            JsonNode job = sd.submitted().getFirst();
            assertThat(job.get("prompt").asText()).isEqualTo("a harbour at dawn, 港口");
            assertThat(job.get("width").asInt()).isEqualTo(1008); // nearest multiples of 16, resized afterwards
            assertThat(job.get("height").asInt()).isEqualTo(704);
            assertThat(job.get("seed").asLong()).isEqualTo(server.server().store().find(id).orElseThrow().spec().seed());
            assertThat(job.at("/sample_params/sample_steps").asInt()).isEqualTo(20);
        }
    }

    @Test
    void aJobSdServerRefusesEndsTheTaskFailedWithSdServersReason() {
        try (FakeSdServer sd = FakeSdServer.start().refuseJobs("loaded model does not support img_gen");
             TestServer server = serverFor(sd, "")) {
            String id = server.api().submitOk("{\"prompt\": \"never drawn\", \"size\": \"512*512\"}");

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).contains("sdcpp at " + sd.url())
                    .contains("HTTP 400").contains("loaded model does not support img_gen");
            assertThat(sd.submitted()).hasSize(1); // permanent: not tried again
        }
    }

    @Test
    void aJobLostInAnSdServerRestartIsRunAgainAndSucceeds() {
        try (FakeSdServer sd = FakeSdServer.start().generationTime(Duration.ofMillis(1500));
             TestServer server = serverFor(sd, "")) {
            String id = server.api().submitOk("{\"prompt\": \"survives a restart\", \"size\": \"256*256\"}");
            server.api().awaitStatus(id, s -> s.equals("TASK_STATUS_PROCESSING"), Duration.ofSeconds(20));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (sd.polls() == 0 && System.nanoTime() < deadline) {
                Api.sleep(10);
            }

            sd.restart();

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(2);
        }
    }

    /** Polls until the task shows some progress short of done (the estimate, as sd-server reports no steps). */
    static JsonNode awaitProgress(Api api, String id) {
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

    static BufferedImage downloadJpeg(String url) throws Exception {
        HttpResponse<byte[]> r = Api.fetch(url);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
        assertThat(img).isNotNull();
        return img;
    }
}
