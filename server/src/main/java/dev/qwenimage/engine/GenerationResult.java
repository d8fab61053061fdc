package dev.qwenimage.engine;

import java.awt.image.BufferedImage;

/** The outcome of one {@link Engine#generate} call: an image, a typed failure or a cancellation. */
public sealed interface GenerationResult {

    /** The engine produced an image (any size; the worker resizes it). */
    record Success(BufferedImage image) implements GenerationResult {
    }

    /** A failure that may pass if the task runs again (engine down, timeout, out of memory). */
    record TransientFailure(String reason) implements GenerationResult {
    }

    /** A failure that will repeat on every attempt (bad workflow, request refused by the engine). */
    record PermanentFailure(String reason) implements GenerationResult {
    }

    /** The run stopped because {@link Cancellation#cancel} was called. */
    record Cancelled(String reason) implements GenerationResult {
    }
}
