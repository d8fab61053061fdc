package dev.qwenimage.engine;

/** What a health probe of an engine found: reachable and ready, or not, with the reason. */
public sealed interface EngineHealth {

    /** The engine answered and can take work; {@code detail} is for /healthz (e.g. a GPU name). */
    record Up(String detail) implements EngineHealth {
    }

    /** The engine cannot take work now; {@code reason} says why, for logs and /healthz. */
    record Down(String reason) implements EngineHealth {
    }

    static EngineHealth up() {
        return new Up("");
    }
}
