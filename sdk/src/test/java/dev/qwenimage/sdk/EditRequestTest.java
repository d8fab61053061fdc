package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.sdk.RecordingServer.Answer;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edit as the client puts it on the wire ({@code POST /v3/async/qwen-image-edit}, the vendor's
 * fields), seen by a server that records it, and the checks an {@link EditRequest} makes itself.
 */
class EditRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] PICTURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3};
    private static final String OK = "{\"task_id\": \"edit-1\"}";

    @TempDir
    Path dir;
    private RecordingServer server;
    private QwenImageClient client;

    @BeforeEach
    void start() throws Exception {
        server = new RecordingServer();
        client = QwenImageClient.builder().baseUrl(server.url()).apiKey("sk_key").build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void anEditOfAFileSendsThePromptAndTheFilesBytesInBase64AndNothingElse() throws Exception {
        server.then(Answer.json(200, OK));
        Path photo = Files.write(dir.resolve("photo.png"), PICTURE);

        String id = client.submit(EditRequest.builder().prompt("make the sky purple").image(photo).build());

        assertThat(id).isEqualTo("edit-1");
        RecordingServer.Recorded sent = server.requests().getFirst();
        assertThat(sent.method()).isEqualTo("POST");
        assertThat(sent.pathAndQuery()).isEqualTo("/v3/async/qwen-image-edit");
        assertThat(sent.header("Authorization")).isEqualTo("Bearer sk_key");
        assertThat(sent.header("Content-Type")).isEqualTo("application/json");
        assertThat(JSON.readTree(sent.body())).isEqualTo(JSON.createObjectNode()
                .put("prompt", "make the sky purple").put("image", Base64.getEncoder().encodeToString(PICTURE)));
    }

    @Test
    void aLinkIsSentAsItIsAndEveryOtherFieldGoesWhereTheServerReadsIt() throws Exception {
        server.then(Answer.json(200, OK));

        client.submit(EditRequest.builder().prompt("add a hat").imageUrl("https://example.com/cat.jpg").seed(42)
                .outputFormat(ImageType.WEBP).watermark(true).negativePrompt("blurry")
                .webhookUrl("https://hooks.example.com/qwen").idempotencyKey("edit-order-9").build());

        RecordingServer.Recorded sent = server.requests().getFirst();
        assertThat(sent.header("Idempotency-Key")).isEqualTo("edit-order-9");
        assertThat(JSON.readTree(sent.body())).isEqualTo(JSON.readTree("""
                {"prompt": "add a hat", "image": "https://example.com/cat.jpg", "seed": 42, "output_format": "webp",
                 "watermark": true, "negative_prompt": "blurry", "extra": {"webhook": {"url": "https://hooks.example.com/qwen"}}}
                """));
    }

    @Test
    void editSubmitsPollsAndDownloadsLikeGenerate() {
        String done = """
                {"task": {"task_id": "edit-1", "task_type": "QWEN_IMAGE_EDIT", "status": "TASK_STATUS_SUCCEED", "reason": "",
                          "eta": 0, "progress_percent": 100},
                 "images": [{"image_url": "%s/files/edit-1.png?expires=0&signature=s", "image_url_ttl": "0", "image_type": "png"}]}
                """.formatted(server.url());
        server.then(Answer.json(200, OK)).then(Answer.json(200, done))
                .then(new Answer(200, java.util.Map.of("Content-Type", "image/png"), "the edited picture", 0));

        GeneratedImage edited = client.edit(EditRequest.builder("add a hat", EditImage.bytes(PICTURE)).build(),
                Duration.ofSeconds(10), null);

        assertThat(edited.taskId()).isEqualTo("edit-1");
        assertThat(edited.image().type()).isEqualTo("png");
        assertThat(new String(edited.bytes(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("the edited picture");
        assertThat(server.requests()).extracting(RecordingServer.Recorded::pathAndQuery).containsExactly(
                "/v3/async/qwen-image-edit", "/v3/async/task-result?task_id=edit-1", "/files/edit-1.png?expires=0&signature=s");
        assertThat(server.requests().get(2).header("Authorization")).isNull();
    }

    @Test
    void aRefusedEditIsAQwenImageExceptionWithTheServersReason() {
        server.then(Answer.json(400, "{\"code\": 400, \"reason\": \"IMAGE_TOO_LARGE\", \"message\": \"the image is 30 MB\","
                + " \"metadata\": {\"field\": \"image\"}}"));

        assertThatThrownBy(() -> client.submit(EditRequest.builder("x", EditImage.bytes(PICTURE)).build()))
                .isInstanceOfSatisfying(QwenImageException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.reason()).isEqualTo("IMAGE_TOO_LARGE");
                });
    }

    @Test
    void aRequestChecksItsOwnFields() {
        assertThatThrownBy(() -> EditRequest.builder().prompt(" ").image(PICTURE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prompt");
        assertThatThrownBy(() -> EditRequest.builder().prompt("x").build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("image");
        assertThatThrownBy(() -> EditRequest.builder().prompt("x").imageUrl("ftp://example.com/a.png"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http");
        assertThatThrownBy(() -> EditRequest.builder().prompt("x").image(new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> EditRequest.builder().prompt("x").image(dir.resolve("missing.png")))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("missing.png");
        assertThatThrownBy(() -> EditRequest.builder().prompt("x").image(PICTURE).idempotencyKey("two words").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idempotency key");
    }

    @Test
    void theBytesAreTheRequestsOwn() {
        byte[] bytes = PICTURE.clone();
        EditRequest request = EditRequest.builder().prompt("x").image(bytes).build();
        bytes[0] = 0;

        assertThat(((EditImage.Bytes) request.image()).bytes()).isEqualTo(PICTURE);
        assertThat(request).isEqualTo(EditRequest.builder().prompt("x").image(PICTURE.clone()).build());
    }
}
