package dev.qwenimage.engine.sdcpp;

import java.util.Set;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.engine.EngineSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.config.Durations;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressEstimate;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.engine.http.CallAborter;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * stable-diffusion.cpp's {@code sd-server} through its native asynchronous job API
 * ({@code examples/server/routes_sdcpp.cpp} and {@code async_jobs.cpp} of leejet/stable-diffusion.cpp):
 * {@code POST /sdcpp/v1/img_gen} queues a job (202 with its id, 429 when the queue is full),
 * {@code GET /sdcpp/v1/jobs/{id}} tells its state (queued, generating, completed, failed,
 * cancelled) and carries the base64 PNG once completed, {@code POST /sdcpp/v1/jobs/{id}/cancel}
 * takes a queued job out of the queue.
 *
 * <p>sd-server reports no step progress and cannot interrupt a job that is generating (its cancel
 * answers 409 then); progress is therefore estimated from the time the job has been generating
 * ({@link ProgressEstimate}), and a cancelled task stops waiting at once while sd-server finishes
 * that one image and drops it.
 *
 * <p>An sd-server holds one model. With {@code edit=true} it holds Qwen-Image-Edit, and this
 * engine takes edits only: each job carries the input picture in {@code ref_images} (base64), the
 * reference image sd.cpp's Qwen-Image-Edit conditions on ({@code -r} of its CLI).
 */
