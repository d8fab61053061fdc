package dev.qwenimage.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.TestServer;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhooks from the durable outbox: Novita's body, Standard Webhooks signatures, retries with a stable id, never blocking. */
class WebhookDeliveryTest {
    @TempDir
    Path dataDir;
    private final ObjectMapper json = new ObjectMapper();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    /** Paths of requests as they arrive, before the receiver answers (or does not). */
    private final List<String> arrivals = new CopyOnWriteArrayList<>();
    private final Queue<Integer> answers = new ConcurrentLinkedQueue<>();
    private Javalin receiver;
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    record Received(String path, Map<String, String> headers, byte[] body) {
    }

    @BeforeEach
    void startReceiver() {
        receiver = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.jetty.host = "127.0.0.1";
            cfg.jetty.port = 0;
            cfg.routes.post("/hooks/{name}", ctx -> {
                arrivals.add(ctx.path());
                if (ctx.pathParam("name").equals("dead")) {
                    release.await(); // never answers while the test runs (the sender gives up after 10 s)
                }
                received.add(new Received(ctx.path(), Map.of(
                        "webhook-id", String.valueOf(ctx.header("webhook-id")),
                        "webhook-timestamp", String.valueOf(ctx.header("webhook-timestamp")),
                        "webhook-signature", String.valueOf(ctx.header("webhook-signature"))), ctx.bodyAsBytes()));
                Integer status = answers.poll();
                ctx.status(status == null ? 204 : status);
            });
        }).start();
    }

    @AfterEach
    void stopReceiver() {
        release.countDown();
        receiver.stop();
    }

    private String hook(String name) {
        return "http://127.0.0.1:" + receiver.port() + "/hooks/" + name;
    }

    private TestServer server(MutableClock clock) {
        return TestServer.start(dataDir, Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", "127.0.0.1/32"), clock);
    }

    private static String secret(Api api) {
        return api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v3/webhook-secret"))
                .header("Authorization", "Bearer " + TestServer.KEY).GET()).json().get("secret").asText();
    }

    private List<Received> awaitReceived(String path, int count) {
        until(Duration.ofSeconds(20), () -> received(path).size() >= count,
                () -> "expected " + count + " webhook(s) at " + path + ", got " + received);
        return received(path);
    }

    private List<Received> received(String path) {
        return received.stream().filter(r -> r.path().endsWith(path)).toList();
    }

    /** Polls {@code done} every 50 ms; fails with {@code failure}'s message when it is still false after {@code within}. */
    private static void until(Duration within, java.util.function.BooleanSupplier done, java.util.function.Supplier<String> failure) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(failure.get());
            }
            Api.sleep(50);
        }
    }

    @Test
    void aFinishedTaskIsPostedWithTheTaskResultBodyAndAVerifiableSignature() throws Exception {
        try (TestServer server = server(MutableClock.startingNow())) {
            Api api = server.api();
            String id = api.submitOk("{\"prompt\": \"hooked\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + hook("ok") + "\"}}}");
            Received r = awaitReceived("/ok", 1).getFirst();

            JsonNode event = json.readTree(r.body());
            assertThat(event.get("event_type").asText()).isEqualTo("ASYNC_TASK_RESULT");
            assertThat(event.at("/payload/task/task_id").asText()).isEqualTo(id);
            assertThat(event.at("/payload/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(Api.fetch(event.at("/payload/images/0/image_url").asText()).statusCode()).isEqualTo(200);

            // Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)) with the key from whsec_<base64>
            assertThat(r.headers().get("webhook-id")).isEqualTo("msg_" + id);
            String key = secret(api);
            assertThat(key).startsWith("whsec_");
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(key.substring(6)), "HmacSHA256"));
            byte[] expected = mac.doFinal((r.headers().get("webhook-id") + "." + r.headers().get("webhook-timestamp") + "."
                    + new String(r.body(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
            assertThat(r.headers().get("webhook-signature")).isEqualTo("v1," + Base64.getEncoder().encodeToString(expected));
            // another key's receiver cannot verify it
            assertThat(api.withKey(TestServer.OTHER_KEY).send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v3/webhook-secret"))
                    .header("Authorization", "Bearer " + TestServer.OTHER_KEY).GET()).json().get("secret").asText()).isNotEqualTo(key);
        }
    }

    @Test
    void aFailedDeliveryIsRetriedWithBackoffAndTheSameId() {
        MutableClock clock = MutableClock.startingNow();
        answers.add(500);
        answers.add(503);
        try (TestServer server = server(clock)) {
            Api api = server.api();
            String id = api.submitOk("{\"prompt\": \"retry\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + hook("flaky") + "\"}}}");
            awaitReceived("/flaky", 1);
            Api.sleep(1500);
            assertThat(awaitReceived("/flaky", 1)).as("no retry before the back-off").hasSize(1);
            clock.advance(WebhookSender.retryDelay(1).plusSeconds(1));
            awaitReceived("/flaky", 2);
            Api.sleep(1500); // the sender records the failure (and its next try) after the answer arrives
            clock.advance(WebhookSender.retryDelay(2).plusSeconds(1));
            List<Received> all = awaitReceived("/flaky", 3);
            assertThat(all).extracting(r -> r.headers().get("webhook-id")).containsOnly("msg_" + id);
            Api.sleep(1500);
            assertThat(received.stream().filter(r -> r.path().endsWith("/flaky"))).as("delivered after the third try").hasSize(3);
        }
    }

    @Test
    void aDeadReceiverNeitherFailsTheTaskNorHoldsUpOtherWebhooks() {
        try (TestServer server = server(MutableClock.startingNow())) {
            Api api = server.api();
            String slow = api.submitOk("{\"prompt\": \"dead\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + hook("dead") + "\"}}}");
            assertThat(api.awaitFinished(slow, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            String fast = api.submitOk("{\"prompt\": \"alive\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + hook("alive") + "\"}}}");
            long t0 = System.nanoTime();
            awaitReceived("/alive", 1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
            assertThat(fast).isNotEqualTo(slow);
        }
    }

    @Test
    void aReceiverThatNeverAnswersIsAbandonedAfterTenSecondsAndTriedAgainLater() {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = server(clock)) {
            server.api().submitOk("{\"prompt\": \"hung\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + hook("dead") + "\"}}}");
            awaitArrivals("/dead", 1, Duration.ofSeconds(30));
            // the try is given up after the 10 s timeout and its retry booked 30 s on (on the test's clock)
            Api.sleep(WebhookSender.TIMEOUT.toMillis() + 1500);
            clock.advance(WebhookSender.retryDelay(1).plusSeconds(1));
            awaitArrivals("/dead", 2, Duration.ofSeconds(10));
            assertThat(metric(server.api(), "qwen_image_webhooks_total{outcome=\"failed\"")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aTargetThatResolvesInwardAtDeliveryIsRefusedButAnUnresolvableOneIsRetried() throws Exception {
        MutableClock clock = MutableClock.startingNow();
        // no allow-list: this machine's own name passes the submit check (a name, not an address) but resolves inward
        String own = java.net.InetAddress.getLocalHost().getHostName();
        try (TestServer server = TestServer.start(dataDir, Map.of(), clock)) {
            Api api = server.api();
            api.submitOk("{\"prompt\": \"inward\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"http://" + own + ":"
                    + receiver.port() + "/hooks/inward\"}}}");
            api.submitOk("{\"prompt\": \"no dns\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": "
                    + "\"https://hooks.example.invalid/x\"}}}");
            awaitMetric(api, "qwen_image_webhooks_total{outcome=\"refused\"", 1);
            awaitMetric(api, "qwen_image_webhooks_total{outcome=\"failed\"", 1);
            // the unresolvable one comes back after its back-off; the refused one never does
            clock.advance(WebhookSender.retryDelay(1).plusSeconds(1));
            awaitMetric(api, "qwen_image_webhooks_total{outcome=\"failed\"", 2);
            assertThat(metric(api, "qwen_image_webhooks_total{outcome=\"refused\"")).isEqualTo(1);
            assertThat(arrivals).noneMatch(p -> p.endsWith("/inward"));
        }
    }

    @Test
    void aUrlThatCannotBeCalledIsGivenUpAtOnceInsteadOfBeingRetriedForever() {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = server(clock)) {
            Api api = server.api();
            // stored before the submit check refused such URLs: a port out of range
            String id = dev.qwenimage.task.TaskIds.next(clock);
            server.server().store().insert(new dev.qwenimage.task.NewTask(id, dev.qwenimage.auth.ApiKeys.ownerOf(TestServer.KEY),
                    new dev.qwenimage.task.TaskSpec("stored", "", 256, 256, false, 1, java.util.OptionalInt.empty(),
                            dev.qwenimage.image.ImageType.JPEG, java.util.Optional.of("http://127.0.0.1:99999/hooks/bad")),
                    3, clock.instant()));
            assertThat(api.awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            awaitMetric(api, "qwen_image_webhooks_total{outcome=\"refused\"", 1);
            for (int i = 0; i < 3; i++) {
                clock.advance(Duration.ofHours(2));
                Api.sleep(1200);
            }
            assertThat(metric(api, "qwen_image_webhooks_total{outcome=\"refused\"")).isEqualTo(1);
            assertThat(metric(api, "qwen_image_webhooks_total{outcome=\"failed\"")).isZero();
        }
    }

    @Test
    void aReceiverThatNeverAcceptsIsGivenUpAfterTheConfiguredTries() throws Exception {
        MutableClock clock = MutableClock.startingNow();
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", "127.0.0.1/32",
                "QWEN_IMAGE_WEBHOOK_ATTEMPTS", "5"), clock)) {
            Api api = server.api();
            api.submitOk("{\"prompt\": \"nobody home\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": "
                    + "\"http://127.0.0.1:" + closed + "/hook\"}}}");
            for (int tries = 1; tries <= 4; tries++) {
                awaitMetric(api, "qwen_image_webhooks_total{outcome=\"failed\"", tries);
                clock.advance(Duration.ofHours(2));
            }
            awaitMetric(api, "qwen_image_webhooks_total{outcome=\"given_up\"", 1);
            clock.advance(Duration.ofHours(2));
            Api.sleep(1500);
            assertThat(metric(api, "qwen_image_webhooks_total{outcome=\"failed\"")).isEqualTo(4);
            assertThat(metric(api, "qwen_image_webhooks_total{outcome=\"given_up\"")).isEqualTo(1);
        }
    }

    private void awaitArrivals(String path, int count, Duration within) {
        until(within, () -> arrivals.stream().filter(p -> p.endsWith(path)).count() >= count,
                () -> "expected " + count + " request(s) at " + path + ", got " + arrivals);
    }

    /** The value of the first /metrics sample whose line starts with {@code prefix}, 0 when absent. */
    private static double metric(Api api, String prefix) {
        String text = new String(Api.fetch(api.baseUrl() + "/metrics").body(), StandardCharsets.UTF_8);
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(0.0);
    }

    private static void awaitMetric(Api api, String prefix, double atLeast) {
        until(Duration.ofSeconds(30), () -> metric(api, prefix) >= atLeast,
                () -> "expected " + prefix + " >= " + atLeast + ", /metrics has " + metric(api, prefix));
    }

    @Test
    void retriesSpanAtLeastTenMinutesOverAtLeastFiveTries() {
        Duration total = Duration.ZERO;
        for (int attempt = 1; attempt < 5; attempt++) {
            total = total.plus(WebhookSender.retryDelay(attempt));
        }
        assertThat(total).isGreaterThanOrEqualTo(Duration.ofMinutes(10));
        assertThat(WebhookSender.retryDelay(20)).isEqualTo(Duration.ofHours(1));
    }
}
