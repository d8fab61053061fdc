package dev.qwenimage.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.support.FakeServers;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.awt.Color;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process OpenAI-compatible images server as vLLM-Omni runs it
 * ({@code vllm_omni/entrypoints/openai/api_server.py}, {@code protocol/images.py}):
 * {@code POST /v1/images/generations} takes model, prompt, n, size ("WxH"), response_format and
 * the diffusion extensions, and answers {@code {"created", "data": [{"b64_json", "url",
 * "revised_prompt"}]}} after the whole image is made (no progress). {@code GET /v1/models} lists
 * the served model. Errors use OpenAI's body {@code {"error": {"message", "type", "code"}}} unless
 * a test scripts another shape (FastAPI's {@code {"detail": ...}}). Tests switch on a bearer key,
 * slow answers, url answers (absolute, or relative as SGLang gives them), scripted errors and
 * dropped connections.
 */
final class FakeOpenAiImages implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How images come back. */
    enum Answer { B64_JSON, ABSOLUTE_URL, RELATIVE_URL }

    private record Scripted(int status, String body) {
    }

    private final Javalin app;
    private final String model;
    private final List<JsonNode> requests = new ArrayList<>();
    private final List<String> authorizations = new ArrayList<>();
    private final Deque<Scripted> nextErrors = new ArrayDeque<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final AtomicInteger dropNext = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();
    private volatile String key;
    private volatile Duration delay = Duration.ZERO;
    private volatile Answer answer = Answer.B64_JSON;
    private final java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);

    private FakeOpenAiImages(String model) {
        this.model = model;
        this.app = FakeServers.start(0, cfg -> {
            cfg.routes.post("/v1/images/generations", this::generations);
            cfg.routes.get("/v1/models", this::models);
            cfg.routes.get("/v1/images/{id}/content", ctx -> file(ctx, ctx.pathParam("id")));
            cfg.routes.get("/generated-images/{id}", ctx -> file(ctx, ctx.pathParam("id")));
        });
    }

    static FakeOpenAiImages serving(String model) {
        return new FakeOpenAiImages(model);
    }

    /** The server root, without /v1. */
    String root() {
        return "http://127.0.0.1:" + app.port();
    }

    /** The API base an engine is configured with. */
    String base() {
        return root() + "/v1";
    }

    FakeOpenAiImages requireKey(String key) {
        this.key = key;
        return this;
    }

    FakeOpenAiImages delay(Duration d) {
        this.delay = d;
        return this;
    }

    FakeOpenAiImages answer(Answer a) {
        this.answer = a;
        return this;
    }

    /** The next generation answers this status and raw body. */
    FakeOpenAiImages failNext(int status, String body) {
        synchronized (nextErrors) {
            nextErrors.add(new Scripted(status, body));
        }
        return this;
    }

    /** The next generation's connection is closed before any answer. */
    FakeOpenAiImages dropNext() {
        dropNext.incrementAndGet();
        return this;
    }

    List<JsonNode> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    List<String> authorizations() {
        synchronized (requests) {
            return List.copyOf(authorizations);
        }
    }

    /** Generations that ran to their answer. */
    int answered() {
        return answered.get();
    }

    @Override
    public void close() {
        closing.countDown();
        app.stop();
    }

    private boolean authorized(Context ctx) {
        String k = key;
        if (k == null || ("Bearer " + k).equals(ctx.header("Authorization"))) {
            return true;
        }
        error(ctx, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
        return false;
    }

    private void models(Context ctx) {
        if (!authorized(ctx)) {
            return;
        }
        ObjectNode out = JSON.createObjectNode().put("object", "list");
        out.putArray("data").addObject().put("id", model).put("object", "model").put("created", now()).put("owned_by", "vllm-omni");
        json(ctx, 200, out);
    }

    private void generations(Context ctx) throws InterruptedException {
        synchronized (requests) {
            authorizations.add(String.valueOf(ctx.header("Authorization")));
        }
        if (dropNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            FakeServers.dropConnection(ctx);
            return;
        }
        if (!authorized(ctx)) {
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            json(ctx, 400, JSON.createObjectNode().put("detail", "There was an error parsing the body"));
            return;
        }
        synchronized (requests) {
            requests.add(body);
        }
        if (!body.path("prompt").isTextual()) {
            ctx.status(422).contentType("application/json")
                    .result("{\"detail\":[{\"loc\":[\"body\",\"prompt\"],\"msg\":\"field required\",\"type\":\"value_error.missing\"}]}");
            return;
        }
        Scripted scripted;
        synchronized (nextErrors) {
            scripted = nextErrors.poll();
        }
        closing.await(delay.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        if (scripted != null) {
            ctx.status(scripted.status()).contentType("application/json").result(scripted.body());
            return;
        }
        String[] size = body.path("size").asText("1024x1024").split("x");
        int w;
        int h;
        try {
            w = Integer.parseInt(size[0]);
            h = Integer.parseInt(size[1]);
        } catch (RuntimeException e) {
            json(ctx, 400, JSON.createObjectNode().put("detail", "Invalid size format: '" + body.path("size").asText()
                    + "'. Expected format: 'WIDTHxHEIGHT' (e.g., '1024x1024')."));
            return;
        }
        byte[] png = FakeServers.png(w, h, new Color(200, 80, 40));
        ObjectNode out = JSON.createObjectNode().put("created", now());
        ObjectNode image = out.putArray("data").addObject();
        String id = "img" + answered.get();
        switch (answer) {
            case B64_JSON -> image.put("b64_json", java.util.Base64.getEncoder().encodeToString(png)).putNull("url");
            case ABSOLUTE_URL -> {
                files.put(id, png);
                image.putNull("b64_json").put("url", root() + "/generated-images/" + id);
            }
            case RELATIVE_URL -> {
                files.put(id, png);
                image.putNull("b64_json").put("url", "/v1/images/" + id + "/content");
            }
        }
        image.putNull("revised_prompt");
        answered.incrementAndGet();
        json(ctx, 200, out);
    }

    private void file(Context ctx, String id) {
        byte[] png = files.get(id);
        if (png == null) {
            error(ctx, 404, "no such image", "invalid_request_error", null);
            return;
        }
        ctx.contentType("image/png").result(png);
    }

    private static void error(Context ctx, int status, String message, String type, String code) {
        ObjectNode out = JSON.createObjectNode();
        ObjectNode e = out.putObject("error").put("message", message).put("type", type);
        e.putNull("param");
        if (code == null) {
            e.putNull("code");
        } else {
            e.put("code", code);
        }
        json(ctx, status, out);
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(body.toString());
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
