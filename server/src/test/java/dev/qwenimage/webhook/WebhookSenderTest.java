package dev.qwenimage.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.image.ImageType;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.outbound.OutboundGuard;
import dev.qwenimage.outbound.Resolver;
import dev.qwenimage.outbound.OutboundHttp;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.WebhookOutbox;
import dev.qwenimage.task.sqlite.SqliteTaskStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every try of a delivery counts, whatever happens in it: a delivery ends delivered or given up
 * after its tries, never retried forever. Driven try by try on a real store, with a payload
 * source that fails the way a bug or a store error would.
 */
class WebhookSenderTest {
    private static final int ATTEMPTS = 5;
    private static final Duration CLAIM = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.startingNow();
    private final Metrics metrics = Metrics.detached();
    private final AtomicInteger payloadCalls = new AtomicInteger();
    private TaskStore store;
    private OutboundHttp http;
    private WebhookSender sender;

    @BeforeEach
    void open() {
        store = SqliteTaskStore.open(dir.resolve("tasks.db"));
        http = new OutboundHttp(new OutboundGuard(List.of("127.0.0.1/32"), "QWEN_IMAGE_OUTBOUND_ALLOW"), Resolver.SYSTEM,
                WebhookSender.TIMEOUT, OutboundHttp.USER_AGENT);
        sender = new WebhookSender(store, id -> {
            payloadCalls.incrementAndGet();
            throw new IllegalStateException("payload could not be built");
        }, new WebhookSigner(new byte[32]), http, clock, ATTEMPTS, metrics);
    }

    @AfterEach
    void close() {
        http.close();
        store.close();
    }

    /** A finished task whose webhook is due now. */
    private void finishedTaskWithWebhook(String url) {
        String id = UUID.randomUUID().toString();
        store.insert(new NewTask(id, "alice", new TaskSpec("a cat", "", 256, 256, false, 1, OptionalInt.empty(), ImageType.JPEG,
                Optional.of(url)), 3, clock.instant()));
        store.claim("w1", "preview", clock.instant(), CLAIM).orElseThrow();
        assertThat(store.succeed(id, "w1", id + ".jpeg", 10, clock.instant())).isTrue();
    }

    private Optional<WebhookOutbox.Delivery> next() {
        clock.advance(Duration.ofHours(2)); // past any back-off and any claim
        return store.claimDelivery(clock.instant(), CLAIM);
    }

    private double webhooks(String outcome) {
        return metrics.scrape().lines().filter(l -> l.startsWith("qwen_image_webhooks_total{outcome=\"" + outcome + "\""))
                .findFirst().map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(0.0);
    }

    @Test
    void aTryThatThrowsCountsAsATryAndTheDeliveryIsGivenUpAfterTheLast() {
        finishedTaskWithWebhook("http://127.0.0.1:9/hook");
        Optional<WebhookOutbox.Delivery> d;
        int tries = 0;
        while ((d = next()).isPresent() && tries < 20) {
            sender.deliver(d.get());
            tries++;
        }
        assertThat(tries).isEqualTo(ATTEMPTS);
        assertThat(payloadCalls.get()).isEqualTo(ATTEMPTS);
        assertThat(webhooks("failed")).isEqualTo(ATTEMPTS - 1);
        assertThat(webhooks("given_up")).isEqualTo(1);
    }

    @Test
    void aDeliveryWhoseTriesNeverRecordedAnOutcomeIsGivenUpOnceTheyAreSpent() {
        finishedTaskWithWebhook("http://127.0.0.1:9/hook");
        // each claim is a try; here the node "dies" after every claim, before recording anything
        for (int i = 0; i < ATTEMPTS; i++) {
            assertThat(next()).isPresent();
        }
        WebhookOutbox.Delivery late = next().orElseThrow();
        assertThat(late.attempt()).isEqualTo(ATTEMPTS + 1);
        sender.deliver(late);
        assertThat(payloadCalls.get()).as("nothing is sent past the last try").isZero();
        assertThat(webhooks("given_up")).isEqualTo(1);
        assertThat(next()).isEmpty();
    }

    @Test
    void aUrlThatCannotBeCalledIsGivenUpAtOnce() {
        // stored before the submit checks refused such URLs
        finishedTaskWithWebhook("http://127.0.0.1:99999/hook");
        finishedTaskWithWebhook("http://" + "a".repeat(64) + ".example.com/hook");
        finishedTaskWithWebhook("http://10.0.0.1/hook");
        for (int i = 0; i < 3; i++) {
            sender.deliver(next().orElseThrow());
        }
        assertThat(next()).isEmpty();
        assertThat(webhooks("refused")).isEqualTo(3);
        assertThat(payloadCalls.get()).isZero();
    }
}
