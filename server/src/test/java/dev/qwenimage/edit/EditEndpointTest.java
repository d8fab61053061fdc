package dev.qwenimage.edit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.SharedServer;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * POST /v3/async/qwen-image-edit on the preview engine, over real HTTP: the vendor's body, the
 * input as bare base64 or a data: URI, in JPEG, PNG or WebP, answered at the input's aspect ratio
 * at one megapixel, by the same task-result as text-to-image.
 */
class EditEndpointTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @Test
    void anEditOfABase64PngSucceedsWithTheEditTaskTypeAndAMirroredTintedPicture() {
        String body = """
                {"prompt": "make the sky purple", "image": "%s", "seed": 42, "output_format": "png"}"""
                .formatted(Pictures.base64(Pictures.png(800, 800)));

        String id = server.api().editOk(body);
        JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
        assertThat(result.at("/extra/seed").asLong()).isEqualTo(42);
        assertThat(result.at("/images/0/image_type").asText()).isEqualTo("png");
        BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
        assertThat(out.getWidth()).isEqualTo(1024);
        assertThat(out.getHeight()).isEqualTo(1024);
        // the preview mirrors the input: its red half is now on the right, its blue half on the left
        int left = out.getRGB(out.getWidth() / 10, out.getHeight() / 2);
        int right = out.getRGB(out.getWidth() * 9 / 10, out.getHeight() / 2);
        assertThat((left & 0xff)).isGreaterThan((left >> 16) & 0xff);
        assertThat((right >> 16) & 0xff).isGreaterThan(right & 0xff);
    }

    @ParameterizedTest(name = "a {0}x{1} input is edited at {2}x{3}")
    @CsvSource({"800,800,1024,1024", "1600,900,1360,768", "900,1600,768,1360", "1200,300,2048,512", "4000,3000,1184,880"})
    void theOutputFollowsTheInputsAspectRatioAtOneMegapixelInMultiplesOf16(int w, int h, int ow, int oh) {
        String id = server.api().editOk("""
                {"prompt": "add a hat", "image": "data:image/jpeg;base64,%s"}""".formatted(Pictures.base64(Pictures.jpeg(w, h))));

        JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/images/0/image_type").asText()).isEqualTo("jpeg");
        BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
        assertThat(out.getWidth()).isEqualTo(ow);
        assertThat(out.getHeight()).isEqualTo(oh);
    }

    @Test
    void aWebpInputIsTaken() {
        String id = server.api().editOk("""
                {"prompt": "add a hat", "image": "%s", "output_format": "webp"}"""
                .formatted(Pictures.base64(Pictures.encode(Pictures.halves(640, 480), "webp"))));

        JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/images/0/image_type").asText()).isEqualTo("webp");
    }
}
