package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java client against the real service over HTTP, from submit to image bytes. */
class QwenImageClientTest {
    @TempDir
    Path dataDir;

    private static QwenImageClient.Builder clientOf(TestServer server) {
        return QwenImageClient.builder().baseUrl(server.api().baseUrl()).apiKey(TestServer.KEY)
                .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200));
    }

    @Test
    void generateReturnsAnImageOfTheRequestedSize() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            GeneratedImage generated = client.generate(GenerateRequest.builder("a lighthouse at dusk").size(320, 256).build(),
                    Duration.ofSeconds(30), null);

            assertThat(generated.result().status()).isEqualTo(TaskStatus.SUCCEED);
            assertThat(generated.result().progressPercent()).isEqualTo(100);
            assertThat(generated.image().type()).isEqualTo("jpeg");
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(generated.bytes()));
            assertThat(image.getWidth()).isEqualTo(320);
            assertThat(image.getHeight()).isEqualTo(256);
        }
    }

    @Test
    void progressUpdatesArriveWithRisingPercentAndEndAtTheResult() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "100ms"));
             QwenImageClient client = clientOf(server).build()) {
            List<TaskResult> updates = new CopyOnWriteArrayList<>();

            GeneratedImage generated = client.generate(GenerateRequest.of("a slow fox"), Duration.ofSeconds(30), updates::add);

            List<Integer> percents = updates.stream().map(TaskResult::progressPercent).toList();
            assertThat(percents).isSorted();
            assertThat(percents).filteredOn(p -> p > 0 && p < 100).hasSizeGreaterThanOrEqualTo(3);
            assertThat(updates.get(updates.size() - 1)).isEqualTo(generated.result());
            assertThat(updates).filteredOn(r -> r.status() == TaskStatus.PROCESSING)
                    .allSatisfy(r -> assertThat(r.eta()).isPositive());
            assertThat(updates).doesNotHaveDuplicates();
        }
    }

    @Test
    void awaitGivesUpAtItsTimeoutWithTheLastStateSeen() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "500ms"));
             QwenImageClient client = clientOf(server).build()) {
            String id = client.submit(GenerateRequest.of("a very slow fox"));
            long start = System.nanoTime();

            QwenImageException e = catchThrowableOfType(QwenImageException.class,
                    () -> client.await(id, Duration.ofMillis(700), null));

            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(e.reason()).isEqualTo(QwenImageException.TIMEOUT);
            assertThat(e.status()).isZero();
            assertThat(e.taskResult()).hasValueSatisfying(r -> {
                assertThat(r.taskId()).isEqualTo(id);
                assertThat(r.isFinished()).isFalse();
            });
            assertThat(waited).isBetween(Duration.ofMillis(700), Duration.ofSeconds(3));
        }
    }

    @Test
    void aSizeTheServerRefusesIsATypedClientError() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class,
                    () -> client.submit(GenerateRequest.builder("a cat").size(4096, 4096).build()));

            assertThat(e.status()).isEqualTo(400);
            assertThat(e.reason()).isEqualTo("INVALID_SIZE");
            assertThat(e.getMessage()).contains("256..1536");
            assertThat(e.isClientError()).isTrue();
            assertThat(e.retryAfter()).isEmpty();
        }
    }

    @Test
    void anUnknownKeyIsATypedClientError() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).apiKey("not-a-key-of-this-server").build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.status()).isEqualTo(401);
            assertThat(e.reason()).isEqualTo("INVALID_API_KEY");
            assertThat(e.isClientError()).isTrue();
        }
    }

    @Test
    void anotherKeysTaskIsNotFound() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient alice = clientOf(server).build();
             QwenImageClient bob = clientOf(server).apiKey(TestServer.OTHER_KEY).build()) {
            String id = alice.submit(GenerateRequest.of("alice's cat"));

            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> bob.get(id));

            assertThat(e.status()).isEqualTo(404);
            assertThat(e.reason()).isEqualTo("TASK_NOT_FOUND");
        }
    }

    @Test
    void aDownloadedImageIsWrittenToTheTargetFile() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            String id = client.submit(GenerateRequest.builder("a kite").size(256, 384).build());
            TaskResult done = client.await(id, Duration.ofSeconds(30), null);
            Path target = dataDir.resolve("kite.jpeg");

            client.download(done, target);

            BufferedImage image = ImageIO.read(target.toFile());
            assertThat(image.getWidth()).isEqualTo(256);
            assertThat(image.getHeight()).isEqualTo(384);
            try (var files = Files.list(dataDir)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
            }
        }
    }

    /** A server whose only engine never comes up, so every task stays queued (as in QueueLimitsTest). */
    private QwenImageServer stalledServer(Map<String, String> caps) {
        ScriptedEngine stalled = new ScriptedEngine("stalled").probeAnswers(() -> new EngineHealth.Down("loading"));
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(),
                "QWEN_IMAGE_API_KEYS", TestServer.KEY + "," + TestServer.OTHER_KEY));
        values.putAll(caps);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), stalled);
    }

    @Test
    void submitWaitsOutRetryAfterOn429AThenBoundedNumberOfTimes() {
        try (QwenImageServer server = stalledServer(Map.of("QWEN_IMAGE_MAX_QUEUED_PER_KEY", "1"));
             QwenImageClient client = QwenImageClient.builder().baseUrl(server.localUrl()).apiKey(TestServer.KEY)
                     .maxSubmitRetries(1).build()) {
            // small images: the Retry-After the server computes is about one such image's run
            client.submit(GenerateRequest.builder("the one queued task").size(256, 256).build());
            long asked = Long.parseLong(new Api(server.localUrl(), TestServer.KEY).submit("{\"prompt\": \"probe\", \"size\": \"256*256\"}")
                    .raw().headers().firstValue("Retry-After").orElseThrow());
            long start = System.nanoTime();

            QwenImageException e = catchThrowableOfType(QwenImageException.class,
                    () -> client.submit(GenerateRequest.builder("one too many").size(256, 256).build()));

            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.reason()).isEqualTo("RATE_LIMITED");
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(asked));
            // one retry: the first refusal's wait was slept through, the second's was not
            assertThat(waited).isGreaterThanOrEqualTo(Duration.ofSeconds(asked)).isLessThan(Duration.ofSeconds(2 * asked + 5));
        }
    }
}
