package dev.qwenimage.sdk;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A plain HTTP server on a loopback port that records every request and answers from a script,
 * for what a real Qwen-Image server cannot be made to do on cue (gateway pages, stalled bodies)
 * and to see exactly what the client puts on the wire.
 */
final class RecordingServer implements AutoCloseable {
    /** One request as it arrived. */
    record Recorded(String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** One scripted answer. */
    record Answer(int status, Map<String, String> headers, String body, long stallMillis) {
        static Answer json(int status, String body) {
            return new Answer(status, Map.of("Content-Type", "application/json"), body, 0);
        }

        Answer withHeader(String name, String value) {
            Map<String, String> h = new java.util.HashMap<>(headers);
            h.put(name, value);
            return new Answer(status, Map.copyOf(h), body, stallMillis);
        }
    }

    private final HttpServer server;
    private final Queue<Answer> script = new ConcurrentLinkedQueue<>();
    private final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private volatile Answer fallback = Answer.json(500, "{\"code\":500,\"reason\":\"UNSCRIPTED\",\"message\":\"no answer scripted\"}");

    RecordingServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    RecordingServer then(Answer answer) {
        script.add(answer);
        return this;
    }

    RecordingServer otherwise(Answer answer) {
        fallback = answer;
        return this;
    }

    List<Recorded> requests() {
        return requests;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(new Recorded(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                Map.copyOf(exchange.getRequestHeaders()), body));
        Answer a = script.poll();
        if (a == null) {
            a = fallback;
        }
        byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
        a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        if (a.stallMillis() > 0) {
            // the headers and half the body, then nothing until the stall ends
            exchange.sendResponseHeaders(a.status(), bytes.length);
            OutputStream out = exchange.getResponseBody();
            out.write(bytes, 0, bytes.length / 2);
            out.flush();
            try {
                Thread.sleep(a.stallMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(a.status(), bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
