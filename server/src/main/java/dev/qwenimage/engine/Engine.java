package dev.qwenimage.engine;

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

    /** Steps used when the request names none. */
    int defaultSteps();

    /**
     * Time one step takes at 1024x1024, assumed for ETAs until the first task on this engine has
     * been measured.
     */
    default java.time.Duration typicalStepTime() {
        return java.time.Duration.ofSeconds(1);
    }

    GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation);

    @Override
    default void close() {
    }
}
