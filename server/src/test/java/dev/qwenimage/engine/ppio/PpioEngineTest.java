package dev.qwenimage.engine.ppio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.ppio.FakePpioCloud.Failure;
import dev.qwenimage.engine.ppio.FakePpioCloud.Plan;
import dev.qwenimage.support.Api;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ppio engine against a fake PPIO cloud that speaks the real async API, failure modes included. */
class PpioEngineTest {
    private final FakePpioCloud cloud = new FakePpioCloud();
    private final List<int[]> progress = new CopyOnWriteArrayList<>();
    private final ProgressSink sink = (done, total) -> progress.add(new int[] {done, total});

    @AfterEach
    void stopCloud() {
        cloud.close();
    }

    private static Engine engine(String entry) {
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", entry).getFirst();
        return Engines.create(spec, ServerConfig.of(Map.of()));
    }

    private Engine engine() {
        return engine("ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY + "&poll=20ms");
    }

    private static GenerationRequest request(int width, int height) {
        return new GenerationRequest("t-1", "a lighthouse at dusk", "blurry", width, height, 42, 20);
    }

    @Test
    void relaysThePromptToTheCloudAndReturnsItsImage() throws Exception {
        cloud.plan(Plan.succeedAfter(0, 5, 5, 40, 80));

        GenerationResult result = engine().generate(request(1024, 768), sink, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        var image = ((GenerationResult.Success) result).image();
        assertThat(image.getWidth()).isEqualTo(1024);
        assertThat(image.getHeight()).isEqualTo(768);
        FakePpioCloud.Submit submit = cloud.submits().getFirst();
        assertThat(submit.authorization()).isEqualTo("Bearer " + FakePpioCloud.KEY);
        assertThat(submit.contentType()).startsWith("application/json");
        // exactly the documented fields: no seed, negative prompt or steps, which the API does not take
        assertThat(submit.json()).isEqualTo(new ObjectMapper().readTree(
                "{\"prompt\": \"a lighthouse at dusk\", \"size\": \"1024*768\", \"watermark\": false}"));
    }

    @Test
    void reportsTheCloudsProgressAsStepsOutOf100() {
        cloud.plan(Plan.succeedAfter(0, 0, 5, 5, 40, 40, 80));

        engine().generate(request(512, 512), sink, new Cancellation());

        assertThat(progress).allSatisfy(p -> assertThat(p[1]).isEqualTo(100));
        assertThat(progress.stream().map(p -> p[0]).toList()).containsExactly(0, 5, 40, 80, 100);
    }

    @Test
    void downloadsTheImageFromAnotherHostWithoutTheKey() {
        engine().generate(request(512, 512), sink, new Cancellation());

        assertThat(cloud.imageFetches()).hasSize(1);
        assertThat(cloud.imageFetches().getFirst().authorization()).isNull();
    }

    @Test
    void aRateLimitedSubmitWaitsForRetryAfterAndSucceeds() {
        cloud.failSubmits(1, Failure.contract(429, "RATE_LIMIT_EXCEEDED", "too many requests").withHeader("Retry-After", "1"));

        long t0 = System.nanoTime();
        GenerationResult result = engine().generate(request(512, 512), sink, new Cancellation());
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(cloud.submits()).hasSize(2);
        assertThat(cloud.tasksCreated()).isEqualTo(1);
        assertThat(elapsedMs).isGreaterThanOrEqualTo(950);
    }

    @Test
    void serverErrorBurstsOnSubmitAndPollAreRetriedWithoutASecondTask() {
        cloud.failSubmits(3, Failure.contract(503, "SERVICE_UNAVAILABLE", "overloaded"))
                .failPolls(3, Failure.plain(502, "<html>502 Bad Gateway</html>"));

        GenerationResult result = engine().generate(request(512, 512), sink, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(cloud.submits()).hasSize(4);
        assertThat(cloud.tasksCreated()).isEqualTo(1);
    }

    @Test
    void serverErrorsThatOutlastRetryForEndAsATransientFailureWithTheCloudsMessage() {
        cloud.failSubmits(1000, Failure.contract(500, "INTERNAL_ERROR", "the GPU pool is on fire"));
        Engine engine = engine("ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY + "&poll=20ms&retry_for=300ms");

        GenerationResult result = engine.generate(request(512, 512), sink, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .startsWith("ppio at " + cloud.url())
                .contains("HTTP 500", "INTERNAL_ERROR: the GPU pool is on fire"));
        assertThat(cloud.submits().size()).isGreaterThan(2);
        assertThat(cloud.tasksCreated()).isZero();
    }

    @Test
    void aRefusedKeyIsAnEngineFailureAndTheProbeSaysSo() {
        Engine engine = engine("ppio:" + cloud.url() + "?key=sk_wrong_key_42&poll=20ms");

        GenerationResult result = engine.generate(request(512, 512), sink, new Cancellation());
        EngineHealth health = engine.probe();

        // transient: the task is fine and may run on another engine; the circuit breaker takes this one out
        assertThat(result).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("refused the PPIO key (HTTP 401: INVALID_API_KEY: invalid api-key)")
                .doesNotContain("sk_wrong_key_42"));
        assertThat(health).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .startsWith("the PPIO key was refused")
                .doesNotContain("sk_wrong_key_42"));
    }

    @Test
    void novitasForbiddenAnswerToABadKeyIsRecognisedToo() {
        cloud.refuseBadKeysWith(403);
        Engine engine = engine("ppio:" + cloud.url() + "?key=sk_wrong_key_42&poll=20ms");

        assertThat(engine.generate(request(512, 512), sink, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("refused the PPIO key (HTTP 403"));
        assertThat(engine.probe()).isInstanceOf(EngineHealth.Down.class);
    }

    @Test
    void theProbeProvesTheKeyWithoutSubmittingAnything() {
        EngineHealth health = engine().probe();

        assertThat(health).isInstanceOf(EngineHealth.Up.class);
        assertThat(cloud.submits()).isEmpty();
        assertThat(cloud.polls()).isEqualTo(1);
    }

    @Test
    void aTaskTheCloudFailsIsAPermanentFailureCarryingTheCloudsReason() {
        cloud.plan(Plan.failAfter("the prompt was flagged by content moderation", 10));

        GenerationResult result = engine().generate(request(512, 512), sink, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .isEqualTo("ppio at " + cloud.url() + " reports that the cloud failed the task: the prompt was flagged by content moderation"));
    }

    @Test
    void aRequestTheCloudRefusesIsAPermanentFailureWithItsMessage() {
        GenerationResult result = engine().generate(request(1600, 1600), sink, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .contains("HTTP 400: INVALID_SIZE: size must be <width>*<height> with each side in 256..1536"));
        assertThat(cloud.submits()).hasSize(1);
    }

    @Test
    void errorBodiesInOtherShapesStillYieldTheCloudsWords() {
        Map<Failure, String> bodies = Map.of(
                Failure.plain(400, "prompt too long"), "HTTP 400: prompt too long",
                Failure.json(400, "{\"code\": 6, \"msg\": \"param range out of limit\"}"), "HTTP 400: param range out of limit",
                Failure.json(422, "{\"error\": {\"message\": \"unsupported size\", \"type\": \"invalid_request_error\"}}"),
                "HTTP 422: unsupported size",
                Failure.json(404, ""), "HTTP 404");
        bodies.forEach((failure, expected) -> {
            cloud.failSubmits(1, failure);
            GenerationResult result = engine().generate(request(512, 512), sink, new Cancellation());
            assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                    .endsWith(expected));
        });
    }

    @Test
    void aTaskTheCloudNoLongerKnowsIsATransientFailure() {
        cloud.plan(Plan.vanishAfter(10, 20));

        GenerationResult result = engine().generate(request(512, 512), sink, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("no longer knows its task", "HTTP 404: TASK_NOT_FOUND"));
    }

    @Test
    void cancellingStopsPollingAtOnce() throws Exception {
        cloud.plan(Plan.neverFinishes(30));
        Cancellation cancellation = new Cancellation();
        Engine engine = engine();

        CompletableFuture<GenerationResult> running = CompletableFuture.supplyAsync(
                () -> engine.generate(request(512, 512), sink, cancellation));
        awaitPolls(3);
        long t0 = System.nanoTime();
        cancellation.cancel("cancelled by the test");
        GenerationResult result = running.get(5, TimeUnit.SECONDS);

        assertThat(result).isEqualTo(new GenerationResult.Cancelled("cancelled by the test"));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(1000);
        int polls = cloud.polls();
        Api.sleep(300);
        assertThat(cloud.polls()).isEqualTo(polls);
    }

    @Test
    void theTimeLimitEndsAWaitForRetryAfter() throws Exception {
        cloud.failSubmits(1, Failure.contract(429, "RATE_LIMIT_EXCEEDED", "slow down").withHeader("Retry-After", "60"));
        Cancellation cancellation = new Cancellation();
        Engine engine = engine("ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY + "&poll=20ms&retry_for=5m");

        CompletableFuture<GenerationResult> running = CompletableFuture.supplyAsync(
                () -> engine.generate(request(512, 512), sink, cancellation));
        Api.sleep(300);
        cancellation.cancel("timed out");

        assertThat(running.get(2, TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("timed out"));
        assertThat(cloud.submits()).hasSize(1);
    }

    @Test
    void anUnreachableCloudIsATransientFailureAndDownForTheProbe() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Engine engine = engine("ppio:http://127.0.0.1:" + port + "?key=" + FakePpioCloud.KEY + "&poll=20ms");

        assertThat(engine.generate(request(512, 512), sink, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("not reachable"));
        assertThat(engine.probe()).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .contains("127.0.0.1:" + port, "not reachable"));
    }

    @Test
    void theKeyIsRequiredAndNamedWhenMissing() {
        assertThatThrownBy(() -> engine("ppio:" + cloud.url() + "?poll=1s"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("option 'key' is missing");
        assertThatThrownBy(() -> engine("ppio?key=sk_x&steps=8&model=qwen"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown option 'model'")
                .hasMessageNotContaining("sk_x");
    }

    @Test
    void theDescriptionNamesTheCloudButNeverTheKey() {
        Engine byDefault = engine("ppio?key=sk_live_secret_value&slots=8");

        assertThat(byDefault.describe()).contains("https://api.ppio.com", "billed").doesNotContain("sk_live_secret_value");
        assertThat(byDefault.defaultSteps()).isEqualTo(20);
        assertThat(engine().describe()).contains(cloud.url()).doesNotContain(FakePpioCloud.KEY);
    }

    private void awaitPolls(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cloud.polls() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the engine polled only " + cloud.polls() + " times");
            }
            Api.sleep(10);
        }
    }
}
