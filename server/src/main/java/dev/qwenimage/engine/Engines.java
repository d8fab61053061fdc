package dev.qwenimage.engine;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.comfyui.ComfyUiEngine;
import dev.qwenimage.engine.openai.OpenAiImagesEngine;
import dev.qwenimage.engine.ppio.PpioEngine;
import dev.qwenimage.engine.preview.PreviewEngine;
import dev.qwenimage.engine.sdcpp.SdCppEngine;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/** Builds the engines the configuration names, one per {@link EngineSpec}. */
public final class Engines {
    /** Longest a GPU engine may take for one image unless its entry sets {@code timeout=}. */
    public static final Duration DEFAULT_GPU_TIMEOUT = Duration.ofMinutes(10);

    private Engines() {
    }

    public static Engine create(EngineSpec spec, ServerConfig config) {
        return switch (spec.kind()) {
            case "preview" -> {
                spec.requireOnly(Set.of("steps", "step_delay"));
                yield new PreviewEngine(spec.name(), spec.intOption("steps", config.previewSteps(), 1, 1000),
                        spec.durationOption("step_delay", config.previewStepDelay()));
            }
            case "comfyui" -> ComfyUiEngine.of(spec);
            case "sdcpp" -> sdcpp(spec);
            case "openai" -> openai(spec);
            case "ppio" -> PpioEngine.from(spec);
            default -> throw new IllegalStateException("EngineSpec accepted an engine kind with no factory: " + spec.kind());
        };
    }

    private static SdCppEngine sdcpp(EngineSpec spec) {
        spec.requireOnly(Set.of("steps", "cfg_scale", "sampler", "scheduler", "flow_shift", "negative_prompt", "poll", "grace",
                "step_time"));
        SdCppEngine.Settings d = SdCppEngine.Settings.defaults();
        OptionalDouble flowShift = d.flowShift();
        Optional<String> shift = spec.option("flow_shift");
        if (shift.isPresent()) {
            flowShift = shift.get().equalsIgnoreCase("auto") ? OptionalDouble.empty()
                    : OptionalDouble.of(spec.doubleOption("flow_shift", 3, 0, 100));
        }
        return new SdCppEngine(spec.name(), spec.requireUrl(), new SdCppEngine.Settings(
                spec.intOption("steps", d.steps(), 1, 1000),
                spec.doubleOption("cfg_scale", d.cfgScale(), 0, 100),
                spec.option("sampler", d.sampler()),
                spec.option("scheduler"),
                flowShift,
                spec.option("negative_prompt", d.negativePrompt()),
                positive(spec, "poll", d.poll()),
                positive(spec, "grace", d.grace()),
                positive(spec, "step_time", d.stepTime())));
    }

    private static OpenAiImagesEngine openai(EngineSpec spec) {
        spec.requireOnly(Set.of("model", "key", "extras", "steps", "true_cfg_scale", "negative_prompt", "step_time"));
        OpenAiImagesEngine.Settings d = OpenAiImagesEngine.Settings.defaults();
        Set<OpenAiImagesEngine.Extra> extras;
        try {
            extras = OpenAiImagesEngine.Extra.parse(spec.option("extras", "none"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(spec.where() + ": extras: " + e.getMessage());
        }
        Duration limit = timeoutOf(spec);
        return new OpenAiImagesEngine(spec.name(), spec.requireUrl(), new OpenAiImagesEngine.Settings(
                spec.option("model", d.model()),
                spec.option("key"),
                extras,
                spec.intOption("steps", d.steps(), 1, 1000),
                spec.doubleOption("true_cfg_scale", d.trueCfgScale(), 0, 100),
                spec.option("negative_prompt", d.negativePrompt()),
                positive(spec, "step_time", d.stepTime()),
                // the call may last as long as the task may; the task's own limit stops it first
                limit.isZero() ? Duration.ofHours(1) : limit.plusSeconds(30)));
    }

    private static Duration positive(EngineSpec spec, String key, Duration fallback) {
        Duration d = spec.durationOption(key, fallback);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(spec.where() + ": " + key + " must be longer than 0, got '" + spec.option(key, "") + "'");
        }
        return d;
    }

    /** The time limit per image: the entry's {@code timeout=}, else none for the CPU preview and 10 minutes for GPU engines. */
    public static Duration timeoutOf(EngineSpec spec) {
        return spec.timeout().orElse(spec.kind().equals("preview") ? Duration.ZERO : DEFAULT_GPU_TIMEOUT);
    }
}
