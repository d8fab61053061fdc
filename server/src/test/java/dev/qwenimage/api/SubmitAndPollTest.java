package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The contract's happy path, over real HTTP: submit, poll, download the JPEG. */
class SubmitAndPollTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @Test
    void seedRequestSucceedsWithAJpegOfTheRequestedSize() throws IOException {
        // given the request body from the vendor's documentation
        String taskId = server.api().submitOk("""
                {"prompt": "A cute corgi wearing a tiny crown, studio light", "size": "1024*1024", "watermark": true}""");

        // when it is polled until done
        JsonNode result = server.api().awaitFinished(taskId, Duration.ofSeconds(60));

        // then it succeeded with the contract's shape
        JsonNode task = result.get("task");
        assertThat(task.get("task_id").asText()).isEqualTo(taskId);
        assertThat(task.get("task_type").asText()).isEqualTo("QWEN_IMAGE_TEXT_TO_IMAGE");
        assertThat(task.get("status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(task.get("reason").asText()).isEmpty();
        assertThat(task.get("eta").asInt()).isZero();
        assertThat(task.get("progress_percent").asInt()).isEqualTo(100);
        assertThat(result.get("videos")).isEmpty();
        assertThat(result.get("audios")).isEmpty();
        assertThat(result.get("extra").get("has_nsfw_contents").isArray()).isTrue();
        assertThat(result.get("images")).hasSize(1);
        JsonNode image = result.get("images").get(0);
        assertThat(image.get("image_type").asText()).isEqualTo("jpeg");
        assertThat(image.get("image_url_ttl").isTextual()).isTrue();
        assertThat(image.get("image_url_ttl").asText()).isEqualTo("3600");
        assertThat(image.has("nsfw_detection_result")).isTrue();
        assertThat(image.get("image_url").asText()).startsWith("http://");

        // and the image downloads with a plain GET, no auth header, as a JPEG of exactly 1024x1024
        BufferedImage img = download(image.get("image_url").asText());
        assertThat(img.getWidth()).isEqualTo(1024);
        assertThat(img.getHeight()).isEqualTo(1024);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"256*1536, 256, 1536", "1536*256, 1536, 256", "1000*700, 1000, 700", "256*256, 256, 256"})
    void imageHasExactlyTheRequestedSize(String size, int width, int height) throws IOException {
        String taskId = server.api().submitOk("{\"prompt\": \"a lighthouse at dusk\", \"size\": \"" + size + "\"}");
        JsonNode result = server.api().awaitFinished(taskId, Duration.ofSeconds(60));
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");

        BufferedImage img = download(result.at("/images/0/image_url").asText());
        assertThat(img.getWidth()).isEqualTo(width);
        assertThat(img.getHeight()).isEqualTo(height);
    }

    @Test
    void sizeDefaultsTo1024SquareAndWatermarkToFalse() throws IOException {
        String taskId = server.api().submitOk("{\"prompt\": \"一只戴着帽子的猫在弹钢琴\"}");
        JsonNode result = server.api().awaitFinished(taskId, Duration.ofSeconds(60));
        BufferedImage img = download(result.at("/images/0/image_url").asText());
        assertThat(img.getWidth()).isEqualTo(1024);
        assertThat(img.getHeight()).isEqualTo(1024);
    }

    @Test
    void bareKeyWithoutBearerIsAccepted() {
        // Novita's JS SDK sends the key without "Bearer "
        var r = server.api().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.api().baseUrl() + "/v3/async/qwen-image-txt2img"))
                .header("Authorization", TestServer.KEY)
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a bare key\"}")));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("task_id").asText()).matches("[0-9a-f-]{36}");
    }

    @Test
    void unknownFieldsAreIgnored() {
        var r = server.api().submit("{\"prompt\": \"extras\", \"size\": \"512*512\", \"model_name\": \"x\", \"extra\": {\"foo\": 1}}");
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void progressAndEtaAreReportedWhileQueuedOrProcessing() {
        String taskId = server.api().submitOk("{\"prompt\": \"progress\", \"size\": \"256*256\"}");
        JsonNode first = server.api().result(taskId).json();
        String status = first.at("/task/status").asText();
        assertThat(status).isIn("TASK_STATUS_QUEUED", "TASK_STATUS_PROCESSING", "TASK_STATUS_SUCCEED");
        assertThat(first.at("/task/progress_percent").asInt()).isBetween(0, 100);
        assertThat(first.at("/task/eta").asInt()).isGreaterThanOrEqualTo(0);
        if (!status.equals("TASK_STATUS_SUCCEED")) {
            assertThat(first.get("images")).isEmpty();
        }
    }

    static BufferedImage download(String url) throws IOException {
        HttpResponse<byte[]> r = Api.fetch(url);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        byte[] bytes = r.body();
        assertThat(bytes[0] & 0xff).isEqualTo(0xFF);
        assertThat(bytes[1] & 0xff).isEqualTo(0xD8);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertThat(img).isNotNull();
        return img;
    }
}
