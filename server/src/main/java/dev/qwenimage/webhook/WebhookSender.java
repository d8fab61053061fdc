package dev.qwenimage.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.task.WebhookOutbox;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the webhook deliveries of the {@link WebhookOutbox}: {@code POST url} with
 * {@code {"event_type": "ASYNC_TASK_RESULT", "payload": <task-result body>}} (Novita's shape),
 * signed with Standard Webhooks headers ({@code webhook-id} stable across retries,
 * {@code webhook-timestamp}, {@code webhook-signature}), a 10 s timeout and no redirects. A 2xx
 * answer delivers it; anything else is retried after 30 s, 1.5 min, 4.5 min, 13.5 min ... (x3 each,
 * at most an hour apart) until {@code maxAttempts}. Each delivery runs on its own virtual thread
 * (at most {@value #IN_FLIGHT} at once), so a dead receiver never holds up the others, and the
 * task itself finished long before: webhooks can never fail or block a task.
 */
public final class WebhookSender implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    public static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(30);
    private static final Duration MAX_RETRY = Duration.ofHours(1);
    /** How long a claimed delivery is this node's before another node may try it (a send takes at most 10 s). */
    private static final Duration CLAIM = Duration.ofSeconds(60);
    private static final int IN_FLIGHT = 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The task-result body of a task and the owner it belongs to, or empty when the task is gone. */
    public record TaskPayload(String owner, Object body) {
    }

    private final WebhookOutbox outbox;
    private final Function<String, Optional<TaskPayload>> payloads;
    private final WebhookSigner signer;
    private final WebhookTargets targets;
    private final Clock clock;
    private final int maxAttempts;
    private final Metrics metrics;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);

    public WebhookSender(WebhookOutbox outbox, Function<String, Optional<TaskPayload>> payloads, WebhookSigner signer,
                         WebhookTargets targets, Clock clock, int maxAttempts, Metrics metrics) {
        this.metrics = metrics;
        this.outbox = outbox;
        this.payloads = payloads;
        this.signer = signer;
        this.targets = targets;
        this.clock = clock;
        this.maxAttempts = maxAttempts;
    }

    /** The wait before try number {@code attempt + 1} after try {@code attempt} failed. */
    public static Duration retryDelay(int attempt) {
        Duration d = FIRST_RETRY;
        for (int i = 1; i < attempt && d.compareTo(MAX_RETRY) < 0; i++) {
            d = d.multipliedBy(3);
        }
        return d.compareTo(MAX_RETRY) < 0 ? d : MAX_RETRY;
    }

    /** Claims and starts every due delivery (called every second). */
    @Override
    public void run() {
        try {
            while (inFlight.tryAcquire()) {
                Optional<WebhookOutbox.Delivery> next = outbox.claimDelivery(clock.instant(), CLAIM);
                if (next.isEmpty()) {
                    inFlight.release();
                    return;
                }
                WebhookOutbox.Delivery d = next.get();
                Thread.ofVirtual().name("webhook-" + d.id()).start(() -> {
                    try {
                        deliver(d);
                    } catch (RuntimeException e) {
                        // the store went away (shutdown) or failed: the claim runs out and the delivery is tried again
                        log.warn("webhook for task {} not recorded: {}", d.taskId(), e.getMessage());
                    } finally {
                        inFlight.release();
                    }
                });
            }
        } catch (RuntimeException e) {
            log.error("webhook outbox sweep failed; will retry", e);
        }
    }

    void deliver(WebhookOutbox.Delivery d) {
        URI uri;
        WebhookTargets.Verdict verdict;
        try {
            uri = URI.create(d.url());
            verdict = targets.lookUp(uri);
        } catch (IllegalArgumentException e) {
            uri = null;
            verdict = new WebhookTargets.Verdict.Refused("not a valid URL");
        }
        switch (verdict) {
            case WebhookTargets.Verdict.Refused(String reason) -> {
                log.warn("webhook for task {} not sent: {}", d.taskId(), reason);
                metrics.webhook("refused");
                outbox.deliveryFailed(d.id(), reason, Optional.empty(), clock.instant());
                return;
            }
            case WebhookTargets.Verdict.Unresolved(String reason) -> {
                failed(d, reason);
                return;
            }
            case WebhookTargets.Verdict.Deliver() -> {
                // go on
            }
        }
        Optional<TaskPayload> payload = payloads.apply(d.taskId());
        if (payload.isEmpty()) {
            metrics.webhook("task_gone");
            outbox.deliveryFailed(d.id(), "the task no longer exists", Optional.empty(), clock.instant());
            return;
        }
        String error;
        try {
            Map<String, Object> event = new LinkedHashMap<>();
            event.put("event_type", "ASYNC_TASK_RESULT");
            event.put("payload", payload.get().body());
            byte[] body = JSON.writeValueAsBytes(event);
            String messageId = "msg_" + d.taskId();
            long timestamp = clock.instant().getEpochSecond();
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri)
                    .timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "qwen-image-server webhooks")
                    .header("webhook-id", messageId)
                    .header("webhook-timestamp", Long.toString(timestamp))
                    .header("webhook-signature", signer.signature(payload.get().owner(), messageId, timestamp, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() >= 200 && r.statusCode() < 300) {
                outbox.delivered(d.id(), clock.instant());
                metrics.webhook("delivered");
                return;
            }
            error = "the receiver answered HTTP " + r.statusCode();
        } catch (HttpTimeoutException e) {
            error = "the receiver did not answer within " + TIMEOUT.toSeconds() + " s";
        } catch (IOException e) {
            error = "could not reach the receiver: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // shutting down: the claim runs out and another try follows
        }
        failed(d, error);
    }

    /** A try that may succeed later: retried after {@link #retryDelay} until the attempts are spent. */
    private void failed(WebhookOutbox.Delivery d, String error) {
        Instant now = clock.instant();
        boolean last = d.attempt() >= maxAttempts;
        log.info("webhook for task {} failed (try {}/{}): {}", d.taskId(), d.attempt(), maxAttempts, error);
        metrics.webhook(last ? "given_up" : "failed");
        outbox.deliveryFailed(d.id(), error, last ? Optional.empty() : Optional.of(now.plus(retryDelay(d.attempt()))), now);
    }
}
