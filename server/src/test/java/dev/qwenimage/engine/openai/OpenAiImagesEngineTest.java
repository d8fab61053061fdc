package dev.qwenimage.engine.openai;

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
import dev.qwenimage.engine.openai.OpenAiImagesEngine.Extra;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The openai engine against an in-process OpenAI-compatible images server (vLLM-Omni's shape), its failure modes included. */
class OpenAiImagesEngineTest {
    private final List<FakeOpenAiImages> servers = new ArrayList<>();

    @AfterEach
    void stopServers() {
        servers.forEach(FakeOpenAiImages::close);
    }

    private FakeOpenAiImages server() {
        FakeOpenAiImages s = FakeOpenAiImages.serving("Qwen/Qwen-Image");
        servers.add(s);
        return s;
    }

    private static OpenAiImagesEngine engine(String url, Optional<String> key, Set<Extra> extras, Duration stepTime,
                                             Duration callTimeout) {
        return new OpenAiImagesEngine("openai", URI.create(url), new OpenAiImagesEngine.Settings("Qwen/Qwen-Image", key, extras,
                20, 4.0, "", stepTime, callTimeout));
    }

    private static OpenAiImagesEngine engine(FakeOpenAiImages s) {
        return engine(s.base(), Optional.empty(), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30));
    }

    private static GenerationRequest request(int w, int h) {
        return new GenerationRequest("task-1", "a tea house in the rain, 茶馆", "", w, h, 42, 20);
    }

    private static CompletableFuture<GenerationResult> inBackground(Engine engine, GenerationRequest r, ProgressSink sink,
                                                                    Cancellation c) {
        return CompletableFuture.supplyAsync(() -> engine.generate(r, sink, c), Executors.newVirtualThreadPerTaskExecutor());
    }

    @Test
    void aB64JsonAnswerGivesTheImageAndTheRequestIsOpenAisStandardOne() {
        FakeOpenAiImages s = server().requireKey("sk-secret-123");
        OpenAiImagesEngine engine = engine(s.base(), Optional.of("sk-secret-123"), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30));

        GenerationResult result = engine.generate(request(1008, 704), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOfSatisfying(GenerationResult.Success.class, ok -> {
            assertThat(ok.image().getWidth()).isEqualTo(1008);
            assertThat(ok.image().getHeight()).isEqualTo(704);
        });
        JsonNode body = s.requests().getFirst();
        assertThat(body.get("model").asText()).isEqualTo("Qwen/Qwen-Image");
        assertThat(body.get("prompt").asText()).isEqualTo("a tea house in the rain, 茶馆");
        assertThat(body.get("size").asText()).isEqualTo("1008x704");
        assertThat(body.get("n").asInt()).isEqualTo(1);
        assertThat(body.get("response_format").asText()).isEqualTo("b64_json");
        assertThat(body.has("seed") || body.has("num_inference_steps") || body.has("true_cfg_scale") || body.has("negative_prompt"))
                .as("no extension field unless configured").isFalse();
        assertThat(s.authorizations()).containsExactly("Bearer sk-secret-123");
        assertThat(engine.describe()).contains("with a key").doesNotContain("sk-secret-123");
    }

    @Test
    void vllmExtrasSendTheDiffusionFieldsAndAListSendsOnlyThoseNamed() {
        FakeOpenAiImages s = server();
        engine(s.base(), Optional.empty(), Extra.parse("vllm"), Duration.ofMillis(100), Duration.ofSeconds(30))
                .generate(new GenerationRequest("t", "p", "watermark, blur", 512, 512, 77, 8), ProgressSink.NONE, new Cancellation());
        engine(s.base(), Optional.empty(), Extra.parse("seed, num_inference_steps"), Duration.ofMillis(100), Duration.ofSeconds(30))
                .generate(new GenerationRequest("t", "p", "watermark", 512, 512, 78, 8), ProgressSink.NONE, new Cancellation());

        JsonNode all = s.requests().get(0);
        assertThat(all.get("negative_prompt").asText()).isEqualTo("watermark, blur");
        assertThat(all.get("num_inference_steps").asInt()).isEqualTo(8);
        assertThat(all.get("true_cfg_scale").asDouble()).isEqualTo(4.0);
        assertThat(all.get("seed").asLong()).isEqualTo(77);
        JsonNode some = s.requests().get(1);
        assertThat(some.get("seed").asLong()).isEqualTo(78);
        assertThat(some.get("num_inference_steps").asInt()).isEqualTo(8);
        assertThat(some.has("negative_prompt")).isFalse();

        // by default a task without a negative prompt sends Qwen-Image's recommended " " (true CFG on);
        // negative_prompt= (empty) on the engine sends none
        OpenAiImagesEngine.Settings d = OpenAiImagesEngine.Settings.defaults();
        new OpenAiImagesEngine("openai", URI.create(s.base()), new OpenAiImagesEngine.Settings(d.model(), d.key(),
                Extra.parse("vllm"), d.steps(), d.trueCfgScale(), d.negativePrompt(), d.stepTime(), d.callTimeout()))
                .generate(new GenerationRequest("t", "p", "", 512, 512, 79, 8), ProgressSink.NONE, new Cancellation());
        assertThat(s.requests().get(2).get("negative_prompt").asText()).isEqualTo(" ");
        engine(s.base(), Optional.empty(), Extra.parse("vllm"), Duration.ofMillis(100), Duration.ofSeconds(30))
                .generate(new GenerationRequest("t", "p", "", 512, 512, 80, 8), ProgressSink.NONE, new Cancellation());
        assertThat(s.requests().get(3).has("negative_prompt")).isFalse();
        assertThat(some.has("true_cfg_scale")).isFalse();
        assertThat(Extra.parse("none")).isEmpty();
        assertThat(Extra.parse("sglang")).isEqualTo(EnumSet.allOf(Extra.class));
        assertThatThrownBy(() -> Extra.parse("seed,guidance")).hasMessageContaining("unknown field 'guidance'");
    }

    @Test
    void urlAnswersAreDownloadedWhetherAbsoluteOrRelativeToTheServer() {
        FakeOpenAiImages s = server().answer(FakeOpenAiImages.Answer.ABSOLUTE_URL);
        assertThat(engine(s).generate(request(320, 240), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.Success.class, ok -> assertThat(ok.image().getWidth()).isEqualTo(320));

        s.answer(FakeOpenAiImages.Answer.RELATIVE_URL);
        assertThat(engine(s).generate(request(320, 240), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.Success.class, ok -> assertThat(ok.image().getHeight()).isEqualTo(240));
    }

    @Test
    void aBaseUrlWithoutTheVersionGetsV1() {
        FakeOpenAiImages s = server();
        OpenAiImagesEngine engine = engine(s.root(), Optional.empty(), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30));

        assertThat(engine.describe()).contains(s.root() + "/v1");
        assertThat(engine.generate(request(256, 256), ProgressSink.NONE, new Cancellation())).isInstanceOf(GenerationResult.Success.class);
        assertThat(engine.probe()).isInstanceOf(EngineHealth.Up.class);
    }

    @Test
    void aClientErrorIsPermanentWithTheServersOwnMessage() {
        FakeOpenAiImages s = server()
                .failNext(400, "{\"error\": {\"message\": \"Your request was rejected by the safety system.\", "
                        + "\"type\": \"image_generation_user_error\", \"param\": null, \"code\": \"content_policy_violation\"}}")
                .failNext(400, "{\"detail\": \"Invalid size format: '1024x'. Expected format: 'WIDTHxHEIGHT' (e.g., '1024x1024').\"}");

        assertThat(engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                        .startsWith("openai at " + s.base())
                        .contains("HTTP 400: Your request was rejected by the safety system. (content_policy_violation)"));
        assertThat(engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                        .contains("Invalid size format: '1024x'"));
    }

    @Test
    void aWrongKeyIsTheEnginesFaultNotTheTasksAndTheProbeSaysSo() {
        FakeOpenAiImages s = server().requireKey("right-key");
        OpenAiImagesEngine engine = engine(s.base(), Optional.of("wrong-key"), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30));

        // transient: the task moves to another engine while this one's breaker opens
        assertThat(engine.generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("HTTP 401: Incorrect API key provided. (invalid_api_key)").doesNotContain("wrong-key"));
        assertThat(engine.probe()).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .contains("refused the key").doesNotContain("wrong-key"));
    }

    @Test
    void serverErrorsAreTransientWithTheServersOwnMessage() {
        FakeOpenAiImages s = server()
                .failNext(500, "{\"detail\": \"Image generation failed: CUDA out of memory. Tried to allocate 2.00 GiB\"}")
                .failNext(503, "{\"detail\": \"Diffusion engine not initialized. Start server with a diffusion model.\"}");

        assertThat(engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("HTTP 500: Image generation failed: CUDA out of memory"));
        assertThat(engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("HTTP 503: Diffusion engine not initialized"));
    }

    @Test
    void anAnswerSlowerThanTheCallTimeoutIsTransient() {
        FakeOpenAiImages s = server().delay(Duration.ofSeconds(5));
        OpenAiImagesEngine engine = engine(s.base(), Optional.empty(), Set.of(), Duration.ofMillis(100), Duration.ofMillis(700));

        assertThat(engine.generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("did not answer in time"));
    }

    @Test
    void aDroppedConnectionIsTransient() {
        FakeOpenAiImages s = server().dropNext();

        assertThat(engine(s).generate(request(256, 256), ProgressSink.NONE, new Cancellation()))
                .isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                        .contains("connection failed"));
    }

    @Test
    void whileTheServerWorksProgressIsEstimatedBelowTheCapAndLearnsFromFinishedRuns() {
        FakeOpenAiImages s = server().delay(Duration.ofMillis(1200));
        // the prior says 20 steps at 512x512 take 20 x 10 ms / 4 = 50 ms: the first run sits at the cap
        OpenAiImagesEngine engine = engine(s.base(), Optional.empty(), Set.of(), Duration.ofMillis(10), Duration.ofSeconds(30));
        List<Integer> first = Collections.synchronizedList(new ArrayList<>());
        List<Integer> second = Collections.synchronizedList(new ArrayList<>());

        assertThat(engine.generate(request(512, 512), (d, t) -> first.add(d * 100 / t), new Cancellation()))
                .isInstanceOf(GenerationResult.Success.class);
        assertThat(engine.generate(request(512, 512), (d, t) -> second.add(d * 100 / t), new Cancellation()))
                .isInstanceOf(GenerationResult.Success.class);

        assertThat(first).isSorted().endsWith(95, 100);
        assertThat(first.subList(0, first.size() - 1)).containsOnly(95);
        // the second run expects what the first took (about 1.2 s): the estimate now moves through the middle
        assertThat(second).isSorted().last().isEqualTo(100);
        assertThat(second.subList(0, second.size() - 1)).allMatch(p -> p <= 95).anyMatch(p -> p >= 20 && p <= 80);
    }

    @Test
    void cancellingAbortsTheCallAtOnce() throws Exception {
        FakeOpenAiImages s = server().delay(Duration.ofSeconds(20));
        Cancellation c = new Cancellation();
        CompletableFuture<GenerationResult> run = inBackground(engine(s), request(256, 256), ProgressSink.NONE, c);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (s.requests().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }

        long t0 = System.nanoTime();
        c.cancel("timed out");

        assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("timed out"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        assertThat(s.answered()).isZero();
    }

    @Test
    void theProbeChecksThatTheConfiguredModelIsServed() {
        FakeOpenAiImages s = server();
        assertThat(engine(s).probe()).isInstanceOfSatisfying(EngineHealth.Up.class, u -> assertThat(u.detail())
                .contains("Qwen/Qwen-Image"));

        OpenAiImagesEngine other = new OpenAiImagesEngine("openai", URI.create(s.base()), new OpenAiImagesEngine.Settings(
                "Qwen/Qwen-Image-2512", Optional.empty(), Set.of(), 50, 4.0, "", Duration.ofSeconds(1), Duration.ofSeconds(30)));
        assertThat(other.probe()).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .contains("does not serve model 'Qwen/Qwen-Image-2512'").contains("it serves Qwen/Qwen-Image"));

        OpenAiImagesEngine wrongPath = engine(s.root() + "/api", Optional.empty(), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30));
        assertThat(wrongPath.probe()).isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason())
                .contains("HTTP 404").contains("http://host:8091/v1"));

        String gone = s.base();
        s.close();
        servers.remove(s);
        assertThat(engine(gone, Optional.empty(), Set.of(), Duration.ofMillis(100), Duration.ofSeconds(30)).probe())
                .isInstanceOfSatisfying(EngineHealth.Down.class, d -> assertThat(d.reason()).contains("not reachable"));
    }

    @Test
    void theConfigLineSetsTheOptionsAndRefusesUnknownOnes() {
        FakeOpenAiImages s = server().requireKey("k-1");
        ServerConfig config = ServerConfig.of(Map.of());
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:" + s.base()
                + "?key=k-1&extras=vllm&steps=30&true_cfg_scale=2.5&negative_prompt=low%20quality").getFirst();
        try (Engine engine = Engines.create(spec, config)) {
            assertThat(engine.defaultSteps()).isEqualTo(30);
            assertThat(engine.describe()).doesNotContain("k-1");
            assertThat(engine.generate(new GenerationRequest("t", "p", "", 256, 256, 5, 30), ProgressSink.NONE, new Cancellation()))
                    .isInstanceOf(GenerationResult.Success.class);
        }
        JsonNode body = s.requests().getFirst();
        assertThat(body.get("negative_prompt").asText()).isEqualTo("low quality");
        assertThat(body.get("true_cfg_scale").asDouble()).isEqualTo(2.5);
        assertThat(body.get("num_inference_steps").asInt()).isEqualTo(30);

        EngineSpec typo = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:" + s.base() + "?api_key=x").getFirst();
        assertThatThrownBy(() -> Engines.create(typo, config)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown option 'api_key'").hasMessageNotContaining("=x");
        EngineSpec badExtras = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:" + s.base() + "?extras=cfg").getFirst();
        assertThatThrownBy(() -> Engines.create(badExtras, config)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown field 'cfg'");
    }
}
