package dev.qwenimage.engine.sdcpp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.support.FakeServers;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-process stable-diffusion.cpp {@code sd-server}, speaking its native job API as
 * leejet/stable-diffusion.cpp has it in {@code examples/server/routes_sdcpp.cpp} and
 * {@code async_jobs.cpp} (and documents it in {@code examples/server/api.md}): the same paths,
 * status codes, job JSON ({@code make_async_job_json}), error bodies ({@code {"error": "..."}}),
 * one worker generating one job at a time, a bounded queue answering 429 when full, cancel that
 * works only on queued jobs (409 while generating). It never reports step progress, as the real
 * one does not. Image fields ({@code ref_images}, {@code init_image}) are decoded as
 * {@code SDGenerationParams::from_json_str} does (raw base64 or a data URL, an image sd.cpp's
 * loader reads; else 400 {@code invalid generation parameters}); a job with reference images
 * draws its picture in the first reference's top-left colour, so a test sees the reference used.
 * Failure modes are switched on by the tests: failed jobs, refused jobs, Retry-After, dropped
 * connections, a server that is not listening yet (model loading), and a restart that loses
 * every job.
 */
final class FakeSdServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private int port;
    private final Object lock = new Object();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Deque<String> queue = new ArrayDeque<>();
    private final List<JsonNode> submitted = new ArrayList<>();
    private final List<String> cancelRequests = new ArrayList<>();
    private final Deque<String> failNext = new ArrayDeque<>();
    private final Map<String, Integer> dropNext = new HashMap<>();
    private long nextId;
    private int maxPendingJobs = 64;
    private Duration generationTime = Duration.ofMillis(200);
    private String retryAfter;
    private String refuseWith;
    private int rejectedFull;
    private int polls;
    private String modelName = "qwen-image-Q8_0.gguf";
    private boolean refImages = true;
    private Javalin app;
    private Thread worker;

    private static final class Job {
        final String id;
        final long created = now();
        final int width;
        final int height;
        final List<java.awt.image.BufferedImage> refs;
        String status = "queued";
        long started;
        long completed;
        String errorCode;
        String errorMessage;
        String b64;
        String failWith;

        Job(String id, int width, int height, List<java.awt.image.BufferedImage> refs) {
            this.id = id;
            this.width = width;
            this.height = height;
            this.refs = refs;
        }
    }

    private FakeSdServer(int port) {
        this.port = port;
    }

    /** A running sd-server on a free port. */
    static FakeSdServer start() {
        return startOn(0);
    }

    /** A running sd-server on {@code port}, e.g. one an engine already points at while the model "loads". */
    static FakeSdServer startOn(int port) {
        FakeSdServer s = new FakeSdServer(port);
        return s.listen();
    }

    /** A port nothing listens on yet. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url() {
        return "http://127.0.0.1:" + app.port();
    }

    int port() {
        return app.port();
    }

    private FakeSdServer listen() {
        app = FakeServers.start(port, cfg -> {
            cfg.routes.get("/sdcpp/v1/capabilities", this::capabilities);
            cfg.routes.post("/sdcpp/v1/img_gen", this::imgGen);
            cfg.routes.get("/sdcpp/v1/jobs/{id}", this::job);
            cfg.routes.post("/sdcpp/v1/jobs/{id}/cancel", this::cancel);
        });
        port = app.port();
        worker = Thread.ofPlatform().daemon(true).name("fake-sd-server-worker").start(this::work);
        return this;
    }

    // ---- test controls -------------------------------------------------------------------------

    FakeSdServer queueCapacity(int jobs) {
        synchronized (lock) {
            maxPendingJobs = jobs;
        }
        return this;
    }

    FakeSdServer generationTime(Duration d) {
        synchronized (lock) {
            generationTime = d;
        }
        return this;
    }

    /** Sends this Retry-After with every 429 (the real sd-server sends none). */
    FakeSdServer retryAfter(String value) {
        synchronized (lock) {
            retryAfter = value;
        }
        return this;
    }

    /** The next job accepted fails at run time with this message, as generate_image failures do. */
    FakeSdServer failNextJob(String message) {
        synchronized (lock) {
            failNext.add(message);
        }
        return this;
    }

    /** The model sd-server loaded, as capabilities names it (e.g. a Qwen-Image-Edit GGUF). */
    FakeSdServer model(String name) {
        synchronized (lock) {
            modelName = name;
        }
        return this;
    }

    /** Capabilities say this build takes no reference images ({@code features_by_mode.img_gen.ref_images: false}). */
    FakeSdServer withoutRefImages() {
        synchronized (lock) {
            refImages = false;
        }
        return this;
    }

    /** Every submission is refused with 400 and this error, as when the loaded model cannot make images. */
    FakeSdServer refuseJobs(String error) {
        synchronized (lock) {
            refuseWith = error;
        }
        return this;
    }

    /** The next {@code times} requests to {@code route} ("submit", "poll", "cancel", "capabilities") lose their connection. */
    FakeSdServer dropConnections(String route, int times) {
        synchronized (lock) {
            dropNext.put(route, times);
        }
        return this;
    }

    List<JsonNode> submitted() {
        synchronized (lock) {
            return List.copyOf(submitted);
        }
    }

    List<String> cancelRequests() {
        synchronized (lock) {
            return List.copyOf(cancelRequests);
        }
    }

    int rejectedFull() {
        synchronized (lock) {
            return rejectedFull;
        }
    }

    int polls() {
        synchronized (lock) {
            return polls;
        }
    }

    /** The state sd-server reports for a job, or null when it does not know it. */
    String status(String id) {
        synchronized (lock) {
            Job j = jobs.get(id);
            return j == null ? null : j.status;
        }
    }

    int jobsInState(String status) {
        synchronized (lock) {
            return (int) jobs.values().stream().filter(j -> j.status.equals(status)).count();
        }
    }

    /** The process dies and comes back on the same port: every job is forgotten. */
    void restart() {
        stop();
        synchronized (lock) {
            jobs.clear();
            queue.clear();
        }
        listen();
    }

    /** Stops listening (connections are refused from now on). */
    void stop() {
        app.stop();
        worker.interrupt();
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    // ---- the API -------------------------------------------------------------------------------

    private boolean drop(String route, Context ctx) {
        synchronized (lock) {
            int n = dropNext.getOrDefault(route, 0);
            if (n <= 0) {
                return false;
            }
            dropNext.put(route, n - 1);
        }
        FakeServers.dropConnection(ctx);
        return true;
    }

    private void capabilities(Context ctx) {
        if (drop("capabilities", ctx)) {
            return;
        }
        ObjectNode caps = JSON.createObjectNode();
        String model;
        boolean refs;
        synchronized (lock) {
            model = modelName;
            refs = refImages;
        }
        caps.putObject("model").put("name", model).put("stem", model.replaceFirst("\\.gguf$", ""))
                .put("path", "/models/diffusion_models/" + model);
        caps.put("current_mode", "img_gen");
        caps.putArray("supported_modes").add("img_gen");
        ObjectNode limits = caps.putObject("limits");
        limits.put("min_width", 64).put("max_width", 4096).put("min_height", 64).put("max_height", 4096)
                .put("max_batch_count", 8);
        synchronized (lock) {
            limits.put("max_queue_size", maxPendingJobs);
        }
        caps.putArray("samplers").add("euler").add("euler_a").add("dpm++2m");
        ObjectNode features = JSON.createObjectNode().put("init_image", true).put("mask_image", true).put("ref_images", refs)
                .put("cancel_queued", true).put("cancel_generating", false);
        caps.set("features", features);
        caps.putObject("features_by_mode").set("img_gen", features.deepCopy());
        json(ctx, 200, caps);
    }

    private void imgGen(Context ctx) {
        if (drop("submit", ctx)) {
            return;
        }
        byte[] raw = ctx.bodyAsBytes();
        if (raw.length == 0) {
            error(ctx, 400, "empty body");
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(raw);
        } catch (IOException e) {
            json(ctx, 400, JSON.createObjectNode().put("error", "invalid json").put("message", e.getMessage()));
            return;
        }
        synchronized (lock) {
            submitted.add(body);
            if (refuseWith != null) {
                error(ctx, 400, refuseWith);
                return;
            }
            // SDGenerationParams::validate: batch_count > 0, sample_steps > 0, txt_cfg >= 0
            JsonNode sample = body.path("sample_params");
            if (body.path("batch_count").asInt(1) <= 0 || sample.path("sample_steps").asInt(20) <= 0
                    || sample.path("guidance").path("txt_cfg").asDouble(7) < 0) {
                error(ctx, 400, "invalid generation parameters");
                return;
            }
            long pending = jobs.values().stream().filter(j -> j.status.equals("queued") || j.status.equals("generating")).count();
            if (pending >= maxPendingJobs) {
                rejectedFull++;
                if (retryAfter != null) {
                    ctx.header("Retry-After", retryAfter);
                }
                error(ctx, 429, "job queue is full");
                return;
            }
            // SDGenerationParams::from_json_str: each image field decodes, or the job is refused
            List<java.awt.image.BufferedImage> refs = new ArrayList<>();
            JsonNode refImages = body.path("ref_images");
            if (!refImages.isMissingNode() && !refImages.isNull()) {
                if (!refImages.isArray()) {
                    error(ctx, 400, "invalid generation parameters");
                    return;
                }
                for (JsonNode r : refImages) {
                    java.awt.image.BufferedImage img = r.isTextual() ? decodeImage(r.asText()) : null;
                    if (img == null) {
                        error(ctx, 400, "invalid generation parameters");
                        return;
                    }
                    refs.add(img);
                }
            }
            JsonNode init = body.path("init_image");
            if (init.isTextual() && decodeImage(init.asText()) == null) {
                error(ctx, 400, "invalid generation parameters");
                return;
            }
            String id = String.format("job_%x_%08d", now(), nextId++);
            Job job = new Job(id, body.path("width").asInt(512), body.path("height").asInt(512), List.copyOf(refs));
            job.failWith = failNext.poll();
            jobs.put(id, job);
            queue.add(id);
            lock.notifyAll();
            ObjectNode out = JSON.createObjectNode();
            out.put("id", id).put("kind", "img_gen").put("status", "queued").put("created", job.created)
                    .put("poll_url", "/sdcpp/v1/jobs/" + id);
            json(ctx, 202, out);
        }
    }

    private void job(Context ctx) {
        if (drop("poll", ctx)) {
            return;
        }
        synchronized (lock) {
            polls++;
            Job job = jobs.get(ctx.pathParam("id"));
            if (job == null) {
                error(ctx, 404, "job not found");
                return;
            }
            json(ctx, 200, render(job));
        }
    }

    private void cancel(Context ctx) {
        if (drop("cancel", ctx)) {
            return;
        }
        synchronized (lock) {
            cancelRequests.add(ctx.pathParam("id"));
            Job job = jobs.get(ctx.pathParam("id"));
            if (job == null) {
                error(ctx, 404, "job not found");
                return;
            }
            if (job.status.equals("generating")) {
                error(ctx, 409, "job is currently generating and cannot be interrupted yet");
                return;
            }
            if (job.status.equals("queued")) {
                queue.remove(job.id);
                job.status = "cancelled";
                job.completed = now();
                job.errorCode = "cancelled";
                job.errorMessage = "job cancelled by client";
            }
            json(ctx, 200, render(job));
        }
    }

    /** make_async_job_json. */
    private ObjectNode render(Job job) {
        ObjectNode out = JSON.createObjectNode();
        out.put("id", job.id).put("kind", "img_gen").put("status", job.status).put("created", job.created);
        if (job.started == 0) {
            out.putNull("started");
        } else {
            out.put("started", job.started);
        }
        if (job.completed == 0) {
            out.putNull("completed");
        } else {
            out.put("completed", job.completed);
        }
        int position = 0;
        if (job.status.equals("queued")) {
            int i = 1;
            for (String q : queue) {
                if (q.equals(job.id)) {
                    position = i;
                }
                i++;
            }
        }
        out.put("queue_position", position);
        switch (job.status) {
            case "completed" -> {
                ObjectNode result = out.putObject("result");
                result.put("output_format", "png");
                ArrayNode images = result.putArray("images");
                images.addObject().put("index", 0).put("b64_json", job.b64);
                out.putNull("error");
            }
            case "failed", "cancelled" -> {
                out.putNull("result");
                out.putObject("error").put("code", job.errorCode).put("message", job.errorMessage);
            }
            default -> {
                out.putNull("result");
                out.putNull("error");
            }
        }
        return out;
    }

    /** async_job_worker: one job at a time, in queue order. */
    private void work() {
        try {
            while (true) {
                Job job;
                Duration time;
                synchronized (lock) {
                    while (queue.isEmpty()) {
                        lock.wait();
                    }
                    job = jobs.get(queue.poll());
                    if (job == null) {
                        continue;
                    }
                    job.status = "generating";
                    job.started = now();
                    time = generationTime;
                }
                Thread.sleep(time.toMillis());
                String b64 = job.failWith == null ? FakeServers.pngBase64(job.width, job.height,
                        job.refs.isEmpty() ? new Color(40, 120, 200) : new Color(job.refs.getFirst().getRGB(0, 0))) : null;
                synchronized (lock) {
                    job.completed = now();
                    if (job.failWith == null) {
                        job.status = "completed";
                        job.b64 = b64;
                    } else {
                        job.status = "failed";
                        job.errorCode = "generation_failed";
                        job.errorMessage = job.failWith;
                    }
                }
            }
        } catch (InterruptedException e) {
            // stopped
        }
    }

    /** decode_base64_image: what follows the first comma (a data URL's payload) or the whole string, as an image. */
    static java.awt.image.BufferedImage decodeImage(String encoded) {
        int comma = encoded.indexOf(',');
        String b64 = comma < 0 ? encoded : encoded.substring(comma + 1);
        try {
            byte[] bytes = java.util.Base64.getDecoder().decode(b64);
            return bytes.length == 0 ? null : javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
        } catch (IllegalArgumentException | IOException e) {
            return null;
        }
    }

    private static void error(Context ctx, int status, String message) {
        json(ctx, status, JSON.createObjectNode().put("error", message));
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(body.toString());
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
