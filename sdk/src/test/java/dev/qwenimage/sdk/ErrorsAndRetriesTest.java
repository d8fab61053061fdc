package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.qwenimage.sdk.RecordingServer.Answer;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failures as the client reports them, from answers a real server gives only in rare moments:
 * overload with and without {@code Retry-After}, gateway pages, silence, stalled bodies.
 */
class ErrorsAndRetriesTest {
    private static final String OK = "{\"task_id\": \"t-1\"}";
    private static final String RATE_LIMITED = "{\"code\": 429, \"reason\": \"RATE_LIMITED\", \"message\": \"slow down\", \"metadata\": {\"retry_after\": 1}}";
    private static final String QUEUE_FULL = "{\"code\": 503, \"reason\": \"QUEUE_FULL\", \"message\": \"the queue is full\", \"metadata\": {}}";

    private RecordingServer server;

    @BeforeEach
    void start() throws Exception {
        server = new RecordingServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private QwenImageClient.Builder client() {
        return QwenImageClient.builder().baseUrl(server.url()).apiKey("k");
    }

    @Test
    void a429WithRetryAfterIsSubmittedAgainAfterTheAskedWait() {
        server.then(Answer.json(429, RATE_LIMITED).withHeader("Retry-After", "1")).then(Answer.json(200, OK));
        try (QwenImageClient client = client().build()) {
            long start = System.nanoTime();

            String id = client.submit(GenerateRequest.builder("a cat").idempotencyKey("k-1").build());

            assertThat(id).isEqualTo("t-1");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(server.requests()).hasSize(2);
            assertThat(server.requests().get(1).body()).isEqualTo(server.requests().get(0).body());
            assertThat(server.requests().get(1).header("Idempotency-Key")).isEqualTo("k-1");
        }
    }

    @Test
    void overloadRetriesAreBoundedAndTheLastRefusalIsThrown() {
        server.otherwise(Answer.json(503, QUEUE_FULL).withHeader("Retry-After", "0"));
        try (QwenImageClient client = client().maxSubmitRetries(2).build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.status()).isEqualTo(503);
            assertThat(e.reason()).isEqualTo("QUEUE_FULL");
            assertThat(e.getMessage()).isEqualTo("the queue is full");
            assertThat(e.retryAfter()).contains(Duration.ZERO);
            assertThat(e.isRetryable()).isTrue();
            assertThat(server.requests()).hasSize(3);
        }
    }

