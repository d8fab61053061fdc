package dev.qwenimage.engine.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.InputImage;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.support.Pictures;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The openai engine's edits: {@code POST /v1/images/edits} as multipart/form-data against an
 * in-process server that parses the form as vLLM-Omni's handler does, the {@code edit} and
 * {@code edit_model} options, and how a refused, failed or unserved edit ends.
 */
class OpenAiImageEditsTest {
    private static final String EDIT_MODEL = "Qwen/Qwen-Image-Edit-2509";
    private static final byte[] INPUT = Pictures.png(1024, 768);

    private final List<FakeOpenAiImages> servers = new ArrayList<>();
    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void stop() {
        engines.forEach(Engine::close);
        servers.forEach(FakeOpenAiImages::close);
    }

    private FakeOpenAiImages server(String... models) {
        FakeOpenAiImages s = FakeOpenAiImages.serving(models);
        servers.add(s);
        return s;
    }

    /** The engine a config line {@code openai:<base>?<options>} makes. */
    private Engine engine(FakeOpenAiImages s, String options) {
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:" + s.base() + (options.isEmpty() ? "" : "?" + options))
                .getFirst();
        Engine e = Engines.create(spec, ServerConfig.of(Map.of()));
        engines.add(e);
        return e;
    }

    private static GenerationRequest edit(String prompt, long seed) {
        return new GenerationRequest("task-1", prompt, "", 1024, 768, seed, 20).editing(new InputImage(INPUT, 1024, 768));
    }

    private static GenerationResult run(Engine engine, GenerationRequest request) {
        return engine.generate(request, ProgressSink.NONE, new Cancellation());
    }

