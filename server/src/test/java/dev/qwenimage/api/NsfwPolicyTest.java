package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NSFW verdict and the three policies end to end, with the real classifier. A threshold of 0
 * flags every image, which is how the policies are exercised without indecent test pictures.
 */
class NsfwPolicyTest {
    @TempDir
    Path dataDir;

    private static final String BODY = "{\"prompt\": \"a quiet mountain lake at dawn\", \"size\": \"384*384\", \"seed\": 5}";

    private JsonNode run(Map<String, String> settings) {
        try (TestServer server = TestServer.start(dataDir.resolve(String.valueOf(settings.hashCode())), settings)) {
            Api api = server.api();
            JsonNode result = api.awaitFinished(api.submitOk(BODY), Duration.ofSeconds(60));
            if (result.at("/task/status").asText().equals("TASK_STATUS_SUCCEED")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) result).put("sharpness",
                        sharpness(Api.fetch(result.at("/images/0/image_url").asText()).body()));
            }
            return result;
        }
    }

    /** Mean absolute difference between horizontal neighbours: high for text and edges, near 0 for a blur. */
    private static double sharpness(byte[] file) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(file));
            long sum = 0;
            long n = 0;
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 1; x < img.getWidth(); x++) {
                    int a = img.getRGB(x, y);
                    int b = img.getRGB(x - 1, y);
                    sum += Math.abs(((a >> 8) & 0xff) - ((b >> 8) & 0xff));
                    n++;
                }
            }
            return (double) sum / n;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void everyImageGetsAVerdictAndAnOrdinaryPictureIsNotFlagged() {
        JsonNode result = run(Map.of());
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        JsonNode verdict = result.at("/images/0/nsfw_detection_result");
        assertThat(verdict.get("valid").asBoolean()).isFalse();
        // not flagged: the confidence is that of "safe", i.e. at least one half
        assertThat(verdict.get("confidence").asDouble()).isBetween(0.5, 1.0);
        assertThat(result.at("/extra/has_nsfw_contents").toString()).isEqualTo("[false]");
    }

    @Test
    void aFlaggedImageIsKeptAndReportedUnderTheFlagPolicy() {
        JsonNode result = run(Map.of("QWEN_IMAGE_NSFW_THRESHOLD", "0"));
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(result.at("/images/0/nsfw_detection_result/valid").asBoolean()).isTrue();
        assertThat(result.at("/images/0/nsfw_detection_result/confidence").asDouble()).isBetween(0.0, 0.5);
        assertThat(result.at("/extra/has_nsfw_contents").toString()).isEqualTo("[true]");
    }

    @Test
    void theBlockPolicyStoresNothingAndSaysWhy() {
        JsonNode result = run(Map.of("QWEN_IMAGE_NSFW_THRESHOLD", "0", "QWEN_IMAGE_NSFW_ACTION", "block"));
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(result.at("/task/reason").asText()).startsWith("the generated image was blocked by the NSFW filter");
        assertThat(result.get("images")).isEmpty();
        assertThat(result.at("/extra/has_nsfw_contents").toString()).isEqualTo("[]");
    }

    @Test
    void theBlurPolicyStoresABlurredImage() {
        JsonNode sharp = run(Map.of("QWEN_IMAGE_NSFW_THRESHOLD", "0", "QWEN_IMAGE_NSFW_ACTION", "flag"));
        JsonNode blurred = run(Map.of("QWEN_IMAGE_NSFW_THRESHOLD", "0", "QWEN_IMAGE_NSFW_ACTION", "blur"));
        assertThat(blurred.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(blurred.at("/images/0/nsfw_detection_result/valid").asBoolean()).isTrue();
        // the poster's text and grain are gone: far less detail than the same picture unblurred
        assertThat(blurred.get("sharpness").asDouble()).isLessThan(sharp.get("sharpness").asDouble() / 4);
    }

    @Test
    void detectionCanBeSwitchedOff() {
        JsonNode result = run(Map.of("QWEN_IMAGE_NSFW", "off"));
        assertThat(result.at("/images/0/nsfw_detection_result").isNull()).isTrue();
        assertThat(result.at("/extra/has_nsfw_contents").toString()).isEqualTo("[]");
    }
}
