package dev.qwenimage.engine.openai;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Errors;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /v3/async/qwen-image-edit served by an OpenAI-compatible images server (vLLM-Omni's
 * shape, faked in-process) through QWEN_IMAGE_ENGINES=openai:...: the input reaches the server's
 * /v1/images/edits, the result comes back by task-result, and an engine that makes no edits takes
 * none.
 */
class OpenAiEditEndToEndTest {
    private static final String EDIT_MODEL = "Qwen/Qwen-Image-Edit-2509";

    @TempDir
    Path dataDir;

    private TestServer serverWith(String engines) {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", engines));
    }

    private static String editBody(String prompt, byte[] image, String extra) {
        return "{\"prompt\": \"" + prompt + "\", \"image\": \"" + Pictures.base64(image) + "\"" + extra + "}";
    }

    @Test
    void anEditRunsOnTheServersEditsRouteAndComesBackAtTheInputsAspect() {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving(EDIT_MODEL);
             TestServer server = serverWith("openai:" + images.base() + "?model=" + EDIT_MODEL
                     + "&edit=only&extras=vllm&steps=8&step_time=10ms")) {
            // when a 1600x900 PNG is edited
            String id = server.api().editOk(editBody("make the sky purple", Pictures.png(1600, 900),
                    ", \"seed\": 7, \"output_format\": \"png\""));
            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            // then the task succeeds as an edit, at the input's aspect at one megapixel
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
            assertThat(result.at("/images/0/image_type").asText()).isEqualTo("png");
            HttpResponse<byte[]> file = Api.fetch(result.at("/images/0/image_url").asText());
            BufferedImage out = Pictures.decode(file.body());
            assertThat(out.getWidth()).isEqualTo(1360);
            assertThat(out.getHeight()).isEqualTo(768);
            // the server got the input at the working size (red left half) and mirrored it (red now right)
            FakeOpenAiImages.Edit sent = images.edits().getFirst();
            BufferedImage received = sent.decodedImage();
            assertThat(received.getWidth()).isEqualTo(1360);
            assertThat(received.getHeight()).isEqualTo(768);
            assertThat(isRed(received.getRGB(200, 600))).isTrue();
            assertThat(isRed(out.getRGB(1160, 600))).isTrue();
            assertThat(isRed(out.getRGB(200, 600))).isFalse();
            assertThat(sent.fields()).containsEntry("prompt", "make the sky purple").containsEntry("size", "1360x768")
                    .containsEntry("seed", "7").containsEntry("num_inference_steps", "8").containsEntry("model", EDIT_MODEL);
            assertThat(images.requests()).as("no text-to-image call").isEmpty();

            // and with only an edit server, a text-to-image submit is refused at once, not queued for good
            Api.Response refused = server.api().submit("{\"prompt\": \"a lighthouse\", \"size\": \"512*512\"}");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.reason()).isEqualTo("NO_TEXT_TO_IMAGE_ENGINE");
            assertThat(refused.json().get("message").asText()).contains("only edit");
        }
    }

    @Test
    void anEngineThatMakesNoEditsLeavesEditSubmitsRefusedWith503WhileTextToImageRuns() {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving("Qwen/Qwen-Image");
             TestServer server = serverWith("openai:" + images.base() + "?step_time=10ms")) {
            Api.Response refused = server.api().edit(editBody("add a hat", Pictures.png(640, 480), ""));
            String id = server.api().submitOk("{\"prompt\": \"a kite over the sea\", \"size\": \"512*512\"}");
            JsonNode drawn = server.api().awaitFinished(id, Duration.ofSeconds(30));

            Errors.assertError(refused, 503, "NO_EDIT_ENGINE");
            assertThat(refused.json().get("message").asText()).contains("no engine of this service can edit images")
                    .contains("openai");
            assertThat(drawn.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(images.edits()).isEmpty();
            assertThat(images.requests()).hasSize(1);
        }
    }

    @Test
    void editsGoOnlyToTheEditServerAndTextToImageOnlyToTheOther() {
        try (FakeOpenAiImages text = FakeOpenAiImages.serving("Qwen/Qwen-Image");
             FakeOpenAiImages edit = FakeOpenAiImages.serving(EDIT_MODEL);
             TestServer server = serverWith("openai:" + text.base() + "?name=draw&step_time=10ms;openai:" + edit.base()
                     + "?name=edit&model=" + EDIT_MODEL + "&edit=only&step_time=10ms")) {
            List<String> ids = List.of(
                    server.api().editOk(editBody("add a hat", Pictures.png(640, 480), "")),
                    server.api().submitOk("{\"prompt\": \"one\", \"size\": \"256*256\"}"),
                    server.api().editOk(editBody("add a scarf", Pictures.jpeg(480, 640), "")),
                    server.api().submitOk("{\"prompt\": \"two\", \"size\": \"256*256\"}"));

            for (String id : ids) {
                assertThat(server.api().awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText())
                        .isEqualTo("TASK_STATUS_SUCCEED");
            }
            assertThat(edit.edits()).hasSize(2);
            assertThat(edit.requests()).isEmpty();
            assertThat(text.requests()).hasSize(2);
            assertThat(text.edits()).isEmpty();
            assertThat(server.server().store().find(ids.get(0)).orElseThrow().engine()).hasValue("edit");
            assertThat(server.server().store().find(ids.get(1)).orElseThrow().engine()).hasValue("draw");
        }
    }

    @Test
    void aServerThatDoesNotServeEditsFailsTheEditSayingSo() {
        try (FakeOpenAiImages images = FakeOpenAiImages.serving("Qwen/Qwen-Image").withoutEdits();
             TestServer server = serverWith("openai:" + images.base() + "?edit=true&step_time=10ms")) {
            String id = server.api().editOk(editBody("add a hat", Pictures.png(640, 480), ""));

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).contains("does not serve image edits").contains("HTTP 404");
            assertThat(server.server().store().find(id).orElseThrow().attempts()).isEqualTo(1);
        }
    }

    private static boolean isRed(int rgb) {
        int r = (rgb >> 16) & 0xff;
        int b = rgb & 0xff;
        return r > 150 && b < 100;
    }
}
