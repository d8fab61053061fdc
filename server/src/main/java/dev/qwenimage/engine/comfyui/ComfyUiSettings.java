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
 */
public record ComfyUiSettings(String unet, String clip, String vae, String weightDtype, double shift, int steps,
                              double cfg, String sampler, String scheduler, double denoise, Optional<String> lora,
                              double loraStrength, String negativePrompt, String filenamePrefix,
                              Optional<WorkflowFile> workflow, Duration requestTimeout, Duration pollEvery,
                              Duration reconnectTimeout) {

    public static final String DEFAULT_UNET = "qwen_image_fp8_e4m3fn.safetensors";
    public static final String DEFAULT_CLIP = "qwen_2.5_vl_7b_fp8_scaled.safetensors";
    public static final String DEFAULT_VAE = "qwen_image_vae.safetensors";
    /** Qwen-Image's recommended negative prompt when the request gives none: a single space. */
    public static final String DEFAULT_NEGATIVE = " ";
    /** UNETLoader's weight_dtype choices (ComfyUI nodes.py). */
    static final List<String> WEIGHT_DTYPES = List.of("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2");

    /** Options that shape the built-in workflow only; a workflow file sets these itself. */
    private static final List<String> BUILT_IN_ONLY = List.of("unet", "clip", "vae", "weight_dtype", "shift", "cfg",
            "sampler", "scheduler", "denoise", "lora", "lora_strength", "filename_prefix");
    private static final Set<String> KNOWN = Set.of("unet", "clip", "vae", "weight_dtype", "shift", "steps", "cfg",
            "sampler", "scheduler", "denoise", "lora", "lora_strength", "negative_prompt", "workflow",
            "filename_prefix", "request_timeout", "poll_every", "reconnect_timeout");

    /** The built-in workflow with every default: what {@code comfyui:http://host:8188} alone runs. */
    public static ComfyUiSettings defaults() {
        return new ComfyUiSettings(DEFAULT_UNET, DEFAULT_CLIP, DEFAULT_VAE, "default", 3.1, 20, 2.5, "euler", "simple",
                1.0, Optional.empty(), 1.0, DEFAULT_NEGATIVE, "qwen-image", Optional.empty(), Duration.ofSeconds(30),
                Duration.ofSeconds(15), Duration.ofSeconds(60));
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
                workflow, requestTimeout, pollEvery, reconnectTimeout);
    }

    private static Duration positive(EngineSpec spec, String key, Duration fallback) {
        Duration d = spec.durationOption(key, fallback);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(spec.where() + ": " + key + " must be longer than zero");
        }
        return d;
    }
}
