package dev.qwenimage.engine.ppio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.engine.ppio.FakePpioCloud.Failure;
import dev.qwenimage.engine.ppio.FakePpioCloud.Plan;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POST /v3/async/qwen-image-edit relayed to the (fake) PPIO cloud's own edit endpoint, configured by one engine entry. */
class PpioEditEndToEndTest {
    @TempDir
    Path dataDir;

    private final FakePpioCloud cloud = new FakePpioCloud();

    @AfterEach
    void stopCloud() {
        cloud.close();
    }

    private TestServer start() {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES", "ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY + "&poll=20ms"));
    }

    @Test
    void anEditRunsInTheCloudAndComesBackAtTheInputsAspectInTheFormatAsked() {
        cloud.plan(Plan.succeedAfter(30, 80));
        try (TestServer server = start()) {
            // when a 1200x900 JPEG is edited, as a data: URI, with a seed, for a WebP
            String id = server.api().editOk("""
                    {"prompt": "turn the day into night", "image": "data:image/jpeg;base64,%s", "seed": 123, "output_format": "webp"}"""
                    .formatted(Pictures.base64(Pictures.jpeg(1200, 900))));
            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            // then the task succeeds as an edit, at 4:3 at one megapixel, in WebP
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
            assertThat(result.at("/task/progress_percent").asInt()).isEqualTo(100);
            assertThat(result.at("/extra/seed").asLong()).isEqualTo(123);
            assertThat(result.at("/images/0/image_type").asText()).isEqualTo("webp");
            HttpResponse<byte[]> file = Api.fetch(result.at("/images/0/image_url").asText());
            assertThat(file.headers().firstValue("Content-Type")).hasValue("image/webp");
            BufferedImage out = Pictures.decode(file.body());
            assertThat(out.getWidth()).isEqualTo(1184);
            assertThat(out.getHeight()).isEqualTo(880);
            // the cloud got the stored input (a PNG at the working size, red on the left) and mirrored it
            FakePpioCloud.Submit submit = cloud.submits().getFirst();
            assertThat(submit.path()).isEqualTo("/v3/async/qwen-image-edit");
            assertThat(submit.json().get("prompt").asText()).isEqualTo("turn the day into night");
            assertThat(submit.json().get("seed").asLong()).isEqualTo(123);
            BufferedImage sent = Pictures.decode(Base64.getDecoder().decode(submit.json().get("image").asText()));
            assertThat(sent.getWidth()).isEqualTo(1184);
            assertThat(sent.getHeight()).isEqualTo(880);
            assertThat(isRed(sent.getRGB(200, 600))).isTrue();
            assertThat(isRed(out.getRGB(984, 600))).isTrue();
            assertThat(isRed(out.getRGB(200, 600))).isFalse();
        }
    }

    @Test
    void anEditTheCloudRefusesEndsFailedWithTheCloudsMessage() {
        cloud.failSubmits(1, Failure.contract(400, "INVALID_PROMPT", "the prompt violates the content policy"));
        try (TestServer server = start()) {
            String id = server.api().editOk("""
                    {"prompt": "something the provider refuses", "image": "%s"}""".formatted(Pictures.base64(Pictures.png(640, 480))));

            JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
            assertThat(result.at("/task/reason").asText()).contains("INVALID_PROMPT: the prompt violates the content policy");
            assertThat(cloud.tasksCreated()).isZero();
        }
    }

    private static boolean isRed(int rgb) {
        int r = (rgb >> 16) & 0xff;
        int b = rgb & 0xff;
        return r > 150 && b < 100;
    }
}
