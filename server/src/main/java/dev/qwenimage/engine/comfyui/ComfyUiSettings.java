package dev.qwenimage.engine.comfyui;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.engine.EngineSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The comfyui engine's own options, read from its {@code QWEN_IMAGE_ENGINES} entry and checked at
 * start-up, so that a typo or a bad workflow file stops the service with a message instead of
 * failing every task later.
 *
 * @param workflow     the user's API-format workflow, or empty for the built-in Qwen-Image one
 * @param requestTimeout limit of every plain HTTP call to ComfyUI
 * @param pollEvery    how often a running job is also checked over HTTP, in case WebSocket messages are lost
 * @param reconnectTimeout how long ComfyUI may stay unreachable during a job before the job is given up
 * @param edit         whether and how the engine runs Qwen-Image-Edit tasks
 */
public record ComfyUiSettings(String unet, String clip, String vae, String weightDtype, double shift, int steps,
                              double cfg, String sampler, String scheduler, double denoise, Optional<String> lora,
                              double loraStrength, String negativePrompt, String filenamePrefix,
                              Optional<WorkflowFile> workflow, Duration requestTimeout, Duration pollEvery,
                              Duration reconnectTimeout, Edit edit) {

    /** Which of ComfyUI's Qwen-Image-Edit text encoders the built-in edit workflow uses (comfy_extras/nodes_qwen.py). */
    public enum EditVariant {
        /** TextEncodeQwenImageEditPlus, input {@code image1}: for Qwen-Image-Edit 2509 and 2511. */
        PLUS("plus", "TextEncodeQwenImageEditPlus", "image1"),
        /** TextEncodeQwenImageEdit, input {@code image}: for the first Qwen-Image-Edit. */
        CLASSIC("classic", "TextEncodeQwenImageEdit", "image");

        private final String option;
        private final String encoder;
        private final String imageInput;

        EditVariant(String option, String encoder, String imageInput) {
            this.option = option;
            this.encoder = encoder;
            this.imageInput = imageInput;
        }

        public String option() {
            return option;
        }

        /** The text encoder node's class_type. */
        public String encoder() {
            return encoder;
        }

        /** The encoder's input that takes the picture to edit. */
        public String imageInput() {
            return imageInput;
        }
    }

    /**
     * How the engine runs edits: not at all, with ComfyUI's native Qwen-Image-Edit workflow (the
     * model, LoRA and sampler settings below; clip, vae, weight_dtype, sampler, scheduler, denoise
     * and filename_prefix are shared with text-to-image), or with the user's edit workflow file.
     */
    public record Edit(boolean enabled, String model, EditVariant variant, Optional<String> lora, double loraStrength,
                       int steps, double cfg, double shift, Optional<WorkflowFile> workflow) {
        public static Edit defaults() {
            return new Edit(true, DEFAULT_EDIT_MODEL, EditVariant.PLUS, Optional.empty(), 1.0, 20, 2.5, 3.0, Optional.empty());
        }

        static Edit off() {
            Edit d = defaults();
            return new Edit(false, d.model(), d.variant(), d.lora(), d.loraStrength(), d.steps(), d.cfg(), d.shift(), Optional.empty());
        }
    }

    public static final String DEFAULT_UNET = "qwen_image_fp8_e4m3fn.safetensors";
    public static final String DEFAULT_CLIP = "qwen_2.5_vl_7b_fp8_scaled.safetensors";
    public static final String DEFAULT_VAE = "qwen_image_vae.safetensors";
    /** ComfyUI's Qwen-Image-Edit 2509 in fp8 (Comfy-Org/Qwen-Image-Edit_ComfyUI). */
    public static final String DEFAULT_EDIT_MODEL = "qwen_image_edit_2509_fp8_e4m3fn.safetensors";
    /** Qwen-Image's recommended negative prompt when the request gives none: a single space. */
    public static final String DEFAULT_NEGATIVE = " ";
    /** UNETLoader's weight_dtype choices (ComfyUI nodes.py). */
    static final List<String> WEIGHT_DTYPES = List.of("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2");

    /** Options that shape the built-in workflow only; a workflow file sets these itself. */
    private static final List<String> BUILT_IN_ONLY = List.of("unet", "clip", "vae", "weight_dtype", "shift", "cfg",
            "sampler", "scheduler", "denoise", "lora", "lora_strength", "filename_prefix");
    private static final Set<String> KNOWN = Set.of("unet", "clip", "vae", "weight_dtype", "shift", "steps", "cfg",
            "sampler", "scheduler", "denoise", "lora", "lora_strength", "negative_prompt", "workflow",
            "filename_prefix", "request_timeout", "poll_every", "reconnect_timeout",
            "edit", "edit_model", "edit_variant", "edit_lora", "edit_lora_strength", "edit_steps", "edit_cfg", "edit_shift",
            "edit_workflow");
    /** Options that shape the built-in edit workflow only; an edit workflow file sets these itself. */
    private static final List<String> EDIT_BUILT_IN_ONLY = List.of("edit_model", "edit_variant", "edit_lora",
            "edit_lora_strength", "edit_cfg", "edit_shift");

    /** The built-in workflow with every default: what {@code comfyui:http://host:8188} alone runs. */
    public static ComfyUiSettings defaults() {
        return new ComfyUiSettings(DEFAULT_UNET, DEFAULT_CLIP, DEFAULT_VAE, "default", 3.1, 20, 2.5, "euler", "simple",
                1.0, Optional.empty(), 1.0, DEFAULT_NEGATIVE, "qwen-image", Optional.empty(), Duration.ofSeconds(30),
                Duration.ofSeconds(15), Duration.ofSeconds(60), Edit.off()); // edits only when the entry asks for them
    }

    public static ComfyUiSettings from(EngineSpec spec) {
        spec.requireOnly(KNOWN);
        String where = spec.where();
        Optional<WorkflowFile> workflow = spec.option("workflow").map(p -> WorkflowFile.load(Path.of(p), where));
        if (workflow.isPresent()) {
            List<String> ignored = new ArrayList<>();
            for (String k : BUILT_IN_ONLY) {
                if (spec.options().containsKey(k)) {
                    ignored.add(k);
                }
            }
            if (!ignored.isEmpty()) {
                throw new ConfigException(where + ": " + String.join(", ", ignored) + " would have no effect with workflow=; "
                        + "set them in the workflow file instead");
            }
        }
        if (spec.option("lora_strength").isPresent() && spec.option("lora").isEmpty()) {
            throw new ConfigException(where + ": lora_strength needs lora=<file in ComfyUI's models/loras>");
        }
        String weightDtype = spec.option("weight_dtype", "default");
        if (!WEIGHT_DTYPES.contains(weightDtype)) {
            throw new ConfigException(where + ": weight_dtype must be one of " + String.join(", ", WEIGHT_DTYPES)
                    + ", got '" + weightDtype + "'");
        }
        ComfyUiSettings d = defaults();
        Duration requestTimeout = positive(spec, "request_timeout", d.requestTimeout());
        Duration pollEvery = positive(spec, "poll_every", d.pollEvery());
        Duration reconnectTimeout = positive(spec, "reconnect_timeout", d.reconnectTimeout());
        return new ComfyUiSettings(
                spec.option("unet", d.unet()), spec.option("clip", d.clip()), spec.option("vae", d.vae()), weightDtype,
                spec.doubleOption("shift", d.shift(), 0, 100),
                spec.intOption("steps", d.steps(), 1, 10_000),
                spec.doubleOption("cfg", d.cfg(), 0, 100),
                spec.option("sampler", d.sampler()), spec.option("scheduler", d.scheduler()),
                spec.doubleOption("denoise", d.denoise(), 0, 1),
                spec.option("lora"), spec.doubleOption("lora_strength", d.loraStrength(), -100, 100),
                // a blank value is meaningful here (Qwen-Image's own default is one space), so read it raw
                spec.options().containsKey("negative_prompt") ? spec.options().get("negative_prompt") : d.negativePrompt(),
                spec.option("filename_prefix", d.filenamePrefix()),
                workflow, requestTimeout, pollEvery, reconnectTimeout, edit(spec, workflow.isPresent()));
    }

    /**
     * The edit settings. Edits are on when the entry says so: {@code edit=true}, or any {@code edit_*}
     * option (an edit model, LoRA, workflow file...). A ComfyUI that was only given text-to-image
     * settings is not assumed to have an edit model: declaring edits it cannot run would take them
     * from engines that can, and fail each at ComfyUI's /prompt. Beside a text-to-image
     * {@code workflow=} file, edits need an {@code edit_workflow=} file too (the built-in one would
     * ignore that file's models).
     */
    private static Edit edit(EngineSpec spec, boolean textWorkflowFile) {
        String where = spec.where();
        Optional<WorkflowFile> file = spec.option("edit_workflow").map(p -> WorkflowFile.loadEdit(Path.of(p), where));
        boolean anyEditOption = spec.options().keySet().stream().anyMatch(k -> k.startsWith("edit_"));
        boolean enabled = spec.booleanOption("edit", file.isPresent() || anyEditOption);
        List<String> given = new ArrayList<>();
        for (String k : KNOWN) {
            if (k.startsWith("edit_") && spec.options().containsKey(k)) {
                given.add(k);
            }
        }
        if (!enabled) {
            if (!given.isEmpty()) {
                throw new ConfigException(where + ": " + String.join(", ", given) + " would have no effect with edit=false");
            }
            return Edit.off();
        }
        if (textWorkflowFile && file.isEmpty()) {
            throw new ConfigException(where + ": with workflow= the built-in edit workflow is not used; give your edit "
                    + "workflow as edit_workflow=<file> (with an {{image}} placeholder), or leave edit= out to serve text-to-image only");
        }
        if (file.isPresent()) {
            List<String> ignored = given.stream().filter(EDIT_BUILT_IN_ONLY::contains).toList();
            if (!ignored.isEmpty()) {
                throw new ConfigException(where + ": " + String.join(", ", ignored) + " would have no effect with edit_workflow=; "
                        + "set them in the edit workflow file instead");
            }
        }
        if (spec.option("edit_lora_strength").isPresent() && spec.option("edit_lora").isEmpty()) {
            throw new ConfigException(where + ": edit_lora_strength needs edit_lora=<file in ComfyUI's models/loras>");
        }
        String variantName = spec.option("edit_variant", EditVariant.PLUS.option());
        EditVariant variant = java.util.Arrays.stream(EditVariant.values()).filter(v -> v.option().equals(variantName))
                .findFirst().orElseThrow(() -> new ConfigException(where + ": edit_variant must be plus (Qwen-Image-Edit "
                        + "2509/2511: TextEncodeQwenImageEditPlus) or classic (the first Qwen-Image-Edit: TextEncodeQwenImageEdit), got '"
                        + variantName + "'"));
        Edit d = Edit.defaults();
        return new Edit(true, spec.option("edit_model", d.model()), variant, spec.option("edit_lora"),
                spec.doubleOption("edit_lora_strength", d.loraStrength(), -100, 100),
                spec.intOption("edit_steps", d.steps(), 1, 10_000),
                spec.doubleOption("edit_cfg", d.cfg(), 0, 100),
                spec.doubleOption("edit_shift", d.shift(), 0, 100),
                file);
    }

    private static Duration positive(EngineSpec spec, String key, Duration fallback) {
        Duration d = spec.durationOption(key, fallback);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(spec.where() + ": " + key + " must be longer than zero");
        }
        return d;
    }
}
