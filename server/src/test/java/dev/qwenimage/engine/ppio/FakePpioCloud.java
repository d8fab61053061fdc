package dev.qwenimage.engine.ppio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * An in-process PPIO / Novita cloud speaking the real async Qwen-Image API, as PPIO's
 * "Qwen-Image 文生图" and "查询任务结果" reference pages and Novita's "Qwen-Image Text to Image" and
 * "Task Result" pages describe it (and /work/shared/spec/API.md restates it):
 * {@code POST /v3/async/qwen-image-txt2img} with {@code prompt}, {@code size "W*H"} (256..1536 a
 * side) and {@code watermark} answering {@code {"task_id"}}; {@code GET /v3/async/task-result?task_id=}
 * answering {@code {extra, task{task_id, task_type, status, reason, eta, progress_percent}, images[],
 * videos[], audios[]}}; errors as {@code {code, reason, message, metadata}}.
 *
 * <p>Edits, as PPIO's "Qwen-Image 图像编辑" and Novita's "Qwen-Image Edit" pages describe them:
 * {@code POST /v3/async/qwen-image-edit} with {@code prompt} and {@code image} (required; this fake
 * takes base64, bare or as a {@code data:} URI, and refuses what does not decode to an image),
 * {@code seed} (-1..2147483647) and {@code output_format} ({@code jpeg}, the default, {@code png} or
 * {@code webp}); the task reports {@code task_type QWEN_IMAGE_EDIT} and its image, in that format
 * and at the input's size, is the input mirrored left to right (so a test sees the input went through).
 *
 * <p>Images are served by a second server on another port, so an image link points at a foreign
 * origin as the real cloud's CDN links do. Tests script the cloud: how each submitted task goes
 * ({@link Plan}), failures to answer first ({@link Failure}: 429 with Retry-After, 5xx bursts,
 * other bodies), and which status a bad key gets (401 per the contract; Novita has been seen to
 * answer 403 {@code INVALID_API_KEY}).
 */
public final class FakePpioCloud implements AutoCloseable {
    public static final String KEY = "sk_fake_ppio_0123456789abcdef_secret";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\*(\\d+)");

    /** One submit as the cloud received it, at {@code path}. */
    public record Submit(String authorization, String contentType, String body, String path) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** One image download as the image host received it ({@code authorization} null when none was sent). */
    public record ImageFetch(String path, String authorization) {
    }

    /** One answer of a task-result poll: a status with its progress, or the task gone (404). */
    public record Step(String status, int progress, String reason) {
        static final Step GONE = new Step("GONE", 0, "");
    }

    /** How a submitted task goes, one step per poll; the last step repeats. */
    public record Plan(List<Step> steps) {
        /** Processing at each of {@code progress} in turn (one poll each), then done. */
        public static Plan succeedAfter(int... progress) {
            List<Step> s = processing(progress);
            s.add(new Step("TASK_STATUS_SUCCEED", 100, ""));
            return new Plan(s);
        }

        public static Plan failAfter(String reason, int... progress) {
            List<Step> s = processing(progress);
            s.add(new Step("TASK_STATUS_FAILED", 0, reason));
            return new Plan(s);
        }

        /** The cloud forgets the task: 404 from then on. */
        public static Plan vanishAfter(int... progress) {
            List<Step> s = processing(progress);
            s.add(Step.GONE);
            return new Plan(s);
        }

        /** Queued, then processing at {@code progress} for ever. */
        public static Plan neverFinishes(int progress) {
            return new Plan(List.of(new Step("TASK_STATUS_QUEUED", 0, ""), new Step("TASK_STATUS_PROCESSING", progress, "")));
        }

        private static List<Step> processing(int... progress) {
            List<Step> s = new ArrayList<>();
            s.add(new Step("TASK_STATUS_QUEUED", 0, ""));
            Arrays.stream(progress).forEach(p -> s.add(new Step("TASK_STATUS_PROCESSING", p, "")));
            return s;
        }
    }

