package dev.qwenimage.engine.sdcpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.qwenimage.support.Api;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sdcpp engine against an in-process sd-server speaking the native job API, its failure modes included. */
class SdCppEngineTest {
    private final List<FakeSdServer> servers = new ArrayList<>();

    @AfterEach
    void stopServers() {
        servers.forEach(s -> {
            try {
                s.close();
            } catch (RuntimeException e) {
                // already stopped by the test
            }
        });
    }

    private FakeSdServer server() {
        FakeSdServer s = FakeSdServer.start();
        servers.add(s);
        return s;
    }

    private static SdCppEngine engine(String url, Duration grace) {
        return new SdCppEngine("sdcpp", URI.create(url), new SdCppEngine.Settings(20, 2.5, "euler", Optional.empty(),
                OptionalDouble.of(3), "", Duration.ofMillis(50), grace, Duration.ofMillis(100)));
    }

    private static SdCppEngine engine(FakeSdServer s) {
        return engine(s.url(), Duration.ofSeconds(5));
    }

    private static GenerationRequest request(int w, int h) {
        return new GenerationRequest("task-1", "a lighthouse at dusk, 灯塔", "", w, h, 42, 20);
    }

    private static CompletableFuture<GenerationResult> inBackground(Engine engine, GenerationRequest r, ProgressSink sink,
                                                                    Cancellation c) {
        return CompletableFuture.supplyAsync(() -> engine.generate(r, sink, c), Executors.newVirtualThreadPerTaskExecutor());
    }

