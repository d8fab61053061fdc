package dev.qwenimage.engine.ppio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.ppio.FakePpioCloud.Plan;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client of the public API gets images made in the (fake) PPIO cloud, configured by one engine entry. */
class PpioEndToEndTest {
    private static final String WRONG_KEY = "sk_revoked_key_9876543210_secret";

    @TempDir
    Path dataDir;

    private final FakePpioCloud cloud = new FakePpioCloud();

    @AfterEach
    void stopCloud() {
        cloud.close();
    }

    private QwenImageServer start(String engines) {
        Map<String, String> values = new HashMap<>(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_ENGINES", engines));
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC());
    }

    private String entry() {
        return "ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY + "&poll=20ms";
    }

    @Test
    void aClientGetsTheCloudsImageAtExactlyTheSizeItAskedFor() throws IOException {
        cloud.plan(Plan.succeedAfter(10, 60));
        try (QwenImageServer server = start(entry())) {
            Api api = new Api(server.localUrl(), TestServer.KEY);

            String id = api.submitOk("{\"prompt\": \"a paper boat on a puddle\", \"size\": \"1000*700\", \"watermark\": false}");
            JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(result.at("/task/progress_percent").asInt()).isEqualTo(100);
            HttpResponse<byte[]> file = Api.fetch(result.at("/images/0/image_url").asText());
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Type")).hasValue("image/jpeg");
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(file.body()));
            assertThat(image.getWidth()).isEqualTo(1000);
            assertThat(image.getHeight()).isEqualTo(700);
            // the cloud was asked for the nearest multiples of 16; the service resized to the exact size
            assertThat(cloud.submits()).singleElement().satisfies(s -> {
                assertThat(s.json().get("prompt").asText()).isEqualTo("a paper boat on a puddle");
                assertThat(s.json().get("size").asText()).isEqualTo("1008*704");
            });
            assertThat(cloud.imageFetches()).singleElement().satisfies(f -> assertThat(f.authorization()).isNull());
        }
    }

    @Test
    void aTaskTheCloudFailsReachesTheClientAsFailedWithTheCloudsReason() {
        cloud.plan(Plan.failAfter("prompt rejected by the provider's content policy", 20));
        try (QwenImageServer server = start(entry())) {
            Api api = new Api(server.localUrl(), TestServer.KEY);

            String id = api.submitOk("{\"prompt\": \"something the provider refuses\", \"size\": \"512*512\"}");
            JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));

            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText())
                    .contains("the cloud failed the task: prompt rejected by the provider's content policy");
            assertThat(result.get("images")).isEmpty();
            assertThat(cloud.tasksCreated()).isEqualTo(1);
        }
    }

    @Test
    void healthShowsARefusedKeyWithoutTheKey() {
        try (QwenImageServer server = start(entry() + ";ppio:" + cloud.url() + "?key=" + WRONG_KEY + "&name=ppio-revoked")) {
            Api api = new Api(server.localUrl(), TestServer.KEY);

            String health = api.send(HttpRequest.newBuilder(URI.create(server.localUrl() + "/healthz")).GET()).body();

            assertThat(health).contains("the PPIO key was refused", "ppio-revoked", "PPIO/Novita cloud at " + cloud.url())
                    .doesNotContain(FakePpioCloud.KEY).doesNotContain(WRONG_KEY);
            assertThat(server.workers().orElseThrow().lanes()).allSatisfy(lane -> assertThat(lane.guard().engine().describe())
                    .doesNotContain(FakePpioCloud.KEY).doesNotContain(WRONG_KEY));
        }
    }

    @Test
    void neitherTheBannerNorTheLogsShowTheKey() {
        Map<String, String> env = Map.of(
                "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_ENGINES", entry() + ";ppio:" + cloud.url() + "?key=" + WRONG_KEY + "&name=ppio-revoked");
        try (ServerProcess process = ServerProcess.start(dataDir, env)) {
            Api api = new Api(process.awaitReady(), TestServer.KEY);
            String id = api.submitOk("{\"prompt\": \"a lantern\", \"size\": \"512*512\"}");
            assertThat(api.awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");

            String output = String.join("\n", process.output());
            assertThat(output).contains("ppio-1: ppio (Qwen-Image in the PPIO/Novita cloud", "the PPIO key was refused")
                    .doesNotContain(FakePpioCloud.KEY).doesNotContain(WRONG_KEY);
        }
    }
}
