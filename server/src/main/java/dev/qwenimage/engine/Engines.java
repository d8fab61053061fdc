package dev.qwenimage.engine;

import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.preview.PreviewEngine;

/** Builds the engine the configuration names. */
public final class Engines {
    private Engines() {
    }

    public static Engine create(ServerConfig config) {
        return switch (config.engine()) {
            case "preview" -> new PreviewEngine(config.previewSteps(), config.previewStepDelay());
            default -> throw new IllegalArgumentException("unknown engine " + config.engine());
        };
    }
}
