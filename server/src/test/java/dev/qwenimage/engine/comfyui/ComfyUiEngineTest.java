package dev.qwenimage.engine.comfyui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comfyui engine against a fake ComfyUI that speaks ComfyUI's real HTTP and WebSocket protocol. */
class ComfyUiEngineTest {
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private FakeComfyUi fake = started(FakeComfyUi.start().stepDelay(Duration.ofMillis(5)));
    /**
     * Slots are platform threads in the service; so are the test's. (Blocking common-pool threads
     * would starve the JDK HttpClient, which completes its WebSocket handshake there.)
     */
    private final ExecutorService slots = Executors.newCachedThreadPool();

    @TempDir
    Path dir;

    @AfterEach
    void closeAll() throws Exception {
        slots.shutdownNow();
        for (AutoCloseable c : closeAfter.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T started(T c) {
        closeAfter.add(c);
        return c;
    }

    private ComfyUiEngine engine(String options) {
        return engine(fake.url(), options);
    }

    private ComfyUiEngine engine(String url, String options) {
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "comfyui:" + url + (options.isEmpty() ? "" : "?" + options)).getFirst();
        return started(ComfyUiEngine.of(spec));
    }

    private static GenerationRequest request(String prompt, int width, int height, long seed, int steps) {
        return new GenerationRequest("task-1", prompt, "", width, height, seed, steps);
    }

    /** Records every progress step. */
    private static final class Steps implements ProgressSink {
        final List<String> seen = new CopyOnWriteArrayList<>();

        @Override
        public void step(int completed, int total) {
            seen.add(completed + "/" + total);
        }
    }

    private static JsonNode node(JsonNode workflow, String classType) {
        for (JsonNode n : workflow) {
            if (n.path("class_type").asText().equals(classType)) {
                return n.path("inputs");
            }
        }
        throw new AssertionError("no " + classType + " in " + workflow);
    }

    private static String idOf(JsonNode workflow, String classType) {
        var it = workflow.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getValue().path("class_type").asText().equals(classType)) {
                return e.getKey();
            }
        }
        throw new AssertionError("no " + classType);
    }

    private static String link(JsonNode input) {
        assertThat(input.isArray()).as("a link [node_id, output_index]: %s", input).isTrue();
        return input.get(0).asText() + ":" + input.get(1).asInt();
    }

    @Test
    void drawsAnImageWithComfyUisNativeQwenImageWorkflow() {
        ComfyUiEngine engine = engine("");

        GenerationResult result = engine.generate(request("a red fox reading a book", 512, 384, 42, 4), ProgressSink.NONE,
                new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        var image = ((GenerationResult.Success) result).image();
        assertThat(image.getWidth()).isEqualTo(512);
        assertThat(image.getHeight()).isEqualTo(384);

        JsonNode body = fake.prompts().getFirst();
        assertThat(body.path("prompt_id").asText()).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(body.path("client_id").asText()).isNotBlank();
        assertThat(fake.state(body.path("prompt_id").asText())).isEqualTo(FakeComfyUi.State.DONE);
        JsonNode w = body.path("prompt");
        assertThat(w.size()).isEqualTo(10);
        assertThat(node(w, "UNETLoader").path("unet_name").asText()).isEqualTo("qwen_image_fp8_e4m3fn.safetensors");
        assertThat(node(w, "UNETLoader").path("weight_dtype").asText()).isEqualTo("default");
        assertThat(node(w, "CLIPLoader").path("clip_name").asText()).isEqualTo("qwen_2.5_vl_7b_fp8_scaled.safetensors");
        assertThat(node(w, "CLIPLoader").path("type").asText()).isEqualTo("qwen_image");
        assertThat(node(w, "VAELoader").path("vae_name").asText()).isEqualTo("qwen_image_vae.safetensors");
        assertThat(node(w, "ModelSamplingAuraFlow").path("shift").asDouble()).isEqualTo(3.1);
        assertThat(link(node(w, "ModelSamplingAuraFlow").path("model"))).isEqualTo(idOf(w, "UNETLoader") + ":0");
        JsonNode latent = node(w, "EmptySD3LatentImage");
        assertThat(List.of(latent.path("width").asInt(), latent.path("height").asInt(), latent.path("batch_size").asInt()))
                .containsExactly(512, 384, 1);
        JsonNode sampler = node(w, "KSampler");
        assertThat(sampler.path("seed").asLong()).isEqualTo(42);
        assertThat(sampler.path("steps").asInt()).isEqualTo(4);
        assertThat(sampler.path("cfg").asDouble()).isEqualTo(2.5);
        assertThat(sampler.path("sampler_name").asText()).isEqualTo("euler");
        assertThat(sampler.path("scheduler").asText()).isEqualTo("simple");
        assertThat(sampler.path("denoise").asDouble()).isEqualTo(1.0);
        assertThat(link(sampler.path("model"))).isEqualTo(idOf(w, "ModelSamplingAuraFlow") + ":0");
        assertThat(link(sampler.path("latent_image"))).isEqualTo(idOf(w, "EmptySD3LatentImage") + ":0");
        JsonNode positive = w.path(sampler.path("positive").get(0).asText()).path("inputs");
        JsonNode negative = w.path(sampler.path("negative").get(0).asText()).path("inputs");
        assertThat(positive.path("text").asText()).isEqualTo("a red fox reading a book");
        assertThat(negative.path("text").asText()).as("Qwen-Image's recommended empty negative").isEqualTo(" ");
        assertThat(link(positive.path("clip"))).isEqualTo(idOf(w, "CLIPLoader") + ":0");
        assertThat(link(node(w, "VAEDecode").path("samples"))).isEqualTo(idOf(w, "KSampler") + ":0");
        assertThat(link(node(w, "VAEDecode").path("vae"))).isEqualTo(idOf(w, "VAELoader") + ":0");
        assertThat(link(node(w, "SaveImage").path("images"))).isEqualTo(idOf(w, "VAEDecode") + ":0");
        assertThat(node(w, "SaveImage").path("filename_prefix").asText()).isEqualTo("qwen-image");
    }

    @Test
    void everyWorkflowSettingIsAnOptionAndTheRequestsNegativePromptIsUsed() {
        fake.models("diffusion_models", "qwen_image_bf16.safetensors").models("text_encoders", "te.safetensors")
                .models("vae", "v.safetensors");
        ComfyUiEngine engine = engine("unet=qwen_image_bf16.safetensors&clip=te.safetensors&vae=v.safetensors"
                + "&weight_dtype=fp8_e4m3fn&shift=2.0&cfg=4&sampler=res_multistep&scheduler=beta&denoise=0.9"
                + "&filename_prefix=mine&steps=7");
        assertThat(engine.defaultSteps()).isEqualTo(7);

        GenerationResult result = engine.generate(new GenerationRequest("t", "a cat", "blurry", 256, 256, 1, 3),
                ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        JsonNode w = fake.prompts().getFirst().path("prompt");
        assertThat(node(w, "UNETLoader").path("unet_name").asText()).isEqualTo("qwen_image_bf16.safetensors");
        assertThat(node(w, "UNETLoader").path("weight_dtype").asText()).isEqualTo("fp8_e4m3fn");
        assertThat(node(w, "CLIPLoader").path("clip_name").asText()).isEqualTo("te.safetensors");
        assertThat(node(w, "VAELoader").path("vae_name").asText()).isEqualTo("v.safetensors");
        assertThat(node(w, "ModelSamplingAuraFlow").path("shift").asDouble()).isEqualTo(2.0);
        JsonNode sampler = node(w, "KSampler");
        assertThat(sampler.path("steps").asInt()).as("the request's steps win").isEqualTo(3);
        assertThat(sampler.path("cfg").asDouble()).isEqualTo(4.0);
        assertThat(sampler.path("sampler_name").asText()).isEqualTo("res_multistep");
        assertThat(sampler.path("scheduler").asText()).isEqualTo("beta");
        assertThat(sampler.path("denoise").asDouble()).isEqualTo(0.9);
        assertThat(w.path(sampler.path("negative").get(0).asText()).path("inputs").path("text").asText()).isEqualTo("blurry");
        assertThat(node(w, "SaveImage").path("filename_prefix").asText()).isEqualTo("mine");
    }

    @Test
    void aLightningLoraIsLoadedBetweenTheModelAndItsSampling() {
        ComfyUiEngine engine = engine("lora=Qwen-Image-Lightning-8steps-V1.0.safetensors&lora_strength=0.8&steps=8&cfg=1.0");
        assertThat(engine.defaultSteps()).isEqualTo(8);
        assertThat(engine.typicalStepTime()).as("cfg 1 skips the unconditional pass").isLessThan(engine("").typicalStepTime());
        assertThat(engine.describe()).contains("LoRA Qwen-Image-Lightning-8steps-V1.0.safetensors", "8 steps", "cfg 1.0");

        GenerationResult result = engine.generate(request("neon sign", 256, 256, 3, 8), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        JsonNode w = fake.prompts().getFirst().path("prompt");
        assertThat(w.size()).isEqualTo(11);
        JsonNode lora = node(w, "LoraLoaderModelOnly");
        assertThat(lora.path("lora_name").asText()).isEqualTo("Qwen-Image-Lightning-8steps-V1.0.safetensors");
        assertThat(lora.path("strength_model").asDouble()).isEqualTo(0.8);
        assertThat(link(lora.path("model"))).isEqualTo(idOf(w, "UNETLoader") + ":0");
        assertThat(link(node(w, "ModelSamplingAuraFlow").path("model"))).isEqualTo(idOf(w, "LoraLoaderModelOnly") + ":0");
        assertThat(node(w, "KSampler").path("cfg").asDouble()).isEqualTo(1.0);
        assertThat(node(w, "KSampler").path("steps").asInt()).isEqualTo(8);
    }

    @Test
    void aWorkflowFileHasItsPlaceholdersFilledNumbersAsNumbers() throws IOException {
        ObjectNode template = (ObjectNode) new QwenImageWorkflow(ComfyUiSettings.defaults())
                .build(request("x", 16, 16, 0, 1), " ");
        ((ObjectNode) template.path("6").path("inputs")).put("text", "{{prompt}}, in the style of a poster");
        ((ObjectNode) template.path("7").path("inputs")).put("text", "{{negative_prompt}}");
        ((ObjectNode) template.path("8").path("inputs")).put("width", "{{width}}").put("height", "{{height}}");
        ((ObjectNode) template.path("9").path("inputs")).put("seed", "{{seed}}").put("steps", "{{steps}}");
        ((ObjectNode) template.path("11").path("inputs")).put("filename_prefix", "custom/{{seed}}");
        Path file = dir.resolve("qwen-api.json");
        Files.writeString(file, template.toPrettyString());
        ComfyUiEngine engine = engine("workflow=" + file + "&steps=6");
        assertThat(engine.describe()).contains("workflow file " + file);
        assertThat(engine.defaultSteps()).isEqualTo(6);
        Steps steps = new Steps();

        GenerationResult result = engine.generate(new GenerationRequest("t", "a lighthouse", "", 320, 192, 77, 6), steps,
                new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(((GenerationResult.Success) result).image().getWidth()).isEqualTo(320);
        JsonNode w = fake.prompts().getFirst().path("prompt");
        assertThat(w.path("6").path("inputs").path("text").asText()).isEqualTo("a lighthouse, in the style of a poster");
        assertThat(w.path("7").path("inputs").path("text").asText()).isEqualTo(" ");
        assertThat(w.path("8").path("inputs").path("width").isInt()).isTrue();
        assertThat(w.path("8").path("inputs").path("width").asInt()).isEqualTo(320);
        assertThat(w.path("8").path("inputs").path("height").asInt()).isEqualTo(192);
        assertThat(w.path("9").path("inputs").path("seed").isIntegralNumber()).isTrue();
        assertThat(w.path("9").path("inputs").path("seed").asLong()).isEqualTo(77);
        assertThat(w.path("9").path("inputs").path("steps").asInt()).isEqualTo(6);
        assertThat(w.path("11").path("inputs").path("filename_prefix").asText()).isEqualTo("custom/77");
        assertThat(steps.seen).endsWith("6/6");
    }

    @Test
    void samplerStepsAreReportedAsProgress() {
        Steps steps = new Steps();

        GenerationResult result = engine("").generate(request("progress", 256, 256, 1, 5), steps, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(steps.seen).containsExactly("1/5", "2/5", "3/5", "4/5", "5/5");
    }

    @Test
    void aMissingModelFileIsAPermanentFailureCarryingComfyUisMessage() {
        fake.models("diffusion_models", "some_other_model.safetensors");

        GenerationResult result = engine("").generate(request("x", 256, 256, 1, 2), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.PermanentFailure.class);
        String reason = ((GenerationResult.PermanentFailure) result).reason();
        assertThat(reason).startsWith("comfyui at " + fake.url() + ": ComfyUI refused the workflow: Prompt outputs failed validation")
                .contains("UNETLoader (node 1): Value not in list: unet_name: 'qwen_image_fp8_e4m3fn.safetensors' not in "
                        + "['some_other_model.safetensors']")
                .contains("models/diffusion_models");
    }

    @Test
    void aMissingLoraIsNamedWithItsFolder() {
        GenerationResult result = engine("lora=nope.safetensors").generate(request("x", 256, 256, 1, 2), ProgressSink.NONE,
                new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.PermanentFailure.class);
        assertThat(((GenerationResult.PermanentFailure) result).reason())
                .contains("LoraLoaderModelOnly (node 4): Value not in list: lora_name: 'nope.safetensors'", "models/loras");
    }

    @Test
    void aNodeErrorDuringTheRunFailsWithComfyUisExceptionMessage() {
        fake.failNextJob(2, "RuntimeError", "mat1 and mat2 shapes cannot be multiplied (4096x3584 and 768x3072)");

        GenerationResult result = engine("").generate(request("x", 256, 256, 1, 4), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.PermanentFailure.class);
        assertThat(((GenerationResult.PermanentFailure) result).reason())
                .isEqualTo("comfyui at " + fake.url() + ": ComfyUI failed in KSampler (node 9): "
                        + "mat1 and mat2 shapes cannot be multiplied (4096x3584 and 768x3072)");
    }

    @Test
    void runningOutOfGpuMemoryIsTransient() {
        fake.failNextJob(1, "torch.OutOfMemoryError", "Allocation on device \nThis error means you ran out of memory on your GPU.");

        GenerationResult result = engine("").generate(request("x", 1024, 1024, 1, 4), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) result).reason())
                .contains("KSampler (node 9): Allocation on device This error means you ran out of memory", "out of GPU memory");
    }

    @Test
    void cancellingAWaitingPromptTakesItOffTheQueueAndInterruptsNobody() throws Exception {
        fake.stepDelay(Duration.ofMillis(20));
        String other = fake.enqueue(new QwenImageWorkflow(ComfyUiSettings.defaults()).build(request("someone else's", 256, 256, 9, 1000), " "),
                "another-client");
        fake.awaitState(other, FakeComfyUi.State.RUNNING);
        ComfyUiEngine engine = engine("");
        Cancellation cancellation = new Cancellation();

        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("mine", 256, 256, 1, 4), ProgressSink.NONE, cancellation), slots);
        FakeComfyUi.await(() -> fake.prompts().size() == 1, "our prompt to be submitted");
        String ours = fake.prompts().getFirst().path("prompt_id").asText();
        fake.awaitState(ours, FakeComfyUi.State.QUEUED);
        cancellation.cancel("cancelled by test");

        GenerationResult result = run.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(result).isEqualTo(new GenerationResult.Cancelled("cancelled by test"));
        assertThat(fake.deletes()).containsExactly(ours);
        assertThat(fake.interrupts()).isEmpty();
        assertThat(fake.state(ours)).isEqualTo(FakeComfyUi.State.UNKNOWN);
        assertThat(fake.state(other)).isEqualTo(FakeComfyUi.State.RUNNING);
    }

    @Test
    void cancellingARunningPromptInterruptsItByItsOwnId() throws Exception {
        fake.stepDelay(Duration.ofMillis(40));
        ComfyUiEngine engine = engine("");
        Cancellation cancellation = new Cancellation();
        Steps steps = new Steps();

        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("long", 256, 256, 1, 500), steps, cancellation), slots);
        FakeComfyUi.await(() -> steps.seen.size() >= 2, "the run to be under way");
        String ours = fake.prompts().getFirst().path("prompt_id").asText();
        String next = fake.enqueue(new QwenImageWorkflow(ComfyUiSettings.defaults()).build(request("next", 256, 256, 9, 3), " "),
                "another-client");
        cancellation.cancel("timed out");

        assertThat(run.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("timed out"));
        assertThat(fake.interrupts()).hasSize(1);
        assertThat(fake.interrupts().getFirst().path("prompt_id").asText()).isEqualTo(ours);
        fake.awaitState(ours, FakeComfyUi.State.DONE);
        assertThat(fake.historyEntry(ours).at("/status/messages").toString()).contains("execution_interrupted");
        fake.awaitState(next, FakeComfyUi.State.DONE);
        assertThat(fake.historyEntry(next).at("/status/status_str").asText()).as("the next prompt is untouched").isEqualTo("success");
    }

    @Test
    void aSubmissionWhoseAnswerIsLostDoesNotLeaveThePromptRunning() {
        fake.answerPromptsAfter(Duration.ofSeconds(2)).stepDelay(Duration.ofMillis(50));

        GenerationResult result = engine("request_timeout=500ms").generate(request("x", 256, 256, 1, 200), ProgressSink.NONE,
                new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) result).reason()).contains("did not answer in time (POST /prompt)");
        String ours = fake.prompts().getFirst().path("prompt_id").asText();
        assertThat(fake.deletes()).containsExactly(ours);
        assertThat(fake.interrupts()).extracting(b -> b.path("prompt_id").asText()).containsExactly(ours);
        fake.awaitState(ours, FakeComfyUi.State.DONE);
        assertThat(fake.historyEntry(ours).at("/status/messages").toString()).contains("execution_interrupted");
    }

    @Test
    void aCancellationBeforeSubmittingSendsNothing() {
        Cancellation cancellation = new Cancellation();
        cancellation.cancel("the service is shutting down");

        GenerationResult result = engine("").generate(request("x", 256, 256, 1, 4), ProgressSink.NONE, cancellation);

        assertThat(result).isEqualTo(new GenerationResult.Cancelled("the service is shutting down"));
        assertThat(fake.prompts()).isEmpty();
    }

    @Test
    void aPromptInterruptedBySomeoneElseIsTransient() throws Exception {
        fake.stepDelay(Duration.ofMillis(30));
        ComfyUiEngine engine = engine("");
        Steps steps = new Steps();

        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("x", 256, 256, 1, 300), steps, new Cancellation()), slots);
        FakeComfyUi.await(() -> !steps.seen.isEmpty(), "the run to be under way");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(fake.url() + "/interrupt"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);

        GenerationResult result = run.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(result).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) result).reason()).contains("ComfyUI interrupted the job");
    }

    @Test
    void aDroppedSocketIsReopenedAndAJobThatFinishedMeanwhileIsFetched() {
        fake.dropSocketInNextJob(2);
        ComfyUiEngine engine = engine("");
        Steps steps = new Steps();

        GenerationResult result = engine.generate(request("through a drop", 384, 256, 1, 6), steps, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(((GenerationResult.Success) result).image().getWidth()).isEqualTo(384);
        assertThat(steps.seen).as("progress before the drop").contains("1/6").doesNotContain("6/6");

        GenerationResult again = engine.generate(request("after", 256, 256, 2, 3), new Steps(), new Cancellation());
        assertThat(again).isInstanceOf(GenerationResult.Success.class);
        String clientId = fake.prompts().getFirst().path("client_id").asText();
        assertThat(fake.connections(clientId)).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aRestartThatLostThePromptIsATransientFailure() {
        fake.restartInNextJob(2);

        GenerationResult result = engine("").generate(request("x", 256, 256, 1, 5), ProgressSink.NONE, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) result).reason()).contains("ComfyUI lost the job (restarted?)");
    }

    @Test
    void aSlowModelLoadIsWaitedForNotTakenForAHang() {
        fake.slowStart(Duration.ofMillis(1500));
        Steps steps = new Steps();

        GenerationResult result = engine("poll_every=100ms").generate(request("x", 256, 256, 1, 3), steps, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        // the HTTP check may see the finished prompt a moment before the last progress message lands
        assertThat(List.of("1/3", "2/3", "3/3")).startsWith(steps.seen.toArray(String[]::new));
        assertThat(steps.seen).contains("1/3");
    }

    @Test
    void slotsShareOneSocketAndEachHearsOnlyItsOwnPrompt() throws Exception {
        fake.stepDelay(Duration.ofMillis(15));
        ComfyUiEngine engine = engine("slots=2");
        Steps a = new Steps();
        Steps b = new Steps();

        CompletableFuture<GenerationResult> first = CompletableFuture.supplyAsync(
                () -> engine.generate(request("a", 256, 256, 1, 3), a, new Cancellation()), slots);
        CompletableFuture<GenerationResult> second = CompletableFuture.supplyAsync(
                () -> engine.generate(request("b", 320, 256, 2, 5), b, new Cancellation()), slots);

        assertThat(first.get(20, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(GenerationResult.Success.class);
        GenerationResult r2 = second.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r2).isInstanceOf(GenerationResult.Success.class);
        assertThat(((GenerationResult.Success) r2).image().getWidth()).isEqualTo(320);
        assertThat(a.seen).containsExactly("1/3", "2/3", "3/3");
        assertThat(b.seen).containsExactly("1/5", "2/5", "3/5", "4/5", "5/5");
        assertThat(fake.clientIds()).hasSize(1);
        assertThat(fake.connections(fake.clientIds().iterator().next())).isEqualTo(1);
    }

    @Test
    void anOlderComfyUiThatNamesPromptsItselfStillWorks() {
        fake.older().stepDelay(Duration.ofMillis(20));
        Steps steps = new Steps();

        GenerationResult result = engine("").generate(request("old", 256, 256, 1, 6), steps, new Cancellation());

        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        assertThat(steps.seen).contains("6/6");
    }

    @Test
    void onAnOlderComfyUiCancellingAWaitingPromptStillLeavesTheRunningOneAlone() throws Exception {
        fake.older().stepDelay(Duration.ofMillis(20));
        String other = fake.enqueue(new QwenImageWorkflow(ComfyUiSettings.defaults()).build(request("theirs", 256, 256, 9, 1000), " "),
                "another-client");
        fake.awaitState(other, FakeComfyUi.State.RUNNING);
        ComfyUiEngine engine = engine("");
        Cancellation cancellation = new Cancellation();

        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("mine", 256, 256, 1, 4), ProgressSink.NONE, cancellation), slots);
        FakeComfyUi.await(() -> fake.pending().size() == 1, "our prompt to wait in the queue");
        String ours = fake.pending().getFirst();
        cancellation.cancel("cancelled");

        assertThat(run.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new GenerationResult.Cancelled("cancelled"));
        assertThat(fake.deletes()).as("deleted under the id ComfyUI gave it").containsExactly(ours);
        assertThat(fake.interrupts()).as("a global /interrupt would have stopped the other client's prompt").isEmpty();
        assertThat(fake.state(other)).isEqualTo(FakeComfyUi.State.RUNNING);
    }

    @Test
    void theProbeReportsTheGpuAndAnUnreachableComfyUiIsDown() throws IOException {
        EngineHealth up = engine("").probe();
        assertThat(up).isInstanceOf(EngineHealth.Up.class);
        assertThat(((EngineHealth.Up) up).detail()).isEqualTo("NVIDIA GeForce RTX 4090 (cuda:0), 24 GiB; ComfyUI 0.3.60");
        assertThat(ComfyUiEngine.deviceName("cpu")).isEqualTo("cpu");
        assertThat(ComfyUiEngine.deviceName("mps")).isEqualTo("mps");

        EngineHealth down = engine("http://127.0.0.1:" + freePort(), "").probe();
        assertThat(down).isInstanceOf(EngineHealth.Down.class);
        assertThat(((EngineHealth.Down) down).reason()).contains("not reachable");
    }

    @Test
    void aComfyUiThatIsDownFailsTransientlyAndWorksOnceItIsUp() throws IOException {
        int port = freePort();
        ComfyUiEngine engine = engine("http://127.0.0.1:" + port, "");

        GenerationResult before = engine.generate(request("x", 256, 256, 1, 2), ProgressSink.NONE, new Cancellation());
        assertThat(before).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) before).reason())
                .isEqualTo("comfyui at http://127.0.0.1:" + port + " could not open the WebSocket /ws: not reachable (connection refused)");
        assertThat(engine.probe()).isInstanceOf(EngineHealth.Down.class);

        FakeComfyUi late = started(FakeComfyUi.start(port));
        assertThat(engine.probe()).isInstanceOf(EngineHealth.Up.class);
        GenerationResult after = engine.generate(request("x", 256, 256, 1, 2), ProgressSink.NONE, new Cancellation());
        assertThat(after).isInstanceOf(GenerationResult.Success.class);
        assertThat(late.prompts()).hasSize(1);
    }

    @Test
    void aComfyUiThatGoesAwayForGoodEndsTheJobAfterTheReconnectTimeout() {
        fake.stepDelay(Duration.ofMillis(50));
        ComfyUiEngine engine = engine("reconnect_timeout=1s");
        Steps steps = new Steps();

        CompletableFuture<GenerationResult> run = CompletableFuture.supplyAsync(
                () -> engine.generate(request("x", 256, 256, 1, 400), steps, new Cancellation()), slots);
        FakeComfyUi.await(() -> !steps.seen.isEmpty(), "the run to be under way");
        fake.close();

        GenerationResult result = run.join();
        assertThat(result).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(((GenerationResult.TransientFailure) result).reason()).contains("stayed unreachable for over 1 s");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