public final class SdCppEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(SdCppEngine.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration CANCEL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

    /**
     * The Qwen-Image settings sent with every job.
     *
     * @param scheduler  sd.cpp's scheduler name, or empty for the server's default
     * @param flowShift  the flow shift, or empty to let sd.cpp choose
     * @param poll       time between two looks at a running job
     * @param grace      how long a job may stay out of reach (connection lost, 5xx) before the task is given up
     * @param stepTime   time of one step at 1024x1024 assumed until a job has been measured
     * @param edit       the model sd-server loaded is Qwen-Image-Edit: the engine takes edits, and only edits
     */
    public record Settings(int steps, double cfgScale, String sampler, Optional<String> scheduler, OptionalDouble flowShift,
                           String negativePrompt, Duration poll, Duration grace, Duration stepTime, boolean edit) {
        /** Settings of an sd-server with Qwen-Image (text-to-image). */
        public Settings(int steps, double cfgScale, String sampler, Optional<String> scheduler, OptionalDouble flowShift,
                        String negativePrompt, Duration poll, Duration grace, Duration stepTime) {
            this(steps, cfgScale, sampler, scheduler, flowShift, negativePrompt, poll, grace, stepTime, false);
        }

        public static Settings defaults() {
            return new Settings(20, 2.5, "euler", Optional.empty(), OptionalDouble.of(3), "",
                    Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(3));
        }
    }

    private static final Set<TaskKind> EDIT_ONLY = Set.of(TaskKind.EDIT);

    private final String name;
    private final EngineHttp http;
    private final Settings settings;
    private final ProgressEstimate estimate;

    public SdCppEngine(String name, URI url, Settings settings) {
        this.name = name;
        this.http = new EngineHttp(name, url, Duration.ofSeconds(5), Map.of());
        this.settings = settings;
        this.estimate = new ProgressEstimate(settings.stepTime());
    }

    /** The engine an entry {@code sdcpp:http://host:1234?...} describes; unknown options are refused. */
    public static SdCppEngine from(EngineSpec spec) {
        spec.requireOnly(Set.of("steps", "cfg_scale", "sampler", "scheduler", "flow_shift", "negative_prompt", "poll", "grace",
                "step_time", "edit"));
        SdCppEngine.Settings d = SdCppEngine.Settings.defaults();
        OptionalDouble flowShift = d.flowShift();
        Optional<String> shift = spec.option("flow_shift");
        if (shift.isPresent()) {
            flowShift = shift.get().equalsIgnoreCase("auto") ? OptionalDouble.empty()
                    : OptionalDouble.of(spec.doubleOption("flow_shift", 3, 0, 100));
        }
        return new SdCppEngine(spec.name(), spec.requireUrl(), new SdCppEngine.Settings(
                spec.intOption("steps", d.steps(), 1, 1000),
                spec.doubleOption("cfg_scale", d.cfgScale(), 0, 100),
                spec.option("sampler", d.sampler()),
                spec.option("scheduler"),
                flowShift,
                spec.option("negative_prompt", d.negativePrompt()),
                spec.positiveDurationOption("poll", d.poll()),
                spec.positiveDurationOption("grace", d.grace()),
                spec.positiveDurationOption("step_time", d.stepTime()),
                spec.booleanOption("edit", false)));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "sdcpp (stable-diffusion.cpp sd-server at " + http.base() + ", native job API), " + settings.steps() + " steps, cfg "
                + settings.cfgScale() + ", " + settings.sampler() + settings.scheduler().map(s -> "/" + s).orElse("")
                + (settings.flowShift().isPresent() ? ", flow shift " + settings.flowShift().getAsDouble() : "")
                + (settings.edit() ? "; Qwen-Image-Edit: edits only, the input as ref_images" : "");
    }

    /** Text-to-image; with {@code edit=true} (a Qwen-Image-Edit model), edits only. */
    @Override
    public Set<TaskKind> kinds() {
        return settings.edit() ? EDIT_ONLY : TaskKind.TEXT_ONLY;
    }

    @Override
    public int defaultSteps() {
        return settings.steps();
    }

    @Override
    public Duration typicalStepTime() {
        return settings.stepTime();
    }

    /** The job body sd-server's {@code SDGenerationParams::from_json_str} reads (examples/common/common.cpp). */
    ObjectNode jobBody(GenerationRequest request) {
        ObjectNode body = EngineHttp.json().createObjectNode();
        body.put("prompt", request.prompt());
        body.put("negative_prompt", request.negativePrompt().isBlank() ? settings.negativePrompt() : request.negativePrompt());
        body.put("width", request.width());
        body.put("height", request.height());
        body.put("seed", request.seed());
        body.put("batch_count", 1);
        ObjectNode sample = body.putObject("sample_params");
        sample.put("sample_method", settings.sampler());
        settings.scheduler().ifPresent(s -> sample.put("scheduler", s));
        sample.put("sample_steps", request.steps());
        settings.flowShift().ifPresent(f -> sample.put("flow_shift", f));
        sample.putObject("guidance").put("txt_cfg", settings.cfgScale());
        body.put("output_format", "png");
        request.input().ifPresent(input -> body.putArray("ref_images").add(input.base64()));
        return body;
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        if (!kinds().contains(request.kind())) {
            return new GenerationResult.PermanentFailure(name + " was given a " + request.kind().code() + " task, which it "
                    + "does not run (" + (settings.edit() ? "edit=true: its model edits" : "its model draws from text") + ")");
        }
        CallAborter aborter = CallAborter.on(cancellation);
        CountDownLatch cancelled = new CountDownLatch(1);
        cancellation.onCancel(cancelled::countDown);
        String jobId = null;
        try {
            Optional<String> submitted = submit(request, aborter, cancelled);
            if (submitted.isEmpty()) {
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            jobId = submitted.get();
            GenerationResult result = await(jobId, request, progress, aborter, cancelled);
            if (result instanceof GenerationResult.Cancelled) {
                cancelRemote(jobId);
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            return result;
        } catch (EngineCallException e) {
            if (cancellation.isCancelled()) {
                if (jobId != null) {
                    cancelRemote(jobId);
                }
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            return http.failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new GenerationResult.Cancelled("interrupted");
        }
    }

    /**
     * Queues the job; while sd-server's queue is full (429) waits (its Retry-After if it sends one,
     * else a doubling back-off) and tries again, for as long as the task may run. Empty when
     * cancelled meanwhile.
     */
    private Optional<String> submit(GenerationRequest request, CallAborter aborter, CountDownLatch cancelled)
            throws EngineCallException, InterruptedException {
        byte[] body;
        try {
            body = EngineHttp.json().writeValueAsBytes(jobBody(request));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render the job body", e);
        }
        Duration backoff = FIRST_BACKOFF;
        while (true) {
            EngineHttp.Response r = http.send(http.request("/sdcpp/v1/img_gen", CALL_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)), aborter);
            if (r.status() == 429) {
                Duration wait = retryAfter(r).orElse(backoff);
                backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
                log.debug("{}: sd-server's job queue is full (task {}); trying again in {}", name, request.taskId(), wait);
                if (cancelled.await(wait.toNanos(), TimeUnit.NANOSECONDS)) {
                    return Optional.empty();
                }
                continue;
            }
            if (!r.ok()) {
                throw refused("refused the job (POST /sdcpp/v1/img_gen)", r);
            }
            String id = r.json().path("id").asText("");
            if (id.isEmpty()) {
                throw new EngineCallException(true, "accepted the job (HTTP " + r.status() + ") but named no job id: "
                        + EngineHttp.abbreviate(r.text()));
            }
            return Optional.of(id);
        }
    }

    /** Polls the job to its end. Cancelled (without the remote cancel) when the cancellation fires. */
    private GenerationResult await(String jobId, GenerationRequest request, ProgressSink progress, CallAborter aborter,
                                   CountDownLatch cancelled) throws EngineCallException, InterruptedException {
        String path = "/sdcpp/v1/jobs/" + jobId;
        long lastContact = System.nanoTime();
        long generatingSince = 0;
        String lastProblem = "";
        while (true) {
            EngineHttp.Response r = null;
            try {
                r = http.send(http.request(path, CALL_TIMEOUT).GET(), aborter);
            } catch (EngineCallException e) {
                if (aborter.aborted()) {
                    return new GenerationResult.Cancelled("");
                }
                lastProblem = e.getMessage();
            }
            if (r != null && (r.status() == 404 || r.status() == 410)) {
                String why = r.status() == 404 ? "no longer knows job " + jobId + " (it was probably restarted)"
                        : "expired job " + jobId + " before its result was read";
                throw new EngineCallException(true, why + ": HTTP " + r.status() + " " + errorText(r));
            }
            if (r != null && r.status() >= 500) {
                lastProblem = "GET " + path + " answered HTTP " + r.status() + ": " + errorText(r);
                r = null;
            }
            if (r == null) {
                if (System.nanoTime() - lastContact > settings.grace().toNanos()) {
                    throw new EngineCallException(true, "lost contact with job " + jobId + " for more than "
                            + Durations.human(settings.grace()) + ": " + lastProblem);
                }
            } else {
                if (!r.ok()) {
                    throw refused("answered GET " + path, r);
                }
                lastContact = System.nanoTime();
                JsonNode job = r.json();
                String status = job.path("status").asText("");
                switch (status) {
                    case "queued" -> progress.step(0, request.steps() * 10);
                    case "generating" -> {
                        if (generatingSince == 0) {
                            generatingSince = System.nanoTime();
                        }
                        estimate.report(progress, request.width(), request.height(), request.steps(),
                                Duration.ofNanos(System.nanoTime() - generatingSince));
                    }
                    case "completed" -> {
                        BufferedImage image = image(jobId, job);
                        Duration took = generatingSince != 0 ? Duration.ofNanos(System.nanoTime() - generatingSince)
                                : serverDuration(job);
                        estimate.record(request.width(), request.height(), request.steps(), took);
                        progress.step(request.steps() * 10, request.steps() * 10);
                        return new GenerationResult.Success(image);
                    }
                    case "failed" -> {
                        // sd-server checks a job's parameters when it is submitted (400 then); a job
                        // that fails later failed at run time (generate_image gave no image, e.g. out
                        // of memory), which may pass on another attempt or another engine.
                        return http.failure(new EngineCallException(true, "reports job " + jobId + " failed: " + jobError(job)));
                    }
                    case "cancelled" -> {
                        return http.failure(new EngineCallException(true, "reports job " + jobId
                                + " cancelled, not by this server: " + jobError(job)));
                    }
                    default -> throw new EngineCallException(true, "reported job " + jobId + " in an unknown state '" + status
                            + "': " + EngineHttp.abbreviate(r.text()));
                }
            }
            if (cancelled.await(settings.poll().toNanos(), TimeUnit.NANOSECONDS)) {
                return new GenerationResult.Cancelled("");
            }
        }
    }

    /**
     * Tells sd-server to drop the job; only a queued job can be (a generating one runs to its end
     * there). Tried twice: the poll aborted a moment ago may have left a dead pooled connection.
     */
    private void cancelRemote(String jobId) {
        String path = "/sdcpp/v1/jobs/" + jobId + "/cancel";
        try {
            EngineHttp.Response r;
            try {
                r = http.send(http.request(path, CANCEL_TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()));
            } catch (EngineCallException first) {
                r = http.send(http.request(path, CANCEL_TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()));
            }
            if (r.status() == 409) {
                log.info("{}: job {} is already generating and sd-server cannot interrupt it ({}); its image will be dropped",
                        name, jobId, errorText(r));
            } else if (!r.ok() && r.status() != 404 && r.status() != 410) {
                log.warn("{}: cancelling job {} answered HTTP {}: {}", name, jobId, r.status(), errorText(r));
            }
        } catch (EngineCallException e) {
            log.warn("{}: could not cancel job {}: {}", name, jobId, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static BufferedImage image(String jobId, JsonNode job) throws EngineCallException {
        JsonNode images = job.path("result").path("images");
        String b64 = images.isArray() && !images.isEmpty() ? images.get(0).path("b64_json").asText("") : "";
        if (b64.isEmpty()) {
            throw new EngineCallException(true, "completed job " + jobId + " without an image");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new EngineCallException(true, "completed job " + jobId + " with an image that is not valid base64");
        }
        return EngineHttp.decodeImage(bytes, "the image of job " + jobId);
    }

    /** The job's own start and end (whole seconds), when our polls never saw it generating. */
    private static Duration serverDuration(JsonNode job) {
        long started = job.path("started").asLong(0);
        long completed = job.path("completed").asLong(0);
        return started > 0 && completed > started ? Duration.ofSeconds(completed - started) : Duration.ZERO;
    }

    private static String jobError(JsonNode job) {
        JsonNode error = job.path("error");
        String message = error.path("message").asText("");
        String code = error.path("code").asText("");
        if (message.isEmpty()) {
            return code.isEmpty() ? "no reason given" : code;
        }
        return code.isEmpty() ? message : message + " (" + code + ")";
    }

    /** sd-server's error bodies are {@code {"error": "..."}}, sometimes with a {@code "message"}. */
    static String errorText(EngineHttp.Response r) {
        try {
            JsonNode body = EngineHttp.json().readTree(r.body());
            if (body != null && body.isObject()) {
                List<String> parts = new ArrayList<>();
                if (body.path("error").isTextual()) {
                    parts.add(body.get("error").asText());
                } else if (body.path("error").isObject()) {
                    parts.add(body.get("error").path("message").asText(""));
                }
                if (body.path("message").isTextual()) {
                    parts.add(body.get("message").asText());
                }
                parts.removeIf(String::isBlank);
                if (!parts.isEmpty()) {
                    return EngineHttp.abbreviate(String.join(": ", parts));
                }
            }
        } catch (java.io.IOException e) {
            // not JSON: the raw text below
        }
        return r.body().length == 0 ? "(empty body)" : EngineHttp.abbreviate(r.text());
    }

    private static EngineCallException refused(String what, EngineHttp.Response r) {
        boolean transientStatus = r.status() == 408 || r.status() == 425 || r.status() == 429 || r.status() >= 500;
        return new EngineCallException(transientStatus, what + " with HTTP " + r.status() + ": " + errorText(r));
    }

    /** Retry-After in seconds or as an HTTP date, capped at a minute. */
    static Optional<Duration> retryAfter(EngineHttp.Response r) {
        Optional<String> header = r.header("Retry-After").map(String::strip).filter(v -> !v.isEmpty());
        if (header.isEmpty()) {
            return Optional.empty();
        }
        Duration wait;
        try {
            wait = Duration.ofMillis((long) (Double.parseDouble(header.get()) * 1000));
        } catch (NumberFormatException e) {
            try {
                wait = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(header.get(), DateTimeFormatter.RFC_1123_DATE_TIME));
            } catch (DateTimeParseException d) {
                return Optional.empty();
            }
        }
        if (wait.isNegative()) {
            wait = Duration.ZERO;
        }
        return Optional.of(min(wait, MAX_RETRY_AFTER));
    }

    @Override
    public EngineHealth probe() {
        try {
            EngineHttp.Response r = http.get("/sdcpp/v1/capabilities", PROBE_TIMEOUT);
            if (r.status() == 404) {
                return new EngineHealth.Down("sd-server at " + http.base() + " has no /sdcpp/v1/capabilities: "
                        + "it predates the native job API (update stable-diffusion.cpp) or it is not sd-server");
            }
            if (!r.ok()) {
                return new EngineHealth.Down("GET /sdcpp/v1/capabilities answered HTTP " + r.status() + ": " + errorText(r));
            }
            JsonNode caps = r.json();
            JsonNode modes = caps.path("supported_modes");
            if (modes.isArray()) {
                boolean images = false;
                for (JsonNode m : modes) {
                    images |= "img_gen".equals(m.asText());
                }
                if (!images) {
                    return new EngineHealth.Down("the model sd-server loaded cannot generate images (supported modes: " + modes + ")");
                }
            }
            if (settings.edit()) {
                JsonNode refImages = caps.path("features_by_mode").path("img_gen").path("ref_images");
                if (refImages.isMissingNode()) {
                    refImages = caps.path("features").path("ref_images");
                }
                if (refImages.isBoolean() && !refImages.asBoolean()) {
                    return new EngineHealth.Down("sd-server at " + http.base() + " takes no reference images (features: "
                            + "ref_images false), which edit=true needs");
                }
            }
            String model = caps.path("model").path("name").asText("");
            int queue = caps.path("limits").path("max_queue_size").asInt(0);
            return new EngineHealth.Up((model.isEmpty() ? "sd-server" : model) + (queue > 0 ? ", job queue " + queue : ""));
        } catch (EngineCallException e) {
            return new EngineHealth.Down("sd-server at " + http.base() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth.Down("probe interrupted");
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