    /** An error answer the cloud gives instead of serving a call. */
    public record Failure(int status, Map<String, String> headers, String contentType, String body) {
        /** The contract's body: {@code {"code", "reason", "message", "metadata"}}. */
        public static Failure contract(int status, String reason, String message) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("code", status);
            b.put("reason", reason);
            b.put("message", message);
            b.put("metadata", Map.of());
            return new Failure(status, Map.of(), "application/json", write(b));
        }

        public static Failure plain(int status, String text) {
            return new Failure(status, Map.of(), "text/plain", text);
        }

        public static Failure json(int status, String body) {
            return new Failure(status, Map.of(), "application/json", body);
        }

        public Failure withHeader(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Failure(status, h, contentType, body);
        }
    }

    private final Javalin api;
    private final Javalin images;
    private final Queue<Plan> plans = new ConcurrentLinkedQueue<>();
    private final Queue<Failure> submitFailures = new ConcurrentLinkedQueue<>();
    private final Queue<Failure> pollFailures = new ConcurrentLinkedQueue<>();
    private final List<Submit> submits = new CopyOnWriteArrayList<>();
    private final List<ImageFetch> imageFetches = new CopyOnWriteArrayList<>();
    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private final AtomicInteger polls = new AtomicInteger();
    private volatile int badKeyStatus = 401;

    private static final class Task {
        final String id;
        final int width;
        final int height;
        final Plan plan;
        /** The input of an edit (null for text-to-image) and the format its image is made in. */
        final BufferedImage input;
        final String format;
        int polled;

        Task(String id, int width, int height, Plan plan) {
            this(id, width, height, plan, null, "jpeg");
        }

        Task(String id, int width, int height, Plan plan, BufferedImage input, String format) {
            this.id = id;
            this.width = width;
            this.height = height;
            this.plan = plan;
            this.input = input;
            this.format = format;
        }

        String taskType() {
            return input == null ? "QWEN_IMAGE_TEXT_TO_IMAGE" : "QWEN_IMAGE_EDIT";
        }

        synchronized Step next() {
            Step s = plan.steps().get(Math.min(polled, plan.steps().size() - 1));
            polled++;
            return s;
        }
    }

    public FakePpioCloud() {
        images = Javalin.create(cfg -> {
            quiet(cfg);
            cfg.routes.get("/output/{file}", this::image);
        }).start();
        api = Javalin.create(cfg -> {
            quiet(cfg);
            cfg.routes.post("/v3/async/qwen-image-txt2img", this::submit);
            cfg.routes.post("/v3/async/qwen-image-edit", this::submitEdit);
            cfg.routes.get("/v3/async/task-result", this::taskResult);
        }).start();
    }

    private static void quiet(io.javalin.config.JavalinConfig cfg) {
        cfg.startup.showJavalinBanner = false;
        cfg.startup.showOldJavalinVersionWarning = false;
        cfg.jetty.host = "127.0.0.1";
        cfg.jetty.port = 0;
        cfg.http.maxRequestSize = 64L * 1024 * 1024; // the cloud takes an edit's base64 image in the body
    }

    /** The API's base URL, as the engine's entry names it. */
    public String url() {
        return "http://127.0.0.1:" + api.port();
    }

    public String imageHost() {
        return "http://127.0.0.1:" + images.port();
    }

    /** The next submitted tasks go as these plans, in order; afterwards tasks succeed after two polls. */
    public FakePpioCloud plan(Plan... next) {
        plans.addAll(List.of(next));
        return this;
    }

    public FakePpioCloud failSubmits(int times, Failure failure) {
        for (int i = 0; i < times; i++) {
            submitFailures.add(failure);
        }
        return this;
    }

    public FakePpioCloud failPolls(int times, Failure failure) {
        for (int i = 0; i < times; i++) {
            pollFailures.add(failure);
        }
        return this;
    }

    /** What a wrong or missing key gets: 401 (the contract) or 403 (what Novita has been seen to answer). */
    public FakePpioCloud refuseBadKeysWith(int status) {
        this.badKeyStatus = status;
        return this;
    }

    /** Every submit that reached the cloud with a good key, refused or not. */
    public List<Submit> submits() {
        return List.copyOf(submits);
    }

    public int tasksCreated() {
        return tasks.size();
    }

    public int polls() {
        return polls.get();
    }

    public List<ImageFetch> imageFetches() {
        return List.copyOf(imageFetches);
    }

    // ---- handlers ------------------------------------------------------------------------------

    private boolean authorized(Context ctx) {
        String auth = ctx.header("Authorization");
        // Novita's JS SDK sends the bare key; everything else sends "Bearer <key>"
        boolean ok = auth != null && (auth.equals("Bearer " + KEY) || auth.equals(KEY));
        if (!ok) {
            error(ctx, Failure.contract(badKeyStatus, "INVALID_API_KEY", "invalid api-key"));
        }
        return ok;
    }

    private void submit(Context ctx) {
        if (!authorized(ctx)) {
            return;
        }
        submits.add(new Submit(ctx.header("Authorization"), ctx.contentType(), ctx.body(), ctx.path()));
        Failure f = submitFailures.poll();
        if (f != null) {
            error(ctx, f);
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (IOException e) {
            error(ctx, Failure.contract(400, "INVALID_JSON", "the request body is not valid JSON"));
            return;
        }
        if (body == null || !body.path("prompt").isTextual() || body.path("prompt").asText().isBlank()) {
            error(ctx, Failure.contract(400, "INVALID_PROMPT", "prompt is required"));
            return;
        }
        Matcher m = SIZE.matcher(body.path("size").asText("1024*1024"));
        int w = m.matches() ? Integer.parseInt(m.group(1)) : -1;
        int h = m.matches() ? Integer.parseInt(m.group(2)) : -1;
        if (w < 256 || w > 1536 || h < 256 || h > 1536) {
            error(ctx, Failure.contract(400, "INVALID_SIZE", "size must be <width>*<height> with each side in 256..1536"));
            return;
        }
        if (body.has("watermark") && !body.get("watermark").isBoolean()) {
            error(ctx, Failure.contract(400, "INVALID_WATERMARK", "watermark must be a boolean"));
            return;
        }
        String id = UUID.randomUUID().toString();
        Plan plan = plans.poll();
        tasks.put(id, new Task(id, w, h, plan != null ? plan : Plan.succeedAfter(50)));
        ctx.contentType("application/json").result(write(Map.of("task_id", id)));
    }

    private void submitEdit(Context ctx) {
        if (!authorized(ctx)) {
            return;
        }
        submits.add(new Submit(ctx.header("Authorization"), ctx.contentType(), ctx.body(), ctx.path()));
        Failure f = submitFailures.poll();
        if (f != null) {
            error(ctx, f);
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (IOException e) {
            error(ctx, Failure.contract(400, "INVALID_JSON", "the request body is not valid JSON"));
            return;
        }
        if (body == null || !body.path("prompt").isTextual() || body.path("prompt").asText().isBlank()) {
            error(ctx, Failure.contract(400, "INVALID_PROMPT", "prompt is required"));
            return;
        }
        BufferedImage input = body.path("image").isTextual() ? decode(body.get("image").asText()) : null;
        if (input == null) {
            error(ctx, Failure.contract(400, "INVALID_IMAGE", "image is required: a URL or a base64-encoded PNG, JPEG or JPG"));
            return;
        }
        JsonNode seed = body.path("seed");
        if (!seed.isMissingNode() && (!seed.canConvertToLong() || !seed.isIntegralNumber() || seed.asLong() < -1
                || seed.asLong() > Integer.MAX_VALUE)) {
            error(ctx, Failure.contract(400, "INVALID_SEED", "seed must be an integer in -1 ~ 2147483647"));
            return;
        }
        String format = body.path("output_format").asText("jpeg");
        if (!List.of("jpeg", "png", "webp").contains(format)) {
            error(ctx, Failure.contract(400, "INVALID_OUTPUT_FORMAT", "output_format must be one of jpeg, png, webp"));
            return;
        }
        String id = UUID.randomUUID().toString();
        Plan plan = plans.poll();
        tasks.put(id, new Task(id, input.getWidth(), input.getHeight(), plan != null ? plan : Plan.succeedAfter(50), input, format));
        ctx.contentType("application/json").result(write(Map.of("task_id", id)));
    }

    /** A base64 image, bare or as a data: URI; null when it is not one. */
    private static BufferedImage decode(String image) {
        String b64 = image.startsWith("data:") ? image.substring(image.indexOf(',') + 1) : image;
        try {
            return ImageIO.read(new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(b64)));
        } catch (IllegalArgumentException | IOException e) {
            return null;
        }
    }

    private void taskResult(Context ctx) {
        if (!authorized(ctx)) {
            return;
        }
        polls.incrementAndGet();
        Failure f = pollFailures.poll();
        if (f != null) {
            error(ctx, f);
            return;
        }
        String id = ctx.queryParam("task_id");
        if (id == null || id.isBlank()) {
            error(ctx, Failure.contract(400, "MISSING_TASK_ID", "task_id is required"));
            return;
        }
        Task task = tasks.get(id);
        Step step = task == null ? Step.GONE : task.next();
        if (step == Step.GONE) {
            error(ctx, Failure.contract(404, "TASK_NOT_FOUND", "task not found: " + id));
            return;
        }
        boolean done = step.status().equals("TASK_STATUS_SUCCEED");
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("task_id", id);
        t.put("task_type", task.taskType());
        t.put("status", step.status());
        t.put("reason", step.reason());
        t.put("eta", done || step.status().equals("TASK_STATUS_FAILED") ? 0 : 5);
        t.put("progress_percent", step.progress());
        List<Object> imgs = new ArrayList<>();
        if (done) {
            Map<String, Object> img = new LinkedHashMap<>();
            img.put("image_url", imageHost() + "/output/" + id + "." + task.format);
            img.put("image_url_ttl", "3600");
            img.put("image_type", task.format);
            img.put("nsfw_detection_result", null);
            imgs.add(img);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("extra", Map.of("has_nsfw_contents", List.of()));
        body.put("task", t);
        body.put("images", imgs);
        body.put("videos", List.of());
        body.put("audios", List.of());
        ctx.contentType("application/json").result(write(body));
    }

    private void image(Context ctx) {
        imageFetches.add(new ImageFetch(ctx.path(), ctx.header("Authorization")));
        String file = ctx.pathParam("file");
        Task task = tasks.get(file.replaceFirst("\\.(jpeg|png|webp)$", ""));
        if (task == null || !file.endsWith("." + task.format)) {
            ctx.status(404).result("no such object");
            return;
        }
        if (task.input == null) {
            ctx.contentType("image/jpeg").result(jpeg(task.width, task.height));
            return;
        }
        ctx.contentType("image/" + task.format).result(mirrored(task.input, task.format));
    }

    private static void error(Context ctx, Failure f) {
        f.headers().forEach(ctx::header);
        ctx.status(f.status()).contentType(f.contentType()).result(f.body());
    }

    private static byte[] jpeg(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(40, 90, 160));
        g.fillRect(0, 0, w, h);
        g.setColor(Color.ORANGE);
        g.fillOval(w / 4, h / 4, w / 2, h / 2);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "jpeg", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] mirrored(BufferedImage input, String format) {
        int w = input.getWidth();
        int h = input.getHeight();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.drawImage(input, w, 0, -w, h, null);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        api.stop();
        images.stop();
    }
}
