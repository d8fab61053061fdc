package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.images.ImageEditParams;
import com.openai.models.images.ImagesResponse;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /v1/images/edits, OpenAI's edit form, driven by the official OpenAI Java SDK (and by hand
 * where the SDK cannot send what a test needs). The server takes images of up to 100 KB in bodies
 * of up to 300 KB here, so the limits are reached with small files.
 */
class OpenAiEditsTest {
    @TempDir
    static Path dataDir;
    @TempDir
    static Path files;
    static TestServer server;
    static OpenAIClient openai;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_EDIT_MAX_IMAGE", "100KB", "QWEN_IMAGE_EDIT_MAX_BODY", "300KB"));
        openai = OpenAIOkHttpClient.builder().baseUrl(server.api().baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
    }

    @Test
    void anEditOfAPngFileAnswersWithAUrlToThePictureAtTheInputsAspectRatio() throws Exception {
        // given a 1600x900 PNG on disk: red left half, blue right half
        Path photo = Files.write(files.resolve("photo.png"), Pictures.png(1600, 900));

        // when the SDK sends it as OpenAI's edit form
        ImagesResponse r = openai.images().edit(ImageEditParams.builder()
                .image(photo).prompt("make the sky purple").model("qwen-image-edit").n(1).user("user-17").build());

        // then the picture is the edit of that file, at its aspect ratio at one megapixel
        BufferedImage out = Pictures.decode(Api.fetch(r.data().orElseThrow().getFirst().url().orElseThrow()).body());
        assertThat(out.getWidth()).isEqualTo(1360);
        assertThat(out.getHeight()).isEqualTo(768);
        // the preview engine mirrors its input: the red half is now on the right
        int right = out.getRGB(out.getWidth() * 9 / 10, out.getHeight() / 2);
        assertThat((right >> 16) & 0xff).isGreaterThan(right & 0xff);
        assertThat(r.size().orElseThrow().asString()).isEqualTo("1360x768");
        assertThat(r.outputFormat().orElseThrow().asString()).isEqualTo("jpeg");
        assertThat(r.data().orElseThrow().getFirst().revisedPrompt()).contains("make the sky purple");
        assertThat(r.created()).isPositive();
    }

    @Test
    void b64JsonInTheAskedFormatAndASizeThatIsNotTheInputsIsIgnored() {
        ImagesResponse r = openai.images().edit(ImageEditParams.builder()
                .image(Pictures.jpeg(800, 800)).prompt("add a hat")
                .responseFormat(ImageEditParams.ResponseFormat.B64_JSON).outputFormat(ImageEditParams.OutputFormat.PNG)
                .size(ImageEditParams.Size._1536X1024).build());

        byte[] png = Base64.getDecoder().decode(r.data().orElseThrow().getFirst().b64Json().orElseThrow());
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        BufferedImage out = Pictures.decode(png);
        assertThat(out.getWidth()).isEqualTo(1024);
        assertThat(out.getHeight()).isEqualTo(1024);
        assertThat(r.size().orElseThrow().asString()).isEqualTo("1024x1024");
    }

