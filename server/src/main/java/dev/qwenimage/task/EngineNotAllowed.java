package dev.qwenimage.task;

/** None of the engines the caller's key may use runs on this service (403 ENGINE_NOT_ALLOWED). */
public final class EngineNotAllowed extends RuntimeException {
    public EngineNotAllowed(String message) {
        super(message);
    }
}
