package dev.qwenimage.engine.sdcpp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen-Image-Edit on stable-diffusion.cpp's sd-server, end to end: an sd-server that loaded the
 * edit model is an engine entry with {@code edit=true}; each edit is one job of its native API
 * with the input picture in {@code ref_images}; text-to-image tasks never go to it.
 */
class SdCppEditEndToEndTest {
    private static final String EDIT_MODEL = "Qwen-Image-Edit-2509-Q4_K_S.gguf";

    @TempDir
    Path dataDir;

    private TestServer serverFor(String engines) {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", engines, "QWEN_IMAGE_MAX_ATTEMPTS", "2"));
    }

    private static String entry(FakeSdServer sd, String options) {
        return "sdcpp:" + sd.url() + "?poll=50ms&step_time=20ms" + options;
    }

    /** A 1600x900 JPEG (red left half, blue right half, a yellow square top-left): edited at 1360x768. */
    private static String editBody(String prompt) {
        return """
                {"prompt": "%s", "image": "%s", "output_format": "png"}""".formatted(prompt, Pictures.base64(Pictures.jpeg(1600, 900)));
    }

    @Test
    void anEditRunsAsOneJobWithTheInputAsItsReferenceImage() {
        try (FakeSdServer sd = FakeSdServer.start().model(EDIT_MODEL).generationTime(Duration.ofMillis(100));
             TestServer server = serverFor(entry(sd, "&edit=true&steps=8&cfg_scale=1"))) {
            String id = server.api().editOk(editBody("replace the red with green"));

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
            BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
            assertThat(out.getWidth()).isEqualTo(1360);
            assertThat(out.getHeight()).isEqualTo(768);
            // the fake draws in the reference's top-left colour: the input's yellow corner reached the generation
            int rgb = out.getRGB(out.getWidth() / 2, out.getHeight() / 2);
            assertThat((rgb >> 16) & 0xff).isGreaterThan(200);
            assertThat((rgb >> 8) & 0xff).isGreaterThan(180);
            assertThat(rgb & 0xff).isLessThan(80);

            JsonNode job = sd.submitted().getFirst();
            assertThat(job.get("prompt").asText()).isEqualTo("replace the red with green");
            assertThat(job.get("width").asInt()).isEqualTo(1360);
            assertThat(job.get("height").asInt()).isEqualTo(768);
            assertThat(job.at("/sample_params/sample_steps").asInt()).isEqualTo(8);
            assertThat(job.at("/sample_params/guidance/txt_cfg").asDouble()).isEqualTo(1.0);
            assertThat(job.get("ref_images")).hasSize(1);
            BufferedImage reference = FakeSdServer.decodeImage(job.get("ref_images").get(0).asText());
            assertThat(reference.getWidth()).isEqualTo(1360);
            assertThat(reference.getHeight()).isEqualTo(768);
            assertThat(job.has("init_image")).as("an edit, not img2img").isFalse();
        }
    }

    @Test
    void textToImageGoesToTheQwenImageServerAndEditsToTheEditOne() {
        try (FakeSdServer edit = FakeSdServer.start().model(EDIT_MODEL).generationTime(Duration.ofMillis(50));
             FakeSdServer text = FakeSdServer.start().generationTime(Duration.ofMillis(50));
             TestServer server = serverFor(entry(edit, "&edit=true&name=edit-box") + ";" + entry(text, "&name=text-box"))) {
            String drawn = server.api().submitOk("{\"prompt\": \"a red bicycle\", \"size\": \"512*512\"}");
            String edited = server.api().editOk(editBody("make it blue"));
            String drawnAgain = server.api().submitOk("{\"prompt\": \"a green bicycle\", \"size\": \"512*512\"}");

            for (String id : new String[] {drawn, edited, drawnAgain}) {
                assertThat(server.api().awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                        .isEqualTo("TASK_STATUS_SUCCEED");
            }

            assertThat(server.server().store().find(drawn).orElseThrow().engine()).hasValue("text-box");
            assertThat(server.server().store().find(drawnAgain).orElseThrow().engine()).hasValue("text-box");
            assertThat(server.server().store().find(edited).orElseThrow().engine()).hasValue("edit-box");
            assertThat(edit.submitted()).hasSize(1).allSatisfy(job -> assertThat(job.has("ref_images")).isTrue());
            assertThat(text.submitted()).hasSize(2).noneSatisfy(job -> assertThat(job.has("ref_images")).isTrue());
        }
    }

    @Test
    void anSdServerWithoutEditTrueTakesNoEditsAndTheEditSubmitIsRefused() {
        try (FakeSdServer sd = FakeSdServer.start().generationTime(Duration.ofMillis(50));
             TestServer server = serverFor(entry(sd, ""))) {
            Api.Response edit = server.api().edit(editBody("anything"));
            String id = server.api().submitOk("{\"prompt\": \"still drawn\", \"size\": \"256*256\"}");

            assertThat(edit.status()).isEqualTo(503);
            assertThat(edit.reason()).isEqualTo("NO_EDIT_ENGINE");
            assertThat(server.api().awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                    .isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(sd.submitted()).hasSize(1);
        }
    }

    @Test
    void withOnlyAnEditServerATextToImageSubmitIsRefusedRatherThanLeftWaiting() {
        try (FakeSdServer sd = FakeSdServer.start().model(EDIT_MODEL);
             TestServer server = serverFor(entry(sd, "&edit=true"))) {
            Api.Response r = server.api().submit("{\"prompt\": \"a red bicycle\", \"size\": \"512*512\"}");

            assertThat(r.status()).isEqualTo(503);
            assertThat(r.reason()).isEqualTo("NO_TEXT_TO_IMAGE_ENGINE");
            assertThat(r.json().path("message").asText()).contains("no engine of this service draws from text")
                    .contains("sdcpp").contains("qwen-image-edit");
            assertThat(sd.submitted()).isEmpty();
        }
    }

    @Test
    void anEditJobSdServerRefusesFailsTheTaskAtOnceWithItsReason() {
        try (FakeSdServer sd = FakeSdServer.start().model(EDIT_MODEL).refuseJobs("invalid generation parameters");
             TestServer server = serverFor(entry(sd, "&edit=true"))) {
            String id = server.api().editOk(editBody("anything"));

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).contains("sdcpp at " + sd.url()).contains("HTTP 400")
                    .contains("invalid generation parameters");
            assertThat(sd.submitted()).hasSize(1);
            assertThat(sd.submitted().getFirst().has("ref_images")).isTrue();
        }
    }

    @Test
    void anEditEngineDeclaresEditsOnlyAndIsDownWhereSdServerTakesNoReferenceImages() {
        try (FakeSdServer sd = FakeSdServer.start().model(EDIT_MODEL).withoutRefImages();
             SdCppEngine engine = SdCppEngine.from(EngineSpec.parseAll("QWEN_IMAGE_ENGINES", entry(sd, "&edit=true")).getFirst());
             SdCppEngine text = SdCppEngine.from(EngineSpec.parseAll("QWEN_IMAGE_ENGINES", entry(sd, "")).getFirst())) {
            assertThat(engine.kinds()).containsExactly(TaskKind.EDIT);
            assertThat(text.kinds()).containsExactly(TaskKind.TEXT_TO_IMAGE);
            assertThat(engine.describe()).contains("Qwen-Image-Edit: edits only");

            assertThat(engine.probe()).isInstanceOfSatisfying(EngineHealth.Down.class,
                    d -> assertThat(d.reason()).contains("takes no reference images").contains("edit=true"));
            assertThat(text.probe()).isInstanceOf(EngineHealth.Up.class);
        }
    }
}
