package dev.qwenimage.engine;

import dev.qwenimage.config.Redaction;

/** What a health probe of an engine found: reachable and ready, or not, with the reason. */
public sealed interface EngineHealth {

    /** The engine answered and can take work; {@code detail} is for /healthz (e.g. a GPU name). */
    record Up(String detail) implements EngineHealth {
    }

    /** The engine cannot take work now; {@code reason} says why, for logs and /healthz (credentials in URLs hidden). */
    record Down(String reason) implements EngineHealth {
        public Down {
            reason = Redaction.text(reason);
        }
    }

    static EngineHealth up() {
        return new Up("");
    }
}