    @Test
    void anEditIsPostedAsMultipartFormDataWithTheInputAsAPngFilePartAndTheEditModel() {
        // given a server with both models behind a key, and an engine that edits with the edit model
        FakeOpenAiImages s = server("Qwen/Qwen-Image", EDIT_MODEL).requireKey("sk-edit-1");
        Engine engine = engine(s, "key=sk-edit-1&edit_model=" + EDIT_MODEL);

        // when it edits, and then draws from text
        GenerationResult edited = run(engine, edit("把天空变成紫色, make the sky purple", 42));
        GenerationResult drawn = run(engine, new GenerationRequest("task-2", "a kite", "", 512, 512, 1, 20));

        // then the edit's form carries OpenAI's fields, the edit model and the input PNG unchanged
        assertThat(edited).isInstanceOfSatisfying(GenerationResult.Success.class, ok -> {
            BufferedImage image = ok.image();
            assertThat(image.getWidth()).isEqualTo(1024);
            assertThat(image.getHeight()).isEqualTo(768);
            // the fake mirrors its input: the blue right half is now on the left
            int left = image.getRGB(100, 384);
            assertThat(left & 0xff).isGreaterThan((left >> 16) & 0xff);
        });
        FakeOpenAiImages.Edit sent = s.edits().getFirst();
        assertThat(sent.contentType()).startsWith("multipart/form-data; boundary=");
        assertThat(sent.fields()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "model", EDIT_MODEL, "prompt", "把天空变成紫色, make the sky purple", "n", "1", "size", "1024x768",
                "response_format", "b64_json"));
        assertThat(sent.filename()).isEqualTo("input.png");
        assertThat(sent.imageType()).isEqualTo("image/png");
        assertThat(sent.image()).isEqualTo(INPUT);
        // and text-to-image still goes to /images/generations with the generation model
        assertThat(drawn).isInstanceOf(GenerationResult.Success.class);
        assertThat(s.requests()).singleElement().satisfies(r -> assertThat(r.get("model").asText()).isEqualTo("Qwen/Qwen-Image"));
        assertThat(s.authorizations()).containsOnly("Bearer sk-edit-1");
    }

    @Test
    void theConfiguredExtensionsGoAsFormFieldsOnEditsToo() {
        FakeOpenAiImages s = server(EDIT_MODEL);
        Engine engine = engine(s, "model=" + EDIT_MODEL + "&edit=only&extras=vllm&true_cfg_scale=4.5");

        assertThat(run(engine, edit("add a red scarf", 20260101))).isInstanceOf(GenerationResult.Success.class);

        Map<String, String> fields = s.edits().getFirst().fields();
        assertThat(fields).containsEntry("model", EDIT_MODEL)
                .containsEntry("seed", "20260101")
                .containsEntry("num_inference_steps", "20")
                .containsEntry("true_cfg_scale", "4.5")
                // no negative prompt on the task: Qwen's recommended " ", which turns true CFG on
                .containsEntry("negative_prompt", " ");
        assertThat(s.requests()).as("nothing went to /images/generations").isEmpty();
    }

    @Test
    void aServerWithoutTheEditsRouteFailsTheEditPermanentlySayingItDoesNotServeEdits() {
        FakeOpenAiImages s = server("Qwen/Qwen-Image").withoutEdits();
        Engine engine = engine(s, "edit=true");

        GenerationResult result = run(engine, edit("add a hat", 1));

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .startsWith("openai at " + s.base() + " does not serve image edits")
                .contains("POST /v1/images/edits answered HTTP 404: Not Found")
                .contains("edit=false"));
    }

    @Test
    void anEditTheServerRefusesFailsPermanentlyWithTheServersOwnMessage() {
        FakeOpenAiImages s = server(EDIT_MODEL).failNext(400,
                "{\"detail\": \"Requested image size 1024x768 exceeds the maximum allowed size of 262144 pixels.\"}");
        Engine engine = engine(s, "model=" + EDIT_MODEL + "&edit=only");

        GenerationResult result = run(engine, edit("add a hat", 1));

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .contains("POST /v1/images/edits answered HTTP 400: Requested image size 1024x768 exceeds the maximum allowed "
                        + "size of 262144 pixels."));
    }

    @Test
    void aServerErrorADroppedConnectionOrATimeoutIsTransient() {
        FakeOpenAiImages s = server(EDIT_MODEL)
                .failNext(500, "{\"detail\": \"Image edit failed: CUDA out of memory\"}");
        Engine engine = engine(s, "model=" + EDIT_MODEL + "&edit=only");

        GenerationResult serverError = run(engine, edit("add a hat", 1));
        s.dropNext();
        GenerationResult dropped = run(engine, edit("add a hat", 1));
        s.delay(Duration.ofSeconds(5));
        OpenAiImagesEngine.Settings d = OpenAiImagesEngine.Settings.defaults();
        OpenAiImagesEngine impatient = new OpenAiImagesEngine("impatient", URI.create(s.base()), new OpenAiImagesEngine.Settings(
                EDIT_MODEL, Optional.empty(), Set.of(), 20, 4.0, "", Duration.ofMillis(10), Duration.ofMillis(300))
                .taking(Set.of(TaskKind.EDIT), EDIT_MODEL));
        GenerationResult slow = run(impatient, edit("add a hat", 1));

        assertThat(serverError).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("HTTP 500: Image edit failed: CUDA out of memory"));
        assertThat(dropped).isInstanceOf(GenerationResult.TransientFailure.class);
        assertThat(slow).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("did not answer in time (POST /v1/images/edits)"));
    }

    @Test
    void theEditOptionSaysWhatTheEngineTakesAndEditModelTurnsEditsOn() {
        FakeOpenAiImages s = server("Qwen/Qwen-Image");

        assertThat(engine(s, "").kinds()).containsExactly(TaskKind.TEXT_TO_IMAGE);
        assertThat(engine(s, "edit_model=" + EDIT_MODEL).kinds()).containsExactlyInAnyOrder(TaskKind.TEXT_TO_IMAGE, TaskKind.EDIT);
        assertThat(engine(s, "edit=true").kinds()).containsExactlyInAnyOrder(TaskKind.TEXT_TO_IMAGE, TaskKind.EDIT);
        assertThat(engine(s, "edit=only").kinds()).containsExactly(TaskKind.EDIT);
        assertThat(engine(s, "edit=false&edit_model=" + EDIT_MODEL).kinds()).containsExactly(TaskKind.TEXT_TO_IMAGE);
        assertThat(engine(s, "edit_model=" + EDIT_MODEL).describe()).contains("model Qwen/Qwen-Image, edits with " + EDIT_MODEL);
        assertThat(engine(s, "model=" + EDIT_MODEL + "&edit=only").describe()).contains("edits only, model " + EDIT_MODEL);
        assertThatThrownBy(() -> engine(s, "edit=maybe")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit must be true (text-to-image and edits), false (text-to-image only) or only (edits only)");
        assertThatThrownBy(() -> engine(s, "edit_modle=x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown option 'edit_modle' (did you mean edit_model?)");
    }

    @Test
    void anEngineIsNeverAskedForWhatItDoesNotTakeAndSaysSoIfItIs() {
        FakeOpenAiImages s = server("Qwen/Qwen-Image");

        GenerationResult edit = run(engine(s, ""), edit("add a hat", 1));
        GenerationResult draw = run(engine(s, "edit=only"), new GenerationRequest("t", "a kite", "", 512, 512, 1, 20));

        assertThat(edit).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class,
                f -> assertThat(f.reason()).contains("not configured for edits"));
        assertThat(draw).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class,
                f -> assertThat(f.reason()).contains("not configured for text-to-image"));
        assertThat(s.edits()).isEmpty();
        assertThat(s.requests()).isEmpty();
    }

    @Test
    void theHealthCheckLooksForTheModelOfEachKindTheEngineTakes() {
        FakeOpenAiImages editServer = server(EDIT_MODEL);
        FakeOpenAiImages textServer = server("Qwen/Qwen-Image");

        EngineHealth editOnly = engine(editServer, "model=" + EDIT_MODEL + "&edit=only").probe();
        EngineHealth bothOnAnEditServer = engine(editServer, "edit_model=" + EDIT_MODEL).probe();
        EngineHealth bothOnATextServer = engine(textServer, "edit_model=" + EDIT_MODEL).probe();

        assertThat(editOnly).isInstanceOfSatisfying(EngineHealth.Up.class,
                up -> assertThat(up.detail()).isEqualTo("serves " + EDIT_MODEL));
        assertThat(bothOnAnEditServer).isInstanceOfSatisfying(EngineHealth.Down.class, down -> assertThat(down.reason())
                .contains("does not serve model 'Qwen/Qwen-Image' (it serves " + EDIT_MODEL + ")"));
        assertThat(bothOnATextServer).isInstanceOfSatisfying(EngineHealth.Down.class, down -> assertThat(down.reason())
                .contains("does not serve the edit model '" + EDIT_MODEL + "' (it serves Qwen/Qwen-Image)")
                .contains("set edit_model=... on this engine, or edit=false if it makes no edits"));
    }
}
