package dev.qwenimage.engine;

import java.time.Duration;
import java.util.Set;

/**
 * An image generator the workers drive: the preview renderer or a real Qwen-Image engine. Every
 * engine's protocol details stay inside its own class; the rest of the service sees only this.
 *
 * <p>{@link #generate} blocks the calling worker slot until the image is ready, reports progress
 * through the sink, checks {@link Cancellation} at step boundaries and never throws for an engine
 * failure: it returns a typed {@link GenerationResult} instead.
 */
public interface Engine extends AutoCloseable {

    /** Stable short name, used in logs, the banner and as the key of the ETA statistics. */
    String name();

    /** One line for the start-up banner describing what this engine is. */
    String describe();

    /**
     * What this engine can do. Text-to-image unless the engine says more; the queue hands an
     * engine only tasks of these kinds, and a submit no configured engine can run is refused.
     */
    default Set<TaskKind> kinds() {
        return TaskKind.TEXT_ONLY;
    }

    /** Steps used when the request names none. */
    int defaultSteps();

    /** Steps used for a task of {@code kind} when the request names none: {@link #defaultSteps()} unless the engine says more. */
    default int defaultSteps(TaskKind kind) {
        return defaultSteps();
    }

    /**
     * Time one step takes at 1024x1024, assumed for ETAs until the first task on this engine has
     * been measured.
     */
    default Duration typicalStepTime() {
        return Duration.ofSeconds(1);
    }

    /**
     * What one step is expected to cost at {@code width x height} before anything is measured, and
     * how a pace measured at one size carries over to another. By default in proportion to the
     * pixels (a diffusion model's work per step grows with them).
     */
    default Duration typicalStepTime(int width, int height) {
        return Duration.ofNanos(Math.round(typicalStepTime().toNanos() * (width * (double) height) / (1024.0 * 1024.0)));
    }

    /**
     * What one step of an edit is expected to cost at {@code width x height} before edits are
     * measured: by default twice a text-to-image step (Qwen-Image-Edit attends over the input
     * image's latents as well as its own).
     */
    default Duration typicalEditStepTime(int width, int height) {
        return typicalStepTime(width, height).multipliedBy(2);
    }

    GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation);

    /**
     * Checks that the engine is reachable and ready (a cheap request, never a generation). Called
     * at start-up, periodically while the engine is up and, while it is down, to probe it back.
     * Never throws: a failure is a {@link EngineHealth.Down} with the reason.
     */
    default EngineHealth probe() {
        return EngineHealth.up();
    }

    @Override
    default void close() {
    }
}
