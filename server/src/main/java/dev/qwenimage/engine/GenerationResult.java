package dev.qwenimage.engine;

import dev.qwenimage.config.Redaction;
import java.awt.image.BufferedImage;

/** The outcome of one {@link Engine#generate} call: an image, a typed failure or a cancellation. */
public sealed interface GenerationResult {

    /** The engine produced an image (any size; the worker resizes it). */
    record Success(BufferedImage image) implements GenerationResult {
    }

    /**
     * A failure that may pass if the task runs again (engine down, timeout, out of memory). The
     * reason reaches the client (task-result), logs and /healthz: credentials in URLs are hidden.
     */
    record TransientFailure(String reason) implements GenerationResult {
        public TransientFailure {
            reason = Redaction.text(reason);
        }
    }

    /** A failure that will repeat on every attempt (bad workflow, request refused by the engine); reason as above. */
    record PermanentFailure(String reason) implements GenerationResult {
        public PermanentFailure {
            reason = Redaction.text(reason);
        }
    }

    /** The run stopped because {@link Cancellation#cancel} was called. */
    record Cancelled(String reason) implements GenerationResult {
    }
}
