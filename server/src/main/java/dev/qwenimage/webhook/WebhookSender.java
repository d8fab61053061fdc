package dev.qwenimage.webhook;

import dev.qwenimage.ops.Logging;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.outbound.OutboundGuard;
import dev.qwenimage.outbound.OutboundHttp;
import dev.qwenimage.outbound.OutboundRequest;
import dev.qwenimage.outbound.OutboundResult;
import dev.qwenimage.task.WebhookOutbox;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
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
 * {@code webhook-timestamp}, {@code webhook-signature}), a 10 s timeout and no redirects, through the
 * service's one SSRF-guarded {@link OutboundHttp} (it connects only to the addresses it checked; edits'
 * input images are fetched through the same client and guard). A 2xx answer
 * delivers it; a URL refused by the guard is given up at once; anything else is retried after 30 s,
 * 1.5 min, 4.5 min, 13.5 min ... (x3 each, at most an hour apart) until {@code maxAttempts}. Each delivery runs on its own virtual thread
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
    private final OutboundGuard guard;
    private final OutboundHttp http;
    private final Clock clock;
    private final int maxAttempts;
    private final Metrics metrics;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT);

    /** How the guard's refusals and failures are introduced in what is recorded and logged. */
    static final String REFUSED = "webhook url refused: ";

    /**
     * @param http the service's one outbound client (its guard is the one submits checked webhook URLs
     *             with); the sender does not close it
     */
    public WebhookSender(WebhookOutbox outbox, Function<String, Optional<TaskPayload>> payloads, WebhookSigner signer,
                         OutboundHttp http, Clock clock, int maxAttempts, Metrics metrics) {
        this.metrics = metrics;
        this.outbox = outbox;
        this.payloads = payloads;
        this.signer = signer;
        this.guard = http.guard();
        this.http = http;
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
                        // recording the outcome failed (the store went away): the claim runs out and the next
                        // claim is another try, counted like any (see deliver)
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

    /**
     * Waits up to {@code patience} for the deliveries being sent now to end (a stopping node); answers
     * how many were still in flight then. Those are not lost: their claim runs out and any node sends
     * them again, as it sends every delivery still waiting in the outbox.
     */
    public int awaitInFlight(Duration patience) {
        try {
            if (inFlight.tryAcquire(IN_FLIGHT, patience.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                inFlight.release(IN_FLIGHT);
                return 0;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return IN_FLIGHT - inFlight.availablePermits();
    }

    /**
     * Makes one try of {@code d} and records its outcome. Every try counts (the claim spent it):
     * whatever happens in it, a bad URL, a refused or unreachable receiver, or an exception
     * anywhere (payload, signature, client), ends as delivered, retried later or given up, and a
     * delivery whose earlier tries never recorded an outcome (a node died mid-send, the store
     * failed) is given up once its tries are spent.
     */
    void deliver(WebhookOutbox.Delivery d) {
        if (d.attempt() > maxAttempts) {
            log.warn("webhook for task {} given up: {} tries made, the last ones without a recorded outcome", d.taskId(), d.attempt() - 1);
            metrics.webhook("given_up");
            outbox.deliveryFailed(d.id(), "given up after " + maxAttempts + " tries", Optional.empty(), clock.instant());
            return;
        }
        Try outcome;
        try {
            outcome = attempt(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // shutting down: the try is spent; the claim runs out and the next one (or the give-up above) follows
        } catch (RuntimeException e) {
            String errorId = Logging.errorId();
            log.error("webhook for task {} failed unexpectedly (error id {})", d.taskId(), errorId, e);
            outcome = new Try.Retry("internal error while delivering (error id " + errorId + ")");
        }
        switch (outcome) {
            case Try.Delivered() -> {
                outbox.delivered(d.id(), clock.instant());
                metrics.webhook("delivered");
            }
            case Try.Retry(String reason) -> failed(d, reason);
            case Try.Final(String reason, String metric) -> {
                log.warn("webhook for task {} not sent: {}", d.taskId(), reason);
                metrics.webhook(metric);
                outbox.deliveryFailed(d.id(), reason, Optional.empty(), clock.instant());
            }
        }
    }

    /** The outcome of one try, before it is recorded. */
    private sealed interface Try {
        record Delivered() implements Try {
        }

        /** May succeed later: retried until the tries are spent. */
        record Retry(String reason) implements Try {
        }

        /** Never worth another try; {@code metric} is the outcome counted. */
        record Final(String reason, String metric) implements Try {
        }
    }

    private Try attempt(WebhookOutbox.Delivery d) throws InterruptedException {
        // judged before the payload is built: a URL refused now is refused for good
        Optional<String> problem = guard.problemWithoutLookup(d.url());
        if (problem.isPresent()) {
            return new Try.Final(REFUSED + problem.get(), "refused");
        }
        Optional<TaskPayload> payload = payloads.apply(d.taskId());
        if (payload.isEmpty()) {
            return new Try.Final("the task no longer exists", "task_gone");
        }
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("event_type", "ASYNC_TASK_RESULT");
        event.put("payload", payload.get().body());
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(event);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render the webhook body: " + e.getOriginalMessage(), e);
        }
        String messageId = "msg_" + d.taskId();
        long timestamp = clock.instant().getEpochSecond();
        OutboundResult result = http.send(OutboundRequest.post(d.url(), Map.of(
                "Content-Type", "application/json",
                "webhook-id", messageId,
                "webhook-timestamp", Long.toString(timestamp),
                "webhook-signature", signer.signature(payload.get().owner(), messageId, timestamp, body)), body, TIMEOUT));
        return switch (result) {
            case OutboundResult.Answered a when a.ok() -> new Try.Delivered();
            case OutboundResult.Answered a -> new Try.Retry("the receiver answered HTTP " + a.status());
            case OutboundResult.Refused(String reason) -> new Try.Final(REFUSED + reason, "refused");
            case OutboundResult.Unresolved(String reason) -> new Try.Retry(reason);
            case OutboundResult.Failed(String reason) -> new Try.Retry("could not reach the receiver: " + reason);
        };
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
