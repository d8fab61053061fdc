package dev.qwenimage.engine;

import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.comfyui.ComfyUiEngine;
import dev.qwenimage.engine.openai.OpenAiImagesEngine;
import dev.qwenimage.engine.ppio.PpioEngine;
import dev.qwenimage.engine.preview.PreviewEngine;
import dev.qwenimage.engine.sdcpp.SdCppEngine;
import java.time.Duration;
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
            case "sdcpp" -> SdCppEngine.from(spec);
            case "openai" -> OpenAiImagesEngine.from(spec);
            case "ppio" -> PpioEngine.from(spec);
            default -> throw new IllegalStateException("EngineSpec accepted an engine kind with no factory: " + spec.kind());
        };
    }

    /** The time limit per image: the entry's {@code timeout=}, else none for the CPU preview and 10 minutes for GPU engines. */
    public static Duration timeoutOf(EngineSpec spec) {
        return spec.timeout().orElse(spec.kind().equals("preview") ? Duration.ZERO : DEFAULT_GPU_TIMEOUT);
    }
}
