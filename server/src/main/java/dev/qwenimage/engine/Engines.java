package dev.qwenimage.engine;

import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.comfyui.ComfyUiEngine;
import dev.qwenimage.engine.openai.OpenAiImagesEngine;
import dev.qwenimage.engine.ppio.PpioEngine;
import dev.qwenimage.engine.preview.PreviewEngine;
import dev.qwenimage.engine.sdcpp.SdCppEngine;
import java.util.Set;

/** Builds the engines the configuration names, one per {@link EngineSpec}. */
public final class Engines {
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
}
