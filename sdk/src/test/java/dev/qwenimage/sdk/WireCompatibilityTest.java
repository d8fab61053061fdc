package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.sdk.RecordingServer.Answer;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the client puts on the wire, seen by a server that records it: against the cloud API a
 * caller that sets no extension must send only the fields the cloud knows, and the answers the
 * cloud documents must read correctly.
 */
class WireCompatibilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OK = "{\"task_id\": \"679c6531-a8d1-400c-8071-d58ccf074ae5\"}";

    private RecordingServer server;
    private QwenImageClient client;

    @BeforeEach
    void start() throws Exception {
        server = new RecordingServer();
        client = QwenImageClient.builder().baseUrl(server.url() + "/").apiKey("sk_cloud_key").build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void aPromptOnlyRequestSendsOnlyThePrompt() throws Exception {
        server.then(Answer.json(200, OK));

        String id = client.submit(GenerateRequest.of("a red fox in the snow"));

        assertThat(id).isEqualTo("679c6531-a8d1-400c-8071-d58ccf074ae5");
        RecordingServer.Recorded sent = server.requests().get(0);
        assertThat(sent.method()).isEqualTo("POST");
        assertThat(sent.pathAndQuery()).isEqualTo("/v3/async/qwen-image-txt2img");
        assertThat(sent.header("Authorization")).isEqualTo("Bearer sk_cloud_key");
        assertThat(sent.header("Content-Type")).isEqualTo("application/json");
        assertThat(sent.header("Idempotency-Key")).isNull();
        assertThat(JSON.readTree(sent.body())).isEqualTo(JSON.readTree("{\"prompt\": \"a red fox in the snow\"}"));
    }

    @Test
    void theCloudFieldsAreSentWithTheCloudsNamesAndNothingElse() throws Exception {
        server.then(Answer.json(200, OK));

        client.submit(GenerateRequest.builder("a lighthouse").size(1664, 928).watermark(false).build());

        assertThat(JSON.readTree(server.requests().get(0).body())).isEqualTo(JSON.readTree(
                "{\"prompt\": \"a lighthouse\", \"size\": \"1664*928\", \"watermark\": false}"));
    }

    @Test
    void everyExtensionGoesWhereTheServerReadsIt() throws Exception {
        server.then(Answer.json(200, OK));

        client.submit(GenerateRequest.builder("a lighthouse").size("1328x1328").watermark(true).seed(42)
                .negativePrompt("blurry").responseImageType(ImageType.WEBP)
                .webhookUrl("https://hooks.example.com/qwen").idempotencyKey("order-17").build());

        RecordingServer.Recorded sent = server.requests().get(0);
        assertThat(sent.header("Idempotency-Key")).isEqualTo("order-17");
        assertThat(JSON.readTree(sent.body())).isEqualTo(JSON.readTree("""
                {"prompt": "a lighthouse", "size": "1328*1328", "watermark": true, "seed": 42,
                 "negative_prompt": "blurry",
                 "extra": {"response_image_type": "webp", "webhook": {"url": "https://hooks.example.com/qwen"}}}
                """));
    }

    @Test
    void theCloudsTaskResultReadsAsTheContractDescribesIt() {
        // the example body of the cloud's task-result page, with a flagged image added
        server.then(Answer.json(200, """
                {"extra": {"has_nsfw_contents": [true]},
                 "task": {"task_id": "679c6531-a8d1-400c-8071-d58ccf074ae5", "task_type": "QWEN_IMAGE_TEXT_TO_IMAGE",
                          "status": "TASK_STATUS_SUCCEED", "reason": "", "eta": 0, "progress_percent": 100},
                 "images": [{"image_url": "https://cdn.example.com/out.jpeg?sig=1", "image_url_ttl": "3600",
                             "image_type": "jpeg", "nsfw_detection_result": {"valid": true, "confidence": 0.93}}],
                 "videos": [], "audios": []}
                """));

        TaskResult r = client.get("679c6531-a8d1-400c-8071-d58ccf074ae5");

        assertThat(server.requests().get(0).method()).isEqualTo("GET");
        assertThat(server.requests().get(0).pathAndQuery())
                .isEqualTo("/v3/async/task-result?task_id=679c6531-a8d1-400c-8071-d58ccf074ae5");
        assertThat(r.status()).isEqualTo(TaskStatus.SUCCEED);
        assertThat(r.progressPercent()).isEqualTo(100);
        assertThat(r.eta()).isEqualTo(Duration.ZERO);
        assertThat(r.seed()).isEmpty();
        assertThat(r.images()).singleElement().satisfies(image -> {
            assertThat(image.url()).isEqualTo(URI.create("https://cdn.example.com/out.jpeg?sig=1"));
            assertThat(image.ttl()).isEqualTo(Duration.ofHours(1));
            assertThat(image.imageType()).contains(ImageType.JPEG);
            assertThat(image.nsfw()).contains(new NsfwDetection(true, 0.93));
        });
    }

    @Test
    void aRunningTaskReadsWithItsEtaProgressAndNoImages() {
        server.then(Answer.json(200, """
                {"extra": {"has_nsfw_contents": [], "seed": 1234},
                 "task": {"task_id": "t-1", "status": "TASK_STATUS_PROCESSING", "reason": "", "eta": 17, "progress_percent": 35},
                 "images": [], "videos": [], "audios": []}
                """));

        TaskResult r = client.get("t-1");

        assertThat(r).isEqualTo(new TaskResult("t-1", TaskStatus.PROCESSING, "", Duration.ofSeconds(17), 35,
                java.util.List.of(), java.util.OptionalLong.of(1234)));
    }

    @Test
    void anUnknownStatusIsUnknownRatherThanAnError() {
        server.then(Answer.json(200, "{\"task\": {\"task_id\": \"t-2\", \"status\": \"TASK_STATUS_PAUSED\"}}"));

        assertThat(client.get("t-2").status()).isEqualTo(TaskStatus.UNKNOWN);
    }

    @Test
    void cancelPostsTheTaskIdAndReadsTheStatus() throws Exception {
        server.then(Answer.json(200, "{\"task_id\": \"t-3\", \"status\": \"TASK_STATUS_PROCESSING\"}"));

        TaskStatus status = client.cancel("t-3");

        assertThat(status).isEqualTo(TaskStatus.PROCESSING);
        RecordingServer.Recorded sent = server.requests().get(0);
        assertThat(sent.method()).isEqualTo("POST");
        assertThat(sent.pathAndQuery()).isEqualTo("/v3/async/task-cancel");
        JsonNode body = JSON.readTree(sent.body());
        assertThat(body).isEqualTo(JSON.readTree("{\"task_id\": \"t-3\"}"));
    }

    @Test
    void imagesAreDownloadedWithoutTheApiKey() {
        server.then(new Answer(200, java.util.Map.of("Content-Type", "image/jpeg"), "not really a jpeg", 0));

        byte[] bytes = client.download(URI.create(server.url() + "/files/abc.jpeg?expires=0&signature=x"));

        assertThat(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("not really a jpeg");
        assertThat(server.requests().get(0).header("Authorization")).isNull();
    }
}
