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
                    .anySatisfy(r -> assertThat(r.eta()).isPositive());
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

    @Test
    void anOverloadedSubmitSucceedsOnceTheServerHasRoomAgain() throws Exception {
        try (QwenImageServer server = stalledServer(Map.of("QWEN_IMAGE_MAX_QUEUED_PER_KEY", "1"));
             QwenImageClient client = QwenImageClient.builder().baseUrl(server.localUrl()).apiKey(TestServer.KEY)
                     .maxSubmitRetries(2).build()) {
            String first = client.submit(GenerateRequest.builder("the one queued task").size(256, 256).build());
            Thread canceller = Thread.ofVirtual().start(() -> {
                Api.sleep(300);
                client.cancel(first);
            });
            long start = System.nanoTime();

            String second = client.submit(GenerateRequest.builder("waits its turn").size(256, 256).build());

            canceller.join();
            assertThat(second).isNotEqualTo(first);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(client.get(second).status()).isEqualTo(TaskStatus.QUEUED);
        }
    }

    @Test
    void cancelStopsARunningTaskAndAQueuedOneBothEndFailedCancelled() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_WORKERS", "1", "QWEN_IMAGE_PREVIEW_STEP_DELAY", "150ms"));
             QwenImageClient client = clientOf(server).build()) {
            String running = client.submit(GenerateRequest.builder("long job").size(256, 256).build());
            String queued = client.submit(GenerateRequest.builder("waiting job").size(256, 256).build());
            server.api().awaitStatus(running, s -> s.equals("TASK_STATUS_PROCESSING"), Duration.ofSeconds(10));

            assertThat(client.cancel(queued)).isEqualTo(TaskStatus.FAILED);
            assertThat(client.cancel(running)).isEqualTo(TaskStatus.PROCESSING);

            TaskResult stopped = client.await(running, Duration.ofSeconds(10), null);
            assertThat(stopped.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(stopped.reason()).isEqualTo("cancelled");
            assertThat(stopped.images()).isEmpty();
            assertThat(client.get(queued).reason()).isEqualTo("cancelled");
            QwenImageException noImage = catchThrowableOfType(QwenImageException.class, () -> client.download(stopped));
            assertThat(noImage.reason()).isEqualTo(QwenImageException.TASK_FAILED);
            assertThat(noImage.getMessage()).isEqualTo("cancelled");
        }
    }

    @Test
    void cancellingAFinishedTaskIsATypedConflict() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            GeneratedImage done = client.generate(GenerateRequest.builder("quick").size(256, 256).build(), Duration.ofSeconds(30), null);

            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.cancel(done.taskId()));

            assertThat(e.status()).isEqualTo(409);
            assertThat(e.reason()).isEqualTo("TASK_ALREADY_FINISHED");
        }
    }

    @Test
    void anIdempotencyKeyReachesTheServer() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            GenerateRequest order = GenerateRequest.builder("order 17").size(256, 256).idempotencyKey("order-17").build();

            String first = client.submit(order);
            String again = client.submit(order);
            QwenImageException reused = catchThrowableOfType(QwenImageException.class,
                    () -> client.submit(order.toBuilder().prompt("another picture").build()));

            assertThat(again).isEqualTo(first);
            assertThat(client.submit(order.toBuilder().idempotencyKey(null).build())).isNotEqualTo(first);
            assertThat(reused.status()).isEqualTo(422);
            assertThat(reused.reason()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
        }
    }

    @Test
    void seedNegativePromptAndImageTypeAreHonoured() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            GenerateRequest request = GenerateRequest.builder("a seeded fox").size(320, 256).seed(424242)
                    .negativePrompt("blurry").responseImageType(ImageType.PNG).build();

            GeneratedImage first = client.generate(request, Duration.ofSeconds(30), null);
            GeneratedImage again = client.generate(request, Duration.ofSeconds(30), null);

            assertThat(first.result().seed()).hasValue(424242);
            assertThat(first.image().imageType()).contains(ImageType.PNG);
            assertThat(java.util.Arrays.copyOf(first.bytes(), 4)).containsExactly(0x89, 'P', 'N', 'G');
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(first.bytes()));
            assertThat(image.getWidth()).isEqualTo(320);
            assertThat(pixels(ImageIO.read(new ByteArrayInputStream(again.bytes())))).isEqualTo(pixels(image));
        }
    }

    @Test
    void aSeedIsReportedEvenWhenTheServerDrewIt() {
        try (TestServer server = TestServer.start(dataDir, Map.of());
             QwenImageClient client = clientOf(server).build()) {
            GeneratedImage image = client.generate(GenerateRequest.builder("random").size(256, 256).build(), Duration.ofSeconds(30), null);

            assertThat(image.result().seed()).isPresent();
            assertThat(image.result().seed().getAsLong()).isNotNegative();
        }
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
