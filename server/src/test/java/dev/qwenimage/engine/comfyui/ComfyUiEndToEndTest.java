package dev.qwenimage.engine.comfyui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service configured with one line, {@code QWEN_IMAGE_ENGINES=comfyui:http://...}, driving a
 * fake ComfyUI through the public API: submit, poll, download; and ComfyUI's refusals and
 * failures as the client sees them.
 */
class ComfyUiEndToEndTest {
    @TempDir
    Path dataDir;
    private final FakeComfyUi comfy = FakeComfyUi.start().stepDelay(Duration.ofMillis(5));
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        comfy.close();
    }

    private Api start(String options) {
        server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", "comfyui:" + comfy.url() + "?" + options));
        return server.api();
    }

    @Test
    void aTaskRunsOnComfyUiAndDownloadsAsAJpegOfTheRequestedSize() throws IOException {
        Api api = start("name=gpu1&slots=1&steps=6&poll_every=1s");

        String id = api.submitOk("{\"prompt\": \"A cute corgi wearing a tiny crown, studio light\", \"size\": \"1000*700\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/task/progress_percent").asInt()).isEqualTo(100);
        HttpResponse<byte[]> jpeg = Api.fetch(result.at("/images/0/image_url").asText());
        assertThat(jpeg.statusCode()).isEqualTo(200);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(jpeg.body()));
        assertThat(image.getWidth()).isEqualTo(1000);
        assertThat(image.getHeight()).isEqualTo(700);

        // ComfyUI drew it at the nearest multiples of 16, with the engine's steps and the prompt
        JsonNode workflow = comfy.prompts().getFirst().path("prompt");
        assertThat(workflow.at("/8/inputs/width").asInt()).isEqualTo(1008);
        assertThat(workflow.at("/8/inputs/height").asInt()).isEqualTo(704);
        assertThat(workflow.at("/9/inputs/steps").asInt()).isEqualTo(6);
        assertThat(workflow.at("/6/inputs/text").asText()).isEqualTo("A cute corgi wearing a tiny crown, studio light");
        assertThat(server.server().store().find(id).orElseThrow().engine()).hasValue("gpu1");

        JsonNode engine = api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/healthz")).GET()).json()
                .path("engines").get(0);
        assertThat(engine.path("name").asText()).isEqualTo("gpu1");
        assertThat(engine.path("state").asText()).isEqualTo("up");
        assertThat(engine.path("description").asText()).startsWith("comfyui at " + comfy.url() + " (native Qwen-Image workflow");
    }

    @Test
    void aModelFileComfyUiDoesNotHaveFailsTheTaskWithComfyUisReason() {
        comfy.models("diffusion_models", "flux1-dev.safetensors");
        Api api = start("steps=4");

        String id = api.submitOk("{\"prompt\": \"anything\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(result.at("/task/reason").asText())
                .contains("ComfyUI refused the workflow")
                .contains("Value not in list: unet_name: 'qwen_image_fp8_e4m3fn.safetensors' not in ['flux1-dev.safetensors']")
                .contains("models/diffusion_models");
        assertThat(result.path("images")).isEmpty();
        assertThat(server.server().store().find(id).orElseThrow().attempts()).as("a permanent failure is not retried").isEqualTo(1);
    }

    @Test
    void aNodeErrorFailsTheTaskWithComfyUisExceptionMessage() {
        comfy.failNextJob(2, "RuntimeError", "Error while deserializing header: MetadataIncompleteBuffer");
        Api api = start("steps=4");

        String id = api.submitOk("{\"prompt\": \"anything\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(result.at("/task/reason").asText())
                .endsWith("ComfyUI failed in KSampler (node 9): Error while deserializing header: MetadataIncompleteBuffer");
    }

    @Test
    void runningOutOfGpuMemoryIsRetriedAndTheTaskSucceeds() {
        comfy.failNextJob(1, "torch.OutOfMemoryError", "Allocation on device");
        Api api = start("steps=4");

        String id = api.submitOk("{\"prompt\": \"anything\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(2);
        assertThat(comfy.prompts()).hasSize(2);
    }

    @Test
    void aComfyUiRestartThatLosesTheRunningPromptRequeuesTheTaskWhichThenSucceeds() {
        comfy.restartInNextJob(2);
        Api api = start("steps=4&poll_every=200ms");

        String id = api.submitOk("{\"prompt\": \"through a restart\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).as("queued again after the lost run").isEqualTo(2);
        assertThat(comfy.prompts()).hasSize(2);
        assertThat(Api.fetch(result.at("/images/0/image_url").asText()).statusCode()).isEqualTo(200);
    }

    @Test
    void aDroppedWebSocketMidRunIsReconciledAndTheTaskSucceedsOnTheFirstRun() {
        comfy.dropSocketInNextJob(2);
        Api api = start("steps=6&poll_every=200ms");

        String id = api.submitOk("{\"prompt\": \"through a drop\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).as("nothing re-run").isEqualTo(1);
        assertThat(comfy.prompts()).hasSize(1);
    }
}