    @Test
    void aClientErrorIsNeverRetried() {
        server.otherwise(Answer.json(400, "{\"code\": 400, \"reason\": \"INVALID_SIZE\", \"message\": \"size must be...\", \"metadata\": {\"field\": \"size\"}}")
                .withHeader("Retry-After", "0"));
        try (QwenImageClient client = client().build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.status()).isEqualTo(400);
            assertThat(e.reason()).isEqualTo("INVALID_SIZE");
            assertThat(e.isClientError()).isTrue();
            assertThat(e.isRetryable()).isFalse();
            assertThat(server.requests()).hasSize(1);
        }
    }

    @Test
    void anOverloadWithoutRetryAfterIsNotRetried() {
        server.otherwise(Answer.json(503, QUEUE_FULL));
        try (QwenImageClient client = client().build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.status()).isEqualTo(503);
            assertThat(e.retryAfter()).isEmpty();
            assertThat(server.requests()).hasSize(1);
        }
    }

    @Test
    void aRetryAfterLongerThanTheClientWaitsForIsThrownAtOnce() {
        server.otherwise(Answer.json(429, RATE_LIMITED).withHeader("Retry-After", "600"));
        try (QwenImageClient client = client().maxRetryWait(Duration.ofSeconds(10)).build()) {
            long start = System.nanoTime();
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.retryAfter()).contains(Duration.ofMinutes(10));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(server.requests()).hasSize(1);
        }
    }

    @Test
    void retryAfterMayBeAnHttpDate() {
        String inTwoSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(2));
        server.otherwise(Answer.json(429, RATE_LIMITED).withHeader("Retry-After", inTwoSeconds));
        try (QwenImageClient client = client().maxSubmitRetries(0).build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.retryAfter()).hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(2)));
        }
    }

    @Test
    void aGatewayPageBecomesATypedErrorThatQuotesIt() {
        server.otherwise(new Answer(502, Map.of("Content-Type", "text/html"), "<html><body>Bad Gateway</body></html>", 0));
        try (QwenImageClient client = client().build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.get("t-1"));

            assertThat(e.status()).isEqualTo(502);
            assertThat(e.reason()).isEqualTo("HTTP_502");
            assertThat(e.getMessage()).contains("502").contains("Bad Gateway");
            assertThat(e.isRetryable()).isTrue();
        }
    }

    @Test
    void aServerThatIsNotThereIsANetworkError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (QwenImageClient client = QwenImageClient.builder().baseUrl("http://127.0.0.1:" + port).apiKey("k").build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.status()).isZero();
            assertThat(e.reason()).isEqualTo(QwenImageException.NETWORK_ERROR);
            assertThat(e.getMessage()).contains("127.0.0.1:" + port);
            assertThat(e.isRetryable()).isTrue();
        }
    }

    @Test
    void anAnswerWhoseBodyStallsEndsAtTheRequestTimeout() {
        server.otherwise(new Answer(200, Map.of("Content-Type", "application/json"), OK, 10_000));
        try (QwenImageClient client = client().requestTimeout(Duration.ofMillis(500)).build()) {
            long start = System.nanoTime();
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(GenerateRequest.of("a cat")));

            assertThat(e.reason()).isEqualTo(QwenImageException.NETWORK_ERROR);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aSuccessWithoutATaskIdIsAnInvalidResponse() {
        server.otherwise(Answer.json(200, "{\"id\": \"t-1\"}"));
        try (QwenImageClient client = client().build()) {
            assertThatThrownBy(() -> client.submit(GenerateRequest.of("a cat")))
                    .isInstanceOfSatisfying(QwenImageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(QwenImageException.INVALID_RESPONSE);
                        assertThat(e.getMessage()).contains("task_id");
                    });
        }
    }

    @Test
    void awaitRidesOutAGatewayErrorWhilePolling() {
        server.then(Answer.json(200, task("TASK_STATUS_PROCESSING", 40)))
                .then(new Answer(502, Map.of(), "", 0))
                .then(Answer.json(200, task("TASK_STATUS_SUCCEED", 100)));
        try (QwenImageClient client = client().pollInterval(Duration.ofMillis(20), Duration.ofMillis(50)).build()) {
            TaskResult r = client.await("t-1", Duration.ofSeconds(10), null);

            assertThat(r.status()).isEqualTo(TaskStatus.SUCCEED);
            assertThat(server.requests()).hasSize(3);
        }
    }

    @Test
    void awaitStopsAtOnceWhenTheTaskIsNotFound() {
        server.then(Answer.json(200, task("TASK_STATUS_PROCESSING", 40)))
                .then(Answer.json(404, "{\"code\": 404, \"reason\": \"TASK_NOT_FOUND\", \"message\": \"no such task\", \"metadata\": {}}"));
        try (QwenImageClient client = client().pollInterval(Duration.ofMillis(20), Duration.ofMillis(50)).build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.await("t-1", Duration.ofSeconds(10), null));

            assertThat(e.reason()).isEqualTo("TASK_NOT_FOUND");
            assertThat(server.requests()).hasSize(2);
        }
    }

    @Test
    void awaitThatTimesOutDuringAnOutageThrowsTheOutage() {
        server.otherwise(new Answer(503, Map.of("Content-Type", "text/plain"), "down for maintenance", 0));
        try (QwenImageClient client = client().pollInterval(Duration.ofMillis(20), Duration.ofMillis(50)).build()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.await("t-1", Duration.ofMillis(300), null));

            assertThat(e.status()).isEqualTo(503);
            assertThat(e.getMessage()).contains("down for maintenance");
        }
    }

    private static String task(String status, int percent) {
        return "{\"task\": {\"task_id\": \"t-1\", \"status\": \"" + status + "\", \"reason\": \"\", \"eta\": 1, \"progress_percent\": "
                + percent + "}, \"images\": []}";
    }
}