    @Test
    void aMaskIsRefusedInOpenAisErrorShape() {
        OpenAIServiceException e = catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(
                ImageEditParams.builder().image(Pictures.png(512, 512)).mask(Pictures.png(512, 512)).prompt("fill the hole").build()));

        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.code()).contains("mask_not_supported");
        assertThat(e.param()).contains("mask");
        assertThat(e.getMessage()).contains("takes no mask");
    }

    @Test
    void anImageListOfOneIsTakenAndOfTwoIsRefused() {
        ImagesResponse one = openai.images().edit(ImageEditParams.builder()
                .imageOfInputStreams(List.of(new ByteArrayInputStream(Pictures.png(640, 640)))).prompt("add a hat").build());
        assertThat(one.size().orElseThrow().asString()).isEqualTo("1024x1024");

        BadRequestException two = catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(ImageEditParams.builder()
                .imageOfInputStreams(List.of(new ByteArrayInputStream(Pictures.png(64, 64)), new ByteArrayInputStream(Pictures.png(64, 64))))
                .prompt("merge them").build()));
        assertThat(two.code()).contains("invalid_image");
        assertThat(two.getMessage()).contains("one picture per request");
    }

    @Test
    void theFacadesOtherRulesHoldForEdits() {
        assertThat(catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(ImageEditParams.builder()
                .image(Pictures.png(64, 64)).prompt("x").n(2).build())).getMessage()).contains("n must be 1");
        assertThat(catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(ImageEditParams.builder()
                .image(Pictures.png(64, 64)).prompt("x").model("dall-e-2").build())).getMessage()).contains("qwen-image-edit");
        assertThat(catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(ImageEditParams.builder()
                .image(Pictures.png(64, 64)).prompt(" ").build())).code()).contains("invalid_prompt");
        assertThat(catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(ImageEditParams.builder()
                .image("not a picture".getBytes(StandardCharsets.UTF_8)).prompt("x").build())).code()).contains("invalid_image");
    }

    @Test
    void aFileOverTheEditsImageLimitIs400ImageTooLargeAndABodyOverItsLimitIs413() {
        BadRequestException tooLarge = catchThrowableOfType(BadRequestException.class, () -> openai.images().edit(
                ImageEditParams.builder().image(noise(150_000)).prompt("x").build()));
        assertThat(tooLarge.code()).contains("image_too_large");
        assertThat(tooLarge.param()).contains("image");

        Api.Response huge = form(List.of(new Part("prompt", null, "x".getBytes(StandardCharsets.UTF_8)),
                new Part("image", "big.png", noise(400_000))));
        assertThat(huge.status()).isEqualTo(413);
        assertThat(huge.json().at("/error/code").asText()).isEqualTo("payload_too_large");
    }

    @Test
    void theEditsLimitIsThisRoutesOnlyAndGenerationsKeep64KiB() {
        String prompt = "a".repeat(100_000);
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/generations"))
                .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"" + prompt + "\"}")));

        assertThat(r.status()).isEqualTo(413);
    }

    @Test
    void theFormPartImageArrayNameAsOpenAisSdksSendAListIsTakenByHandToo() {
        Api.Response r = form(List.of(new Part("prompt", null, "add a hat".getBytes(StandardCharsets.UTF_8)),
                new Part("image[]", "a.png", Pictures.png(300, 300)), new Part("response_format", null, "url".getBytes(StandardCharsets.UTF_8))));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().at("/data/0/url").asText()).startsWith("http");
    }

    @Test
    void jsonIsNotThisEndpointsMediaType() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/edits"))
                .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"x\", \"image\": \"https://example.com/a.png\"}")));

        assertThat(r.status()).isEqualTo(415);
        assertThat(r.json().at("/error/message").asText()).contains("multipart/form-data").contains("/v3/async/qwen-image-edit");
        assertThat(r.json().at("/reason").asText()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
    }

    @Test
    void withoutAKeyTheFormIsNotRead() {
        Api.Response r = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/edits"))
                .header("Authorization", "Bearer not-a-key").header("Content-Type", "multipart/form-data; boundary=xyz")
                .POST(HttpRequest.BodyPublishers.ofString("--xyz--\r\n")));

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.json().at("/error/code").asText()).isEqualTo("invalid_api_key");
    }

    @Test
    void aBrokenFormOrAFieldSentTwiceIs400InvalidMultipart() {
        Api.Response broken = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/edits"))
                .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "multipart/form-data; boundary=xyz")
                .POST(HttpRequest.BodyPublishers.ofString("--xyz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx")));
        assertThat(broken.status()).isEqualTo(400);
        assertThat(broken.json().at("/error/code").asText()).isEqualTo("invalid_multipart");

        Api.Response twice = form(List.of(new Part("prompt", null, "a".getBytes(StandardCharsets.UTF_8)),
                new Part("prompt", null, "b".getBytes(StandardCharsets.UTF_8)), new Part("image", "a.png", Pictures.png(64, 64))));
        assertThat(twice.status()).isEqualTo(400);
        assertThat(twice.json().at("/error/message").asText()).contains("\"prompt\" twice");
    }

    @Test
    void theEditModelIsListed() {
        assertThat(openai.models().list().data()).extracting(m -> m.id()).contains("qwen-image", "qwen-image-edit");
    }

    // ---- a form by hand -----------------------------------------------------------------------

    private record Part(String name, String fileName, byte[] content) {
    }

    private static Api.Response form(List<Part> parts) {
        String boundary = "----qwen-image-test-boundary";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Part p : parts) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name() + "\""
                    + (p.fileName() == null ? "" : "; filename=\"" + p.fileName() + "\"\r\nContent-Type: image/png")
                    + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.writeBytes(p.content());
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v1/images/edits"))
                .header("Authorization", "Bearer " + TestServer.KEY)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    private static byte[] noise(int bytes) {
        byte[] b = new byte[bytes];
        new Random(7).nextBytes(b);
        return b;
    }
}
