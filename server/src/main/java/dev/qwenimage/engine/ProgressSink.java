package dev.qwenimage.engine;

/** Receives an engine's step progress; implementations are cheap and never block for long. */
@FunctionalInterface
public interface ProgressSink {

    void step(int completed, int total);

    ProgressSink NONE = (completed, total) -> {
    };
}
