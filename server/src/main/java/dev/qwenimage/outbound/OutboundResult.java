package dev.qwenimage.outbound;

import java.util.List;
import java.util.Map;

/** What one {@link OutboundHttp#send} came to; every outcome is one of these, nothing is thrown. */
public sealed interface OutboundResult {

    /**
     * The server answered.
     *
     * @param headers   by lower-case name
     * @param body      at most the request's {@code maxBodyBytes}
     * @param truncated true when the body was longer than that, or its {@code Content-Length} announced more
     *                  (the rest was not read)
     */
    record Answered(int status, Map<String, List<String>> headers, byte[] body, boolean truncated) implements OutboundResult {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** The URL is malformed, or its host is or resolves to an internal address: never worth another try. */
    record Refused(String reason) implements OutboundResult {
    }

    /** The host name does not resolve now: it may later. */
    record Unresolved(String reason) implements OutboundResult {
    }

    /** No answer: the connection was refused or broke, TLS failed, or the time ran out. It may work later. */
    record Failed(String reason) implements OutboundResult {
    }
}
