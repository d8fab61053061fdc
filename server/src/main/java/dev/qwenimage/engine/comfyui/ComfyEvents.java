package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's one WebSocket to ComfyUI ({@code GET /ws?clientId=...}), shared by all its slots.
 * ComfyUI sends the events of a prompt only to the socket of the {@code client_id} it was queued
 * with, as JSON text frames {@code {"type", "data"}} (server.py {@code send_json}); this class
 * hands each event to the job whose {@code data.prompt_id} it names. Binary frames (previews) are
 * dropped. When the socket closes every job hears of it, so it can reconnect and reconcile over HTTP.
 */
final class ComfyEvents implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ComfyEvents.class);
    static final Duration MIN_BACKOFF = Duration.ofMillis(250);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    /** What a job hears from the socket. */
    sealed interface Event {
    }

    /** A {@code progress} message: {@code value} of {@code max} steps done in {@code node}. */
    record Progress(int value, int max, String node) implements Event {
    }

    /** {@code execution_success}, or {@code executing} with {@code node: null}: the prompt has finished. */
    record Finished() implements Event {
    }

    /** {@code execution_error}, with its data (node_id, node_type, exception_type, exception_message...). */
    record Failed(JsonNode data) implements Event {
    }

    /** {@code execution_interrupted}: someone called /interrupt while the prompt ran. */
    record Interrupted(JsonNode data) implements Event {
    }

    /** The socket closed; events may have been missed until it is open again. */
    record Disconnected(String why) implements Event {
    }

    /** Not from ComfyUI: the job's cancellation fired. */
    record Wake() implements Event {
    }

    /** The events of one prompt, waiting for its job to take them. */
    static final class Inbox {
        private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

        void offer(Event e) {
            events.offer(e);
        }

        /** The next event, or null after {@code timeout}. */
        Event poll(Duration timeout) throws InterruptedException {
            return events.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
        }
    }

    private final HttpClient client;
    private final URI uri;
    private final Map<String, String> headers;
    private final Map<String, Inbox> inboxes = new ConcurrentHashMap<>();
    private final ReentrantLock connecting = new ReentrantLock();
    private volatile Connection current;
    private volatile boolean closed;
    /** The prompt ComfyUI last said it was executing: older versions send progress without a prompt_id. */
    private volatile String executing;
    private long nextAttemptNanos = System.nanoTime();
    private Duration backoff = MIN_BACKOFF;

    /**
     * @param base     ComfyUI's base URL (http or https); the socket is at {@code /ws} under it
     * @param headers  sent with the opening handshake (the engine's Authorization, if any)
     * @param clientId this engine's client id: ComfyUI routes the events of our prompts to it
     */
    ComfyEvents(HttpClient client, URI base, Map<String, String> headers, String clientId) {
        this.client = client;
        this.headers = Map.copyOf(headers);
        String scheme = base.getScheme().equalsIgnoreCase("https") ? "wss" : "ws";
        this.uri = URI.create(scheme + base.toString().substring(base.getScheme().length()) + "/ws?clientId=" + clientId);
    }

    /** Starts collecting the events of {@code promptId}; do it before the prompt is submitted. */
    Inbox subscribe(String promptId) {
        Inbox inbox = new Inbox();
        inboxes.put(promptId, inbox);
        return inbox;
    }

    /** Moves an inbox to the id ComfyUI gave the prompt (versions that ignore the client's prompt_id). */
    void rename(String from, String to) {
        Inbox inbox = inboxes.remove(from);
        if (inbox != null) {
            inboxes.put(to, inbox);
        }
    }

    void unsubscribe(String promptId) {
        inboxes.remove(promptId);
    }

    boolean isOpen() {
        return current != null && !closed;
    }

    /** Opens the socket unless it is open; a failure is transient (ComfyUI is down or not ComfyUI). */
    void open(Duration timeout) throws EngineCallException, InterruptedException {
        if (isOpen()) {
            return;
        }
        connecting.lock();
        try {
            openLocked(timeout);
            backoff = MIN_BACKOFF;
        } finally {
            connecting.unlock();
        }
    }

    /**
     * Reopens a closed socket if the back-off allows an attempt now (several jobs may ask at once;
     * one connects). True when the socket is open afterwards.
     */
    boolean reopen(Duration timeout) throws InterruptedException {
        if (isOpen()) {
            return true;
        }
        connecting.lock();
        try {
            if (isOpen()) {
                return true;
            }
            if (System.nanoTime() - nextAttemptNanos < 0) {
                return false;
            }
            try {
                openLocked(timeout);
                backoff = MIN_BACKOFF;
                log.info("WebSocket to {} open again", uri);
                return true;
            } catch (EngineCallException e) {
                nextAttemptNanos = System.nanoTime() + backoff.toNanos();
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                log.debug("WebSocket to {} not open yet: {}", uri, e.getMessage());
                return false;
            }
        } finally {
            connecting.unlock();
        }
    }

    /** How long until {@link #reopen} will try again (zero when open or due). */
    Duration untilNextAttempt() {
        connecting.lock();
        try {
            long left = nextAttemptNanos - System.nanoTime();
            return isOpen() || left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
        } finally {
            connecting.unlock();
        }
    }

    private void openLocked(Duration timeout) throws EngineCallException, InterruptedException {
        if (closed) {
            throw new EngineCallException(true, "engine is closed");
        }
        if (isOpen()) {
            return;
        }
        Connection c = new Connection();
        WebSocket.Builder builder = client.newWebSocketBuilder().connectTimeout(timeout);
        headers.forEach(builder::header);
        CompletableFuture<WebSocket> f = builder.buildAsync(uri, c);
        WebSocket ws;
        try {
            ws = f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new EngineCallException(true, "could not open the WebSocket /ws: " + describe(e.getCause()));
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new EngineCallException(true, "did not open the WebSocket /ws within " + timeout.toSeconds() + " s");
        }
        synchronized (c) {
            c.socket = ws;
            if (c.gone) {
                throw new EngineCallException(true, "closed the WebSocket /ws as soon as it opened");
            }
            current = c;
        }
    }

    private void lost(Connection c, String why) {
        synchronized (c) {
            c.gone = true;
            if (current != c) {
                return;
            }
            current = null;
        }
        if (!closed) {
            log.warn("WebSocket to {} closed ({}); jobs reconnect and check their prompts", uri, why);
        }
        Disconnected d = new Disconnected(why);
        inboxes.values().forEach(i -> i.offer(d));
    }

    /** Routes one message to the job of the prompt it names (server.py, execution.py, main.py). */
    void dispatch(JsonNode message) {
        String type = message.path("type").asText("");
        JsonNode data = message.path("data");
        String promptId = data.path("prompt_id").isTextual() ? data.get("prompt_id").asText() : null;
        Event event = switch (type) {
            case "execution_start" -> {
                executing = promptId;
                yield null;
            }
            case "executing" -> {
                if (data.path("node").isNull() || data.path("node").isMissingNode()) {
                    if (promptId == null) {
                        promptId = executing;
                    }
                    executing = null;
                    yield new Finished();
                }
                if (promptId != null) {
                    executing = promptId;
                }
                yield null;
            }
            case "progress" -> {
                if (promptId == null) {
                    promptId = executing;
                }
                yield new Progress(data.path("value").asInt(), data.path("max").asInt(),
                        data.path("node").isTextual() ? data.get("node").asText() : null);
            }
            case "execution_success" -> new Finished();
            case "execution_error" -> new Failed(data);
            case "execution_interrupted" -> new Interrupted(data);
            default -> null; // status, execution_cached, executed, progress_state, feature_flags...
        };
        if (event != null && promptId != null) {
            Inbox inbox = inboxes.get(promptId);
            if (inbox != null) {
                inbox.offer(event);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection c = current;
        current = null;
        if (c != null && c.socket != null) {
            WebSocket ws = c.socket;
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "engine closed").orTimeout(2, TimeUnit.SECONDS)
                    .whenComplete((r, e) -> ws.abort());
        }
    }

    private static String describe(Throwable t) {
        if (t instanceof WebSocketHandshakeException h) {
            return "answered HTTP " + h.getResponse().statusCode() + " instead of upgrading";
        }
        if (t instanceof HttpConnectTimeoutException) {
            return "could not connect within the timeout";
        }
        if (t instanceof ConnectException) {
            return "not reachable (connection refused)";
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** One opened socket; a reconnect makes a new one, so a late callback of an old socket changes nothing. */
    private final class Connection implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        volatile WebSocket socket;
        boolean gone;

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                try {
                    dispatch(EngineHttp.json().readTree(message));
                } catch (IOException | RuntimeException e) {
                    log.debug("ignoring a WebSocket message from {} that is not JSON: {}", uri, EngineHttp.abbreviate(message));
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1); // previews: not needed
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            lost(this, "closed by ComfyUI, code " + statusCode + (reason == null || reason.isBlank() ? "" : ": " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            lost(this, describe(error));
        }
    }
}
