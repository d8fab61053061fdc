package dev.qwenimage.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.support.FakeServers;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;

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
 *
 * <p>{@code POST /v1/images/edits} takes {@code multipart/form-data} as vLLM-Omni's
 * {@code edit_images} does: the {@code image} file part(s) (or {@code image[]}), {@code prompt}
 * (required), {@code model}, {@code n}, {@code size} ("WxH" or "auto": the first image's size),
 * {@code response_format} (only {@code b64_json}) and the same diffusion extensions as form fields;
 * the file part must carry a filename and, as OpenAI requires, an image media type. It answers the
 * generation's shape plus {@code output_format} and {@code size}; its "edit" is the input scaled to
 * the size and mirrored left to right, so a test can tell that the input went through. A fake
 * made {@link #withoutEdits()} answers that route as a server without it does: FastAPI's 404.
 */
final class FakeOpenAiImages implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How images come back. */
    enum Answer { B64_JSON, ABSOLUTE_URL, RELATIVE_URL }

    private record Scripted(int status, String body) {
    }

    /** One edit as received: the form's text fields, and its first image part. */
    record Edit(String contentType, Map<String, String> fields, String filename, String imageType, byte[] image) {
        BufferedImage decodedImage() {
            try {
                return ImageIO.read(new ByteArrayInputStream(image));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final Javalin app;
    private final List<String> models;
    private final List<JsonNode> requests = new ArrayList<>();
    private final List<Edit> edits = new ArrayList<>();
    private volatile boolean editsServed = true;
    private final List<String> authorizations = new ArrayList<>();
    private final Deque<Scripted> nextErrors = new ArrayDeque<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final AtomicInteger dropNext = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();
    private volatile String key;
    private volatile Duration delay = Duration.ZERO;
    private volatile Answer answer = Answer.B64_JSON;
    private final java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);

    private FakeOpenAiImages(List<String> models) {
        this.models = models;
        this.app = FakeServers.start(0, cfg -> {
            cfg.routes.post("/v1/images/generations", this::generations);
            cfg.routes.post("/v1/images/edits", this::edits);
            cfg.routes.get("/v1/models", this::models);
            cfg.routes.get("/v1/images/{id}/content", ctx -> file(ctx, ctx.pathParam("id")));
            cfg.routes.get("/generated-images/{id}", ctx -> file(ctx, ctx.pathParam("id")));
        });
    }

    /** A server whose {@code GET /v1/models} lists these ids (vLLM-Omni lists its one model). */
    static FakeOpenAiImages serving(String... models) {
        return new FakeOpenAiImages(List.of(models));
    }

    /** As a server without {@code /v1/images/edits} (an older vLLM-Omni, LocalAI): 404 there. */
    FakeOpenAiImages withoutEdits() {
        this.editsServed = false;
        return this;
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

    /** The next generation or edit answers this status and raw body. */
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

    /** The edits that reached the handler with a good key, refused or not. */
    List<Edit> edits() {
        synchronized (requests) {
            return List.copyOf(edits);
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
        var data = out.putArray("data");
        models.forEach(m -> data.addObject().put("id", m).put("object", "model").put("created", now()).put("owned_by", "vllm-omni"));
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

    private void edits(Context ctx) throws InterruptedException, IOException {
        synchronized (requests) {
            authorizations.add(String.valueOf(ctx.header("Authorization")));
        }
        if (dropNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            FakeServers.dropConnection(ctx);
            return;
        }
        if (!editsServed) {
            ctx.bodyAsBytes(); // as uvicorn does: the request is read to its end, then answered (no reset mid-upload)
            json(ctx, 404, JSON.createObjectNode().put("detail", "Not Found"));
            return;
        }
        if (!authorized(ctx)) {
            return;
        }
        String contentType = String.valueOf(ctx.contentType());
        if (!contentType.startsWith("multipart/form-data")) {
            missing(ctx, "prompt");
            return;
        }
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        ctx.formParamMap().forEach((k, v) -> {
            if (!v.isEmpty()) {
                fields.put(k, v.getFirst());
            }
        });
        List<UploadedFile> files = new ArrayList<>(ctx.uploadedFiles("image"));
        files.addAll(ctx.uploadedFiles("image[]"));
        UploadedFile file = files.isEmpty() ? null : files.getFirst();
        byte[] bytes = file == null ? new byte[0] : file.content().readAllBytes();
        synchronized (requests) {
            edits.add(new Edit(contentType, fields, file == null ? null : file.filename(), file == null ? null : file.contentType(),
                    bytes));
        }
        if (!fields.containsKey("prompt")) {
            missing(ctx, "prompt");
            return;
        }
        if (file == null) {
            // a part named image without a filename is a text field to FastAPI, not an UploadFile
            json(ctx, 422, JSON.createObjectNode().put("detail", fields.containsKey("image")
                    ? "Expected UploadFile, received: <class 'str'>" : "Field 'image' or 'url' is required"));
            return;
        }
        String type = String.valueOf(file.contentType());
        if (!List.of("image/png", "image/jpeg", "image/webp").contains(type)) {
            error(ctx, 400, "Invalid file 'image': unsupported mimetype ('" + type + "'). Supported file formats are "
                    + "'image/jpeg', 'image/png', and 'image/webp'.", "invalid_request_error", "unsupported_file_mimetype");
            return;
        }
        if (!fields.getOrDefault("response_format", "b64_json").equals("b64_json")) {
            json(ctx, 400, JSON.createObjectNode().put("detail", "Only response_format 'b64_json' is supported now."));
            return;
        }
        BufferedImage input;
        try {
            input = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            input = null;
        }
        if (input == null) {
            json(ctx, 400, JSON.createObjectNode().put("detail", "Failed to open uploaded file: cannot identify image file"));
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
        String size = fields.getOrDefault("size", "auto");
        int w = input.getWidth();
        int h = input.getHeight();
        if (!size.equalsIgnoreCase("auto")) {
            try {
                String[] wh = size.split("x");
                w = Integer.parseInt(wh[0]);
                h = Integer.parseInt(wh[1]);
            } catch (RuntimeException e) {
                json(ctx, 400, JSON.createObjectNode().put("detail", "Invalid size format: '" + size
                        + "'. Expected format: 'WIDTHxHEIGHT' (e.g., '1024x1024')."));
                return;
            }
        }
        ObjectNode out = JSON.createObjectNode().put("created", now());
        out.putArray("data").addObject().put("b64_json", java.util.Base64.getEncoder().encodeToString(mirrored(input, w, h)))
                .putNull("url").putNull("revised_prompt");
        out.put("output_format", "png").put("size", w + "x" + h);
        answered.incrementAndGet();
        json(ctx, 200, out);
    }

    /** The "edit": {@code input} scaled to {@code w x h} and mirrored left to right, as a PNG. */
    private static byte[] mirrored(BufferedImage input, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.drawImage(input, new AffineTransform(-(double) w / input.getWidth(), 0, 0, (double) h / input.getHeight(), w, 0), null);
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(out, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** FastAPI's 422 for a required form field that is missing. */
    private static void missing(Context ctx, String field) {
        ctx.status(422).contentType("application/json").result("{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\""
                + field + "\"],\"msg\":\"Field required\",\"input\":null}]}");
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