    /** Queues a job straight at the fake, as another client of the same sd-server would. */
    private static String submitDirectly(FakeSdServer s) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.url() + "/sdcpp/v1/img_gen"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"someone else's job\", \"width\": 64, \"height\": 64}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(202);
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("id").asText();
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Api.sleep(10);
        }
    }

    @Test
    void aCompletedJobGivesTheImageAndTheJobCarriesTheQwenImageSettings() {
        FakeSdServer s = server();
        GenerationResult result = engine(s).generate(
                new GenerationRequest("t", "a red fox", "blurry", 1008, 704, 1234567890123L, 8), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.Success.class, ok -> {
            assertThat(ok.image().getWidth()).isEqualTo(1008);
            assertThat(ok.image().getHeight()).isEqualTo(704);
        });
        JsonNode job = s.submitted().getFirst();
        assertThat(job.get("prompt").asText()).isEqualTo("a red fox");
        assertThat(job.get("negative_prompt").asText()).isEqualTo("blurry");
        assertThat(job.get("width").asInt()).isEqualTo(1008);
        assertThat(job.get("height").asInt()).isEqualTo(704);
        assertThat(job.get("seed").asLong()).isEqualTo(1234567890123L);
        assertThat(job.get("batch_count").asInt()).isEqualTo(1);
        assertThat(job.get("output_format").asText()).isEqualTo("png");
        assertThat(job.at("/sample_params/sample_steps").asInt()).isEqualTo(8);
        assertThat(job.at("/sample_params/sample_method").asText()).isEqualTo("euler");
        assertThat(job.at("/sample_params/flow_shift").asDouble()).isEqualTo(3.0);
        assertThat(job.at("/sample_params/guidance/txt_cfg").asDouble()).isEqualTo(2.5);
        assertThat(job.at("/sample_params/scheduler").isMissingNode()).isTrue();
    }

    @Test
    void configuredOptionsReachTheJobAndUnknownOptionsAreRefused() {
        FakeSdServer s = server();
        ServerConfig config = ServerConfig.of(Map.of());
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "sdcpp:" + s.url()
                + "?steps=8&cfg_scale=1&sampler=euler_a&scheduler=simple&flow_shift=auto&negative_prompt=low%20quality").getFirst();
        try (Engine engine = Engines.create(spec, config)) {
            assertThat(engine.defaultSteps()).isEqualTo(8);
            assertThat(engine.describe()).contains("sd-server", s.url(), "8 steps");
            engine.generate(new GenerationRequest("t", "x", "", 256, 256, 1, 8), ProgressSink.NONE, new Cancellation());
        }
        JsonNode job = s.submitted().getFirst();
        assertThat(job.get("negative_prompt").asText()).isEqualTo("low quality");
        assertThat(job.at("/sample_params/sample_method").asText()).isEqualTo("euler_a");
        assertThat(job.at("/sample_params/scheduler").asText()).isEqualTo("simple");
        assertThat(job.at("/sample_params/guidance/txt_cfg").asDouble()).isEqualTo(1.0);
        assertThat(job.at("/sample_params/flow_shift").isMissingNode()).isTrue();

        EngineSpec typo = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "sdcpp:" + s.url() + "?cfg=2").getFirst();
        assertThatThrownBy(() -> Engines.create(typo, config)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown option 'cfg'").hasMessageContaining("cfg_scale");
    }

    @Test
    void progressIsEstimatedWhileTheJobGeneratesAndHeldBelowTheCapUntilItEnds() {
        FakeSdServer s = server().generationTime(Duration.ofMillis(1500));
        List<int[]> steps = java.util.Collections.synchronizedList(new ArrayList<>());
        // prior: 100 ms a step at 1024x1024, so 20 steps at 1024x1024 are expected in 2 s
        GenerationResult result = engine(s).generate(request(1024, 1024), (done, total) -> steps.add(new int[] {done, total}),
                new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        List<Integer> percents = steps.stream().map(p -> p[0] * 100 / p[1]).toList();
        assertThat(percents).isSorted();
        assertThat(percents.getLast()).isEqualTo(100);
        List<Integer> beforeTheEnd = percents.subList(0, percents.size() - 1);
        assertThat(beforeTheEnd).allMatch(p -> p <= 95);
        assertThat(beforeTheEnd).anyMatch(p -> p >= 40 && p <= 90);
    }

    @Test
    void aFullQueueIsWaitedOutAndTheJobSubmittedOnceThereIsRoom() throws Exception {
        FakeSdServer s = server().queueCapacity(1).generationTime(Duration.ofMillis(700));
        submitDirectly(s);

        GenerationResult result = engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(s.rejectedFull()).isPositive();
        assertThat(s.submitted()).hasSize(1 + 1 + s.rejectedFull());
    }

    @Test
    void aRetryAfterOnAFullQueueIsHonoured() throws Exception {
        FakeSdServer s = server().queueCapacity(1).generationTime(Duration.ofMillis(100)).retryAfter("2");
        submitDirectly(s);

        long t0 = System.nanoTime();
        GenerationResult result = engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(s.rejectedFull()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void aTaskCancelledWhileTheQueueIsFullLeavesNothingBehind() {
        FakeSdServer s = server().queueCapacity(0);
        Cancellation c = new Cancellation();
        CompletableFuture<GenerationResult> run = inBackground(engine(s), request(256, 256), ProgressSink.NONE, c);
        await(() -> s.rejectedFull() > 0, "the queue refused the job");

        c.cancel("timed out");

        assertThat(run.join()).isEqualTo(new GenerationResult.Cancelled("timed out"));
        assertThat(s.jobsInState("queued") + s.jobsInState("generating")).isZero();
    }

    @Test
    void aFailedJobIsATransientFailureWithSdServersOwnReason() {
        FakeSdServer s = server().failNextJob("generate_image returned no results");

        GenerationResult result = engine(s).generate(request(512, 512), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .startsWith("sdcpp at " + s.url())
                .contains("failed: generate_image returned no results (generation_failed)"));
    }

    @Test
    void aRefusedJobIsAPermanentFailureWithSdServersOwnReason() {
        FakeSdServer s = server().refuseJobs("loaded model does not support img_gen");

        GenerationResult result = engine(s).generate(request(512, 512), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .contains("HTTP 400").contains("loaded model does not support img_gen"));
    }

    @Test
    void cancellingAQueuedJobTakesItOutOfSdServersQueue() throws Exception {
        FakeSdServer s = server().generationTime(Duration.ofSeconds(3));
        submitDirectly(s); // keeps the worker busy, so the engine's job stays queued
        Cancellation c = new Cancellation();
        CompletableFuture<GenerationResult> run = inBackground(engine(s), request(256, 256), ProgressSink.NONE, c);
        await(() -> s.submitted().size() == 2, "the engine's job was queued");
        await(() -> s.polls() > 0, "the engine polled its job");

        c.cancel("cancelled by the service");

        assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("cancelled by the service"));
        assertThat(s.cancelRequests()).hasSize(1);
        assertThat(s.status(s.cancelRequests().getFirst())).isEqualTo("cancelled");
    }

    @Test
    void cancellingAGeneratingJobStopsWaitingAtOnceThoughSdServerCannotInterruptIt() throws Exception {
        FakeSdServer s = server().generationTime(Duration.ofSeconds(5));
        Cancellation c = new Cancellation();
        CompletableFuture<GenerationResult> run = inBackground(engine(s), request(256, 256), ProgressSink.NONE, c);
        await(() -> s.jobsInState("generating") == 1 && s.polls() > 0, "the engine polls its generating job");

        long t0 = System.nanoTime();
        c.cancel("timed out");

        assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("timed out"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        assertThat(s.cancelRequests()).hasSize(1); // asked, answered 409: generating jobs cannot be interrupted
        assertThat(s.status(s.cancelRequests().getFirst())).isEqualTo("generating");
    }

    @Test
    void aRestartThatLosesTheJobIsATransientFailureSoTheTaskRunsAgain() {
        FakeSdServer s = server().generationTime(Duration.ofSeconds(5));
        CompletableFuture<GenerationResult> run = inBackground(engine(s), request(256, 256), ProgressSink.NONE, new Cancellation());
        await(() -> s.jobsInState("generating") == 1 && s.polls() > 0, "the engine polls its generating job");

        s.restart();

        assertThat(run.join()).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("no longer knows job").contains("HTTP 404 job not found"));
    }

    @Test
    void droppedConnectionsWhilePollingAreRiddenOut() {
        FakeSdServer s = server().generationTime(Duration.ofMillis(600)).dropConnections("poll", 4); // the JDK client retries a GET once itself

        GenerationResult result = engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
    }

    @Test
    void aServerGoneForLongerThanTheGraceIsATransientFailure() {
        FakeSdServer s = server().generationTime(Duration.ofSeconds(10));
        SdCppEngine engine = engine(s.url(), Duration.ofMillis(800));
        CompletableFuture<GenerationResult> run = inBackground(engine, request(256, 256), ProgressSink.NONE, new Cancellation());
        await(() -> s.jobsInState("generating") == 1 && s.polls() > 0, "the engine polls its generating job");

        s.stop();

        assertThat(run.join()).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("lost contact with job").contains("not reachable"));
    }

    @Test
    void aSubmitWhoseConnectionDropsIsATransientFailure() {
        FakeSdServer s = server().dropConnections("submit", 1);

        GenerationResult result = engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("connection failed"));
    }

    @Test
    void whileSdServerIsStillLoadingItsModelItIsDownThenUpOnceItListens() {
        int port = FakeSdServer.freePort();
        SdCppEngine engine = engine("http://127.0.0.1:" + port, Duration.ofSeconds(5));

        assertThat(engine.probe()).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .contains("not reachable"));
        assertThat(engine.generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason()).contains("not reachable"));

        FakeSdServer s = FakeSdServer.startOn(port);
        servers.add(s);
        assertThat(engine.probe()).isInstanceOfSatisfying(EngineHealth.Up.class, u -> assertThat(u.detail())
                .contains("qwen-image-Q8_0.gguf").contains("job queue 64"));
        assertThat(engine.generate(request(256, 256), ProgressSink.NONE, new Cancellation())).isInstanceOf(GenerationResult.Success.class);
    }

    @Test
    void aProbeWhoseConnectionDropsIsDown() {
        FakeSdServer s = server().dropConnections("capabilities", 2);

        assertThat(engine(s).probe()).isInstanceOf(EngineHealth.Down.class);
        assertThat(engine(s).probe()).isInstanceOf(EngineHealth.Up.class);
    }
}
