package dev.qwenimage.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service on an S3 bucket (S3Proxy on loopback): a client submits and polls over HTTP,
 * the image lands in the bucket, the task result links to it with a presigned URL that the bucket
 * serves to a plain GET, and retention removes it from the bucket.
 */
class S3ImagesEndToEndTest {
    private static LocalS3 s3;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startS3() {
        s3 = LocalS3.start();
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    private TestServer start(Map<String, String> settings, MutableClock clock) {
        Map<String, String> values = new HashMap<>(s3.env("images/"));
        values.putAll(settings);
        return TestServer.start(dataDir, values, clock);
    }

    /** The same self-healing as on local disk: a bucket that refuses writes takes the node out until it takes them again. */
    @Test
    void aBucketThatStopsTakingWritesTakesTheNodeOutUntilItTakesThemAgain() throws Exception {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = start(Map.of(), clock)) {
            Api api = server.api();
            api.awaitStatus(api.submitOk("{\"prompt\": \"before\", \"size\": \"256*256\"}"), "TASK_STATUS_SUCCEED"::equals,
                    Duration.ofSeconds(30));
            java.util.List<Path> folders;
            try (var walk = java.nio.file.Files.walk(s3.directory().resolve(s3.bucket()))) {
                folders = walk.filter(java.nio.file.Files::isDirectory).toList();
            }
            folders.forEach(f -> dev.qwenimage.support.SmallDisk.immutable(f, true));
            String id;
            try {
                id = api.submitOk("{\"prompt\": \"during\", \"size\": \"256*256\"}");
                Api.Response notReady = api.awaitGet("/readyz", 503, Duration.ofSeconds(20));
                assertThat(notReady.json().at("/checks/image_writes").asText()).startsWith("failing").contains("S3");
            } finally {
                folders.forEach(f -> dev.qwenimage.support.SmallDisk.immutable(f, false));
            }
            api.awaitGet("/readyz", 200, Duration.ofSeconds(20));
            clock.advance(Duration.ofMinutes(1)); // past the back-off of the attempt that could not store its image
            api.awaitStatus(id, "TASK_STATUS_SUCCEED"::equals, Duration.ofSeconds(30));
        }
    }


    @Test
    void finishedImageIsInTheBucketAndItsLinkIsAPresignedUrlAPlainGetDownloads() throws Exception {
        try (TestServer server = start(Map.of(), MutableClock.startingNow())) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"a lighthouse in a storm\", \"size\": \"640*384\"}");

            JsonNode result = api.awaitFinished(taskId, Duration.ofSeconds(60));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            String url = result.at("/images/0/image_url").asText();
            assertThat(url).startsWith(s3.endpoint() + "/" + s3.bucket() + "/images/" + taskId + ".jpeg?")
                    .contains("X-Amz-Algorithm=AWS4-HMAC-SHA256").contains("X-Amz-Expires=3600").contains("X-Amz-Signature=");
            assertThat(result.at("/images/0/image_url_ttl").asText()).isEqualTo("3600");

            HttpResponse<byte[]> image = Api.fetch(url);
            assertThat(image.statusCode()).isEqualTo(200);
            assertThat(image.headers().firstValue("Content-Type")).hasValue("image/jpeg");
            BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image.body()));
            assertThat(decoded.getWidth()).isEqualTo(640);
            assertThat(decoded.getHeight()).isEqualTo(384);
            assertThat(s3.get("images/" + taskId + ".jpeg")).hasValueSatisfying(b -> assertThat(b).isEqualTo(image.body()));

            // nothing is kept or served locally
            assertThat(dataDir.resolve("images")).doesNotExist();
            String localPath = "/files/" + taskId + ".jpeg?expires=0&signature=x";
            Api.Response files = api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + localPath)).GET());
            assertThat(files.status()).isEqualTo(404);
            assertThat(files.reason()).isEqualTo("NOT_FOUND");
        }
    }

    @Test
    void retentionRemovesTheImageFromTheBucket() {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = start(Map.of("QWEN_IMAGE_RETENTION", "1m"), clock)) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"soon gone\", \"size\": \"256*256\"}");
            api.awaitFinished(taskId, Duration.ofSeconds(60));
            String key = "images/" + taskId + ".jpeg";
            assertThat(s3.exists(key)).isTrue();

            clock.advance(Duration.ofMinutes(2));

            // the janitor runs every retention / 10 (6 s here)
            Instant deadline = Instant.now().plusSeconds(30);
            while (s3.exists(key) && Instant.now().isBefore(deadline)) {
                Api.sleep(100);
            }
            assertThat(s3.exists(key)).as("image removed from the bucket after retention").isFalse();
            assertThat(api.result(taskId).status()).isEqualTo(404);
        }
    }

    @Test
    void unlimitedTtlIsReportedAsTheSevenDaysAPresignedLinkLasts() {
        try (TestServer server = start(Map.of("QWEN_IMAGE_URL_TTL", "0"), MutableClock.startingNow())) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"a week\", \"size\": \"256*256\"}");
            JsonNode result = api.awaitFinished(taskId, Duration.ofSeconds(60));
            assertThat(result.at("/images/0/image_url_ttl").asText()).isEqualTo("604800");
            assertThat(result.at("/images/0/image_url").asText()).contains("X-Amz-Expires=604800");
            assertThat(Api.fetch(result.at("/images/0/image_url").asText()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aServerInAnotherProcessUsesTheSameBucket() {
        Map<String, String> env = new HashMap<>(s3.env("images/"));
        env.put("QWEN_IMAGE_API_KEYS", TestServer.KEY);
        try (ServerProcess process = ServerProcess.start(dataDir, env)) {
            Api api = new Api(process.awaitReady(), TestServer.KEY);
            assertThat(process.output()).anyMatch(line -> line.contains("images") && line.contains("S3 bucket " + s3.bucket())
                    && line.contains(s3.endpoint().toString()));
            assertThat(String.join("\n", process.output())).doesNotContain(s3.secretKey());

            String taskId = api.submitOk("{\"prompt\": \"from another process\", \"size\": \"320*256\"}");
            String url = api.awaitFinished(taskId, Duration.ofSeconds(60)).at("/images/0/image_url").asText();
            assertThat(Api.fetch(url).body()).isEqualTo(s3.get("images/" + taskId + ".jpeg").orElseThrow());
        }
    }

    @Test
    void serviceDoesNotStartOnAMissingBucket() throws Exception {
        assertThatThrownBy(() -> start(Map.of("QWEN_IMAGE_S3_BUCKET", "not-created"), MutableClock.startingNow()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'not-created' does not exist");
        // and it let go of its data directory: a corrected start works
        try (TestServer server = start(Map.of(), MutableClock.startingNow())) {
            assertThat(server.api().submit("{\"prompt\": \"after the fix\", \"size\": \"256*256\"}").status()).isEqualTo(200);
        }
    }
}
