package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.images.ImageGenerateParams;
import com.openai.models.images.ImagesResponse;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POST /v1/images/generations, driven by the official OpenAI Java SDK. */
class OpenAiCompatibleTest {
    @TempDir
    static Path dataDir;
    static TestServer server;
    static OpenAIClient openai;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, Map.of());
        openai = OpenAIOkHttpClient.builder().baseUrl(server.api().baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
    }

    private static BufferedImage decode(byte[] bytes) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(bytes));
    }

    @Test
    void aGenerationAnswersWithAUrlToAnImageOfTheRequestedSize() throws Exception {
        ImagesResponse r = openai.images().generate(ImageGenerateParams.builder()
                .model("qwen-image").prompt("a lighthouse in a storm").size(ImageGenerateParams.Size._1024X1024).n(1).build());
        assertThat(r.data()).isPresent();
        String url = r.data().get().getFirst().url().orElseThrow();
        BufferedImage img = decode(Api.fetch(url).body());
        assertThat(img.getWidth()).isEqualTo(1024);
        assertThat(img.getHeight()).isEqualTo(1024);
        assertThat(r.created()).isPositive();
    }

    @Test
    void b64JsonAndCustomSizesWork() throws Exception {
        ImagesResponse r = openai.images().generate(ImageGenerateParams.builder()
                .model("qwen-image").prompt("a teapot").size(ImageGenerateParams.Size.of("640x384"))
                .responseFormat(ImageGenerateParams.ResponseFormat.B64_JSON).build());
        BufferedImage img = decode(Base64.getDecoder().decode(r.data().get().getFirst().b64Json().orElseThrow()));
        assertThat(img.getWidth()).isEqualTo(640);
        assertThat(img.getHeight()).isEqualTo(384);
    }

    @Test
    void errorsReachTheSdkAsOpenAiErrors() {
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder()
                .model("qwen-image").prompt("too big").size(ImageGenerateParams.Size._1792X1024).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("256..1536");
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder()
                .model("dall-e-3").prompt("x").build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("qwen-image");
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder()
                .model("qwen-image").prompt("x").n(2).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("n must be 1");
        OpenAIClient stranger = OpenAIOkHttpClient.builder().baseUrl(server.api().baseUrl() + "/v1")
                .apiKey("not-a-key").maxRetries(0).build();
        try {
            assertThatThrownBy(() -> stranger.images().generate(ImageGenerateParams.builder().model("qwen-image").prompt("x").build()))
                    .isInstanceOf(UnauthorizedException.class);
        } finally {
            stranger.close();
        }
    }

    @Test
    void theModelIsListed() {
        assertThat(openai.models().list().data()).extracting(m -> m.id()).contains("qwen-image");
    }
}
