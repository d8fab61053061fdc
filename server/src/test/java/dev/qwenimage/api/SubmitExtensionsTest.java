package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.JpegLabels;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The documented submit extensions: seed, negative_prompt, extra.response_image_type. */
class SubmitExtensionsTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    private static JsonNode run(String body) {
        return server.api().awaitFinished(server.api().submitOk(body), Duration.ofSeconds(60));
    }

    private static int[] pixels(JsonNode result) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(Api.fetch(result.at("/images/0/image_url").asText()).body()));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void aGivenSeedIsReportedAndReproducesTheImage() throws Exception {
        JsonNode first = run("{\"prompt\": \"a seeded fox\", \"size\": \"256*256\", \"seed\": 424242}");
        JsonNode again = run("{\"prompt\": \"a seeded fox\", \"size\": \"256*256\", \"seed\": 424242}");
        JsonNode other = run("{\"prompt\": \"a seeded fox\", \"size\": \"256*256\", \"seed\": 7}");
        assertThat(first.at("/extra/seed").asLong()).isEqualTo(424242);
        assertThat(Arrays.equals(pixels(first), pixels(again))).isTrue();
        assertThat(Arrays.equals(pixels(first), pixels(other))).isFalse();
    }

    @Test
    void withoutASeedOrWithMinusOneARandomSeedIsDrawnAndReported() {
        JsonNode a = run("{\"prompt\": \"random\", \"size\": \"256*256\"}");
        JsonNode b = run("{\"prompt\": \"random\", \"size\": \"256*256\", \"seed\": -1}");
        assertThat(a.at("/extra/seed").isIntegralNumber()).isTrue();
        assertThat(a.at("/extra/seed").asLong()).isNotNegative();
        assertThat(b.at("/extra/seed").asLong()).isNotNegative().isNotEqualTo(a.at("/extra/seed").asLong());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"jpeg, image/jpeg", "png, image/png", "webp, image/webp"})
    void theImageComesInTheFormatAskedForWithItsLabel(String type, String contentType) throws Exception {
        JsonNode result = run("{\"prompt\": \"formats\", \"size\": \"320*256\", \"extra\": {\"response_image_type\": \"" + type + "\"}}");
        assertThat(result.at("/images/0/image_type").asText()).isEqualTo(type);
        HttpResponse<byte[]> file = Api.fetch(result.at("/images/0/image_url").asText());
        assertThat(file.headers().firstValue("Content-Type")).hasValue(contentType);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(file.body()));
        assertThat(img.getWidth()).isEqualTo(320);
        assertThat(img.getHeight()).isEqualTo(256);
        // the implicit AIGC label travels in every format
        assertThat(JpegLabels.aigc(file.body()).get("ProduceID").asText()).isEqualTo(result.at("/task/task_id").asText());
    }

    @Test
    void badExtensionValuesAreRefusedWithTheFieldNamed() {
        Api.Response seed = server.api().submit("{\"prompt\": \"a\", \"seed\": 1.5}");
        assertError(seed, 400, "INVALID_SEED");
        assertError(server.api().submit("{\"prompt\": \"a\", \"seed\": -2}"), 400, "INVALID_SEED");
        assertError(server.api().submit("{\"prompt\": \"a\", \"seed\": \"42\"}"), 400, "INVALID_SEED");
        assertError(server.api().submit("{\"prompt\": \"a\", \"negative_prompt\": 3}"), 400, "INVALID_NEGATIVE_PROMPT");
        Api.Response type = server.api().submit("{\"prompt\": \"a\", \"extra\": {\"response_image_type\": \"gif\"}}");
        assertError(type, 400, "INVALID_IMAGE_TYPE");
        assertThat(type.json().at("/metadata/field").asText()).isEqualTo("extra.response_image_type");
        assertError(server.api().submit("{\"prompt\": \"a\", \"extra\": \"webp\"}"), 400, "INVALID_EXTRA");
        assertError(server.api().submit("{\"prompt\": \"a\", \"extra\": {\"webhook\": {\"url\": \"ftp://example.com/x\"}}}"), 400,
                "INVALID_WEBHOOK_URL");
        Api.Response internal = server.api().submit("{\"prompt\": \"a\", \"extra\": {\"webhook\": {\"url\": \"http://127.0.0.1:9/hook\"}}}");
        assertError(internal, 400, "INVALID_WEBHOOK_URL");
        assertThat(internal.json().get("message").asText()).contains("allow-listed");
    }
}
