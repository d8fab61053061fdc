package dev.qwenimage.engine.comfyui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen-Image-Edit on ComfyUI, end to end: POST /v3/async/qwen-image-edit to a service configured
 * with {@code comfyui:http://...}, the input uploaded with ComfyUI's POST /upload/image and read
 * by the native edit workflow's LoadImage, the result polled and downloaded; ComfyUI's refusals of
 * the upload as the client sees them; and an engine that declares no edits.
 */
class ComfyUiEditEndToEndTest {
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
        server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", "comfyui:" + comfy.url() + "?" + options,
                "QWEN_IMAGE_MAX_ATTEMPTS", "2"));
        return server.api();
    }

    /** A 1600x900 JPEG (red left half, blue right half, a yellow square top-left): edited at 1360x768. */
    private static String editBody(String prompt, String outputFormat) {
        return """
                {"prompt": "%s", "image": "%s", "seed": 7, "output_format": "%s"}"""
                .formatted(prompt, Pictures.base64(Pictures.jpeg(1600, 900)), outputFormat);
    }

    private static Map.Entry<String, JsonNode> node(JsonNode workflow, String classType) {
        for (Iterator<Map.Entry<String, JsonNode>> it = workflow.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().path("class_type").asText().equals(classType)) {
                return e;
            }
        }
        throw new AssertionError("no " + classType + " in " + workflow);
    }

    private static long count(JsonNode workflow, String classType) {
        long n = 0;
        for (JsonNode node : workflow) {
            n += node.path("class_type").asText().equals(classType) ? 1 : 0;
        }
        return n;
    }

    private static String link(JsonNode input) {
        return input.get(0).asText() + ":" + input.get(1).asInt();
    }

    @Test
    void anEditUploadsTheInputAndRunsComfyUisNativeEditWorkflowOnIt() {
        // given a ComfyUI with Qwen-Image-Edit 2509 and its 4-step Lightning LoRA
        Api api = start("name=gpu1&edit_lora=Qwen-Image-Edit-2509-Lightning-4steps-V1.0-bf16.safetensors&edit_steps=4&edit_cfg=1");

        // when an edit is submitted and polled to its end
        String id = api.editOk(editBody("make the sky purple", "png"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        // then it succeeds at the input's aspect ratio, from the engine that edits
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
        BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
        assertThat(out.getWidth()).isEqualTo(1360);
        assertThat(out.getHeight()).isEqualTo(768);
        assertThat(server.server().store().find(id).orElseThrow().engine()).hasValue("gpu1");

        // ComfyUI received the input at the working size, as a PNG of this task's own name in its input folder
        assertThat(comfy.uploads()).hasSize(1);
        FakeComfyUi.Upload upload = comfy.uploads().getFirst();
        assertThat(upload.filename()).isEqualTo("qwen-image-edit_" + id.replaceAll("[^A-Za-z0-9_-]", "_") + ".png");
        assertThat(upload.contentType()).isEqualTo("image/png");
        assertThat(upload.overwrite()).isEqualTo("true");
        assertThat(upload.type()).isEqualTo("input");
        BufferedImage sent = Pictures.decode(upload.bytes());
        assertThat(sent.getWidth()).isEqualTo(1360);
        assertThat(sent.getHeight()).isEqualTo(768);
        int corner = sent.getRGB(10, 10);
        assertThat(new int[] {(corner >> 16) & 0xff, (corner >> 8) & 0xff, corner & 0xff}).as("the input's yellow corner")
                .satisfies(rgb -> assertThat(rgb[0]).isGreaterThan(200), rgb -> assertThat(rgb[1]).isGreaterThan(180),
                        rgb -> assertThat(rgb[2]).isLessThan(80));

        // and the workflow reads that file and conditions both prompts on it (TextEncodeQwenImageEditPlus, image1)
        JsonNode workflow = comfy.prompts().getFirst().path("prompt");
        Map.Entry<String, JsonNode> load = node(workflow, "LoadImage");
        assertThat(load.getValue().at("/inputs/image").asText()).isEqualTo(upload.filename());
        Map.Entry<String, JsonNode> sampler = node(workflow, "KSampler");
        JsonNode ks = sampler.getValue().path("inputs");
        JsonNode positive = workflow.path(ks.get("positive").get(0).asText());
        JsonNode negative = workflow.path(ks.get("negative").get(0).asText());
        for (JsonNode encoder : new JsonNode[] {positive, negative}) {
            assertThat(encoder.path("class_type").asText()).isEqualTo("TextEncodeQwenImageEditPlus");
            assertThat(link(encoder.at("/inputs/image1"))).isEqualTo(load.getKey() + ":0");
            assertThat(link(encoder.at("/inputs/vae"))).isEqualTo(node(workflow, "VAELoader").getKey() + ":0");
            assertThat(link(encoder.at("/inputs/clip"))).isEqualTo(node(workflow, "CLIPLoader").getKey() + ":0");
        }
        assertThat(positive.at("/inputs/prompt").asText()).isEqualTo("make the sky purple");
        assertThat(negative.at("/inputs/prompt").asText()).isEqualTo(" ");
        Map.Entry<String, JsonNode> encode = node(workflow, "VAEEncode");
        assertThat(link(encode.getValue().at("/inputs/pixels"))).isEqualTo(load.getKey() + ":0");
        assertThat(link(ks.get("latent_image"))).isEqualTo(encode.getKey() + ":0");
        assertThat(count(workflow, "EmptySD3LatentImage")).isZero();
        assertThat(node(workflow, "UNETLoader").getValue().at("/inputs/unet_name").asText())
                .isEqualTo("qwen_image_edit_2509_fp8_e4m3fn.safetensors");
        assertThat(node(workflow, "LoraLoaderModelOnly").getValue().at("/inputs/lora_name").asText())
                .isEqualTo("Qwen-Image-Edit-2509-Lightning-4steps-V1.0-bf16.safetensors");
        assertThat(link(ks.get("model"))).isEqualTo(node(workflow, "CFGNorm").getKey() + ":0");
        assertThat(ks.get("steps").asInt()).isEqualTo(4);
        assertThat(ks.get("cfg").asDouble()).isEqualTo(1.0);
        assertThat(ks.get("seed").asLong()).isEqualTo(7);
    }

    @Test
    void theClassicVariantUsesTextEncodeQwenImageEditWithItsImageInput() {
        Api api = start("edit_variant=classic&edit_model=qwen_image_edit_fp8_e4m3fn.safetensors&edit_steps=3");

        String id = api.editOk(editBody("add a hat", "jpeg"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        JsonNode workflow = comfy.prompts().getFirst().path("prompt");
        assertThat(count(workflow, "TextEncodeQwenImageEdit")).isEqualTo(2);
        assertThat(count(workflow, "TextEncodeQwenImageEditPlus")).isZero();
        Map.Entry<String, JsonNode> load = node(workflow, "LoadImage");
        assertThat(link(node(workflow, "TextEncodeQwenImageEdit").getValue().at("/inputs/image"))).isEqualTo(load.getKey() + ":0");
        assertThat(node(workflow, "UNETLoader").getValue().at("/inputs/unet_name").asText())
                .isEqualTo("qwen_image_edit_fp8_e4m3fn.safetensors");
        assertThat(node(workflow, "KSampler").getValue().at("/inputs/steps").asInt()).isEqualTo(3);
    }

    @Test
    void aTextToImageTaskOnAnEditingEngineStillRunsTheTextWorkflowAndUploadsNothing() {
        Api api = start("steps=6&edit_steps=4");

        String id = api.submitOk("{\"prompt\": \"a lighthouse at dusk\", \"size\": \"512*512\"}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(comfy.uploads()).isEmpty();
        JsonNode workflow = comfy.prompts().getFirst().path("prompt");
        assertThat(node(workflow, "UNETLoader").getValue().at("/inputs/unet_name").asText())
                .isEqualTo("qwen_image_fp8_e4m3fn.safetensors");
        assertThat(count(workflow, "LoadImage") + count(workflow, "TextEncodeQwenImageEditPlus")).isZero();
        assertThat(node(workflow, "EmptySD3LatentImage").getValue().at("/inputs/width").asInt()).isEqualTo(512);
        assertThat(node(workflow, "KSampler").getValue().at("/inputs/steps").asInt()).as("the text steps, not edit_steps")
                .isEqualTo(6);
    }

    @Test
    void anUploadComfyUiRefusesFailsTheEditAtOnceWithComfyUisAnswer() {
        comfy.refuseUploads(413, 10);
        Api api = start("edit_steps=2");

        String id = api.editOk(editBody("anything", "jpeg"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(result.at("/task/reason").asText())
                .startsWith("comfyui at " + comfy.url() + " refused the edit's input image: POST /upload/image answered HTTP 413")
                .contains("Maximum request body size exceeded");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).as("a permanent failure is not retried").isEqualTo(1);
        assertThat(comfy.uploads()).hasSize(1);
        assertThat(comfy.prompts()).as("nothing queued without its input").isEmpty();
    }

    @Test
    void anUploadThatFailsWithA5xxIsRetriedAndTheEditSucceeds() {
        comfy.refuseUploads(500, 1);
        Api api = start("edit_steps=2");

        String id = api.editOk(editBody("anything", "jpeg"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(2);
        assertThat(comfy.uploads()).hasSize(2);
        assertThat(comfy.prompts()).hasSize(1);
    }

    @Test
    void anUploadLeftUnansweredPastTheRequestTimeoutIsRetriedUnderTheSameName() {
        comfy.answerUploadsAfter(Duration.ofSeconds(3), 1);
        Api api = start("edit_steps=2&request_timeout=1s");

        String id = api.editOk(editBody("anything", "jpeg"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(2);
        assertThat(comfy.uploads()).hasSize(2);
        assertThat(comfy.uploads().get(0).filename()).isEqualTo(comfy.uploads().get(1).filename());
        assertThat(comfy.inputFiles()).as("the retry overwrote the first upload").hasSize(1);
    }

    @Test
    void withEditFalseAnEditSubmitIsRefusedWhileTextToImageStillWorks() {
        Api api = start("edit=false&steps=2");

        Api.Response edit = api.edit(editBody("anything", "jpeg"));
        String id = api.submitOk("{\"prompt\": \"still drawn\", \"size\": \"256*256\"}");

        assertThat(edit.status()).isEqualTo(503);
        assertThat(edit.reason()).isEqualTo("NO_EDIT_ENGINE");
        assertThat(edit.json().path("message").asText()).contains("comfyui");
        assertThat(api.awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(comfy.uploads()).isEmpty();
    }

    @Test
    void anEditWorkflowFileGetsTheUploadedInputThroughItsImagePlaceholder() throws IOException {
        Path file = Files.writeString(dataDir.resolve("my-edit.json"), """
                {"1": {"class_type": "UNETLoader", "inputs": {"unet_name": "qwen_image_edit_2509_fp8_e4m3fn.safetensors", "weight_dtype": "default"}},
                 "2": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_2.5_vl_7b_fp8_scaled.safetensors", "type": "qwen_image"}},
                 "3": {"class_type": "VAELoader", "inputs": {"vae_name": "qwen_image_vae.safetensors"}},
                 "4": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
                 "5": {"class_type": "TextEncodeQwenImageEditPlus", "inputs": {"clip": ["2", 0], "prompt": "{{prompt}}", "vae": ["3", 0], "image1": ["4", 0]}},
                 "6": {"class_type": "TextEncodeQwenImageEditPlus", "inputs": {"clip": ["2", 0], "prompt": "", "vae": ["3", 0], "image1": ["4", 0]}},
                 "7": {"class_type": "VAEEncode", "inputs": {"pixels": ["4", 0], "vae": ["3", 0]}},
                 "8": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": "{{seed}}", "steps": "{{steps}}", "cfg": 2.5,
                       "sampler_name": "euler", "scheduler": "simple", "positive": ["5", 0], "negative": ["6", 0],
                       "latent_image": ["7", 0], "denoise": 1.0}},
                 "9": {"class_type": "VAEDecode", "inputs": {"samples": ["8", 0], "vae": ["3", 0]}},
                 "10": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "mine"}}}
                """);
        Api api = start("edit_workflow=" + file + "&edit_steps=3");

        String id = api.editOk(editBody("turn it to night", "jpeg"));
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        JsonNode workflow = comfy.prompts().getFirst().path("prompt");
        assertThat(workflow.at("/4/inputs/image").asText()).isEqualTo(comfy.uploads().getFirst().filename());
        assertThat(workflow.at("/5/inputs/prompt").asText()).isEqualTo("turn it to night");
        assertThat(workflow.at("/8/inputs/steps").asInt()).isEqualTo(3);
        assertThat(workflow.at("/8/inputs/seed").asLong()).isEqualTo(7);
    }
}
