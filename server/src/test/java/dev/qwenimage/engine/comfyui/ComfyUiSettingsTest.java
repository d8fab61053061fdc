package dev.qwenimage.engine.comfyui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.InputImage;
import dev.qwenimage.engine.TaskKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comfyui entry of QWEN_IMAGE_ENGINES: its options, their defaults, and the start-up checks of a workflow file. */
class ComfyUiSettingsTest {
    @TempDir
    Path dir;

    private static EngineSpec spec(String options) {
        return EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "comfyui:http://gpu1:8188" + (options.isEmpty() ? "" : "?" + options)).getFirst();
    }

    private static ComfyUiSettings settings(String options) {
        return ComfyUiSettings.from(spec(options));
    }

    private Path file(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    private static final String GOOD = """
            {"3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "steps": "{{steps}}", "cfg": 2.5,
                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0, "model": ["4", 0],
                   "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
             "4": {"class_type": "UNETLoader", "inputs": {"unet_name": "qwen_image_fp8_e4m3fn.safetensors", "weight_dtype": "default"}},
             "5": {"class_type": "EmptySD3LatentImage", "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}", "clip": ["8", 0]}},
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{negative_prompt}}", "clip": ["8", 0]}},
             "8": {"class_type": "CLIPLoader", "inputs": {"clip_name": "qwen_2.5_vl_7b_fp8_scaled.safetensors", "type": "qwen_image"}},
             "9": {"class_type": "PreviewImage", "inputs": {"images": ["10", 0]}},
             "10": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["11", 0]}},
             "11": {"class_type": "VAELoader", "inputs": {"vae_name": "qwen_image_vae.safetensors"}},
             "12": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "q"}}}
            """;

    @Test
    void anEntryWithOnlyAUrlRunsTheNativeWorkflowWithItsDefaults() {
        ComfyUiSettings s = settings("");
        assertThat(s).isEqualTo(ComfyUiSettings.defaults());
        assertThat(s.unet()).isEqualTo("qwen_image_fp8_e4m3fn.safetensors");
        assertThat(s.clip()).isEqualTo("qwen_2.5_vl_7b_fp8_scaled.safetensors");
        assertThat(s.vae()).isEqualTo("qwen_image_vae.safetensors");
        assertThat(s.steps()).isEqualTo(20);
        assertThat(s.cfg()).isEqualTo(2.5);
        assertThat(s.shift()).isEqualTo(3.1);
        assertThat(s.negativePrompt()).isEqualTo(" ");
        assertThat(s.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theFactoryBuildsTheEngineAndItsBannerLineNamesWhereAndWhat() {
        try (Engine engine = Engines.create(spec("name=gpu1&steps=8&cfg=1&lora=Qwen-Image-Lightning-8steps-V1.0.safetensors&edit=true"),
                ServerConfig.of(Map.of()))) {
            assertThat(engine).isInstanceOf(ComfyUiEngine.class);
            assertThat(engine.name()).isEqualTo("gpu1");
            assertThat(engine.defaultSteps()).isEqualTo(8);
            assertThat(engine.describe()).isEqualTo("comfyui at http://gpu1:8188 (native Qwen-Image workflow: "
                    + "qwen_image_fp8_e4m3fn.safetensors + LoRA Qwen-Image-Lightning-8steps-V1.0.safetensors @1.0, 8 steps, "
                    + "cfg 1.0, euler/simple, shift 3.1; edits: native Qwen-Image-Edit workflow (plus): "
                    + "qwen_image_edit_2509_fp8_e4m3fn.safetensors, 20 steps, cfg 2.5, shift 3.0)");
            assertThat(engine.kinds()).containsExactlyInAnyOrder(TaskKind.TEXT_TO_IMAGE, TaskKind.EDIT);
            assertThat(engine.defaultSteps(TaskKind.EDIT)).isEqualTo(20);
        }
        for (String textOnly : List.of("edit=false", "steps=8")) {
            try (Engine engine = Engines.create(spec(textOnly), ServerConfig.of(Map.of()))) {
                assertThat(engine.kinds()).as(textOnly).containsExactly(TaskKind.TEXT_TO_IMAGE);
                assertThat(engine.describe()).endsWith("; edits: off)");
            }
        }
        assertThat(spec("").timeLimit()).isEqualTo(EngineSpec.DEFAULT_GPU_TIMEOUT);
    }

    @Test
    void aNegativePromptOptionMayBeSetOrEmptied() {
        assertThat(settings("negative_prompt=low+quality%2C+blurry").negativePrompt()).isEqualTo("low quality, blurry");
        assertThat(settings("negative_prompt=").negativePrompt()).isEmpty();
    }

    @Test
    void aTypoInAnOptionNameStopsTheStart() {
        assertThatThrownBy(() -> settings("stpes=8")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown option 'stpes'").hasMessageContaining("lora_strength");
    }

    @Test
    void optionValuesAreChecked() {
        assertThatThrownBy(() -> settings("weight_dtype=int4")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("weight_dtype must be one of default, fp8_e4m3fn, fp8_e4m3fn_fast, fp8_e5m2");
        assertThatThrownBy(() -> settings("lora_strength=0.5")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("lora_strength needs lora=");
        assertThatThrownBy(() -> settings("denoise=2")).isInstanceOf(ConfigException.class).hasMessageContaining("denoise");
        assertThatThrownBy(() -> settings("steps=0")).isInstanceOf(ConfigException.class).hasMessageContaining("steps");
        assertThatThrownBy(() -> settings("poll_every=0s")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("poll_every must be longer than zero");
    }

    @Test
    void aGoodWorkflowFileIsReadOnceWithItsSaveAndSamplerNodes() throws IOException {
        Path f = file("ok.json", GOOD);
        WorkflowFile w = settings("workflow=" + f + "&steps=12").workflow().orElseThrow();
        assertThat(w.imageNodes()).as("SaveImage before PreviewImage").containsExactly("12", "9");
        assertThat(w.samplerNodes()).containsExactly("3");

        JsonNode built = w.build(new GenerationRequest("t", "a \"quoted\" prompt", "", 1328, 1328, 5, 12), " ");
        assertThat(built.at("/6/inputs/text").asText()).isEqualTo("a \"quoted\" prompt");
        assertThat(built.at("/7/inputs/text").asText()).isEqualTo(" ");
        assertThat(built.at("/3/inputs/seed").isIntegralNumber()).isTrue();
        assertThat(built.at("/5/inputs/width").asInt()).isEqualTo(1328);
        JsonNode again = w.build(new GenerationRequest("t", "other", "", 512, 512, 6, 12), " ");
        assertThat(again.at("/6/inputs/text").asText()).as("the template itself is untouched").isEqualTo("other");
    }

    @Test
    void workflowFileMistakesStopTheStartNamingTheFile() throws IOException {
        assertThatThrownBy(() -> settings("workflow=" + dir.resolve("missing.json"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("workflow file " + dir.resolve("missing.json") + " does not exist");
        Path notJson = file("broken.json", "{\"3\": ");
        assertThatThrownBy(() -> settings("workflow=" + notJson)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(notJson + " is not valid JSON");
        Path ui = file("ui.json", "{\"last_node_id\": 9, \"nodes\": [], \"links\": []}");
        assertThatThrownBy(() -> settings("workflow=" + ui)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("UI format").hasMessageContaining("Export (API)");
        Path noSave = file("nosave.json", GOOD.replace("\"SaveImage\"", "\"Note\"").replace("\"PreviewImage\"", "\"Note\""));
        assertThatThrownBy(() -> settings("workflow=" + noSave)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(noSave + " has no SaveImage node");
        Path typo = file("typo.json", GOOD.replace("{{seed}}", "{{sead}}"));
        assertThatThrownBy(() -> settings("workflow=" + typo)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown placeholder {{sead}}");
        Path noPrompt = file("noprompt.json", GOOD.replace("{{prompt}}", "a fixed text"));
        assertThatThrownBy(() -> settings("workflow=" + noPrompt)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("no {{prompt}} placeholder");
        Path dangling = file("dangling.json", GOOD.replace("[\"11\", 0]", "[\"99\", 0]"));
        assertThatThrownBy(() -> settings("workflow=" + dangling)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("links to node '99', which is not in the file");
        Path notNodes = file("array.json", "[1, 2]");
        assertThatThrownBy(() -> settings("workflow=" + notNodes)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("must be a JSON object of nodes");
    }

    @Test
    void optionsOfTheNativeWorkflowAreRefusedBesideAWorkflowFile() throws IOException {
        Path f = file("ok.json", GOOD);
        assertThatThrownBy(() -> settings("workflow=" + f + "&unet=x.safetensors&cfg=3")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unet, cfg would have no effect with workflow=");
    }

    private static final String EDIT = """
            {"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
             "2": {"class_type": "TextEncodeQwenImageEditPlus", "inputs": {"prompt": "{{prompt}}", "image1": ["1", 0]}},
             "3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "steps": "{{steps}}", "positive": ["2", 0]}},
             "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}}}
            """;

    @Test
    void editsAreOnWhenAskedForWithComfyUisQwenImageEdit2509AndTheirOwnSettings() {
        assertThat(settings("").edit().enabled()).as("a ComfyUI given no edit settings is not assumed to have an edit model")
                .isFalse();
        assertThat(settings("edit_steps=4").edit().enabled()).as("an edit option says it edits").isTrue();
        ComfyUiSettings.Edit e = settings("edit=true").edit();
        assertThat(e).isEqualTo(ComfyUiSettings.Edit.defaults());
        assertThat(e.enabled()).isTrue();
        assertThat(e.model()).isEqualTo("qwen_image_edit_2509_fp8_e4m3fn.safetensors");
        assertThat(e.variant()).isEqualTo(ComfyUiSettings.EditVariant.PLUS);
        assertThat(e.steps()).isEqualTo(20);
        assertThat(e.cfg()).isEqualTo(2.5);
        assertThat(e.shift()).isEqualTo(3.0);

        ComfyUiSettings.Edit lightning = settings("edit_lora=L.safetensors&edit_lora_strength=0.8&edit_steps=4&edit_cfg=1"
                + "&edit_shift=2.5&edit_variant=classic&edit_model=qwen_image_edit_fp8_e4m3fn.safetensors").edit();
        assertThat(lightning.lora()).hasValue("L.safetensors");
        assertThat(lightning.loraStrength()).isEqualTo(0.8);
        assertThat(lightning.steps()).isEqualTo(4);
        assertThat(lightning.cfg()).isEqualTo(1.0);
        assertThat(lightning.shift()).isEqualTo(2.5);
        assertThat(lightning.variant()).isEqualTo(ComfyUiSettings.EditVariant.CLASSIC);
        assertThat(lightning.model()).isEqualTo("qwen_image_edit_fp8_e4m3fn.safetensors");
    }

    @Test
    void editOptionsAreCheckedAtStartUp() {
        assertThatThrownBy(() -> settings("edit=false&edit_steps=4")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit_steps would have no effect with edit=false");
        assertThatThrownBy(() -> settings("edit_variant=2509")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit_variant must be plus").hasMessageContaining("or classic");
        assertThatThrownBy(() -> settings("edit_lora_strength=0.5")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit_lora_strength needs edit_lora=");
        assertThatThrownBy(() -> settings("edit=maybe")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit must be true or false");
    }

    @Test
    void aTextWorkflowFileTurnsEditsOffUnlessAnEditWorkflowFileComesWithIt() throws IOException {
        Path text = file("ok.json", GOOD);
        Path edit = file("edit.json", EDIT);

        assertThat(settings("workflow=" + text).edit().enabled()).isFalse();
        assertThatThrownBy(() -> settings("workflow=" + text + "&edit=true")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("give your edit workflow as edit_workflow=<file>");
        ComfyUiSettings both = settings("workflow=" + text + "&edit_workflow=" + edit + "&edit_steps=6");
        assertThat(both.edit().enabled()).isTrue();
        assertThat(both.edit().steps()).isEqualTo(6);
        assertThatThrownBy(() -> settings("edit_workflow=" + edit + "&edit_model=x.safetensors")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit_model would have no effect with edit_workflow=");
    }

    @Test
    void anEditWorkflowFileFillsTheUploadedImageNameAndMustTakeIt() throws IOException {
        WorkflowFile w = settings("edit_workflow=" + file("edit.json", EDIT)).edit().workflow().orElseThrow();
        GenerationRequest request = new GenerationRequest("t", "add a hat", "", 512, 512, 5, 4)
                .editing(new InputImage(new byte[] {1}, 512, 512));

        JsonNode built = w.build(request, " ", java.util.Optional.of("qwen-image-edit_t.png"));

        assertThat(built.at("/1/inputs/image").asText()).isEqualTo("qwen-image-edit_t.png");
        assertThat(built.at("/2/inputs/prompt").asText()).isEqualTo("add a hat");
        assertThat(built.at("/3/inputs/steps").asInt()).isEqualTo(4);
        Path noImage = file("noimage.json", EDIT.replace("{{image}}", "fixed.png"));
        assertThatThrownBy(() -> settings("edit_workflow=" + noImage)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit workflow file " + noImage + " has no {{image}} placeholder");
        Path imageInText = file("text-with-image.json", GOOD.replace("\"q\"", "\"{{image}}\""));
        assertThatThrownBy(() -> settings("workflow=" + imageInText)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown placeholder {{image}}").hasMessageContaining("belongs in an edit_workflow= file");
    }
}
