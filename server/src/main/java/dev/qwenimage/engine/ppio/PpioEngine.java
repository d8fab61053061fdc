package dev.qwenimage.engine.ppio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Durations;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays each image to the PPIO / Novita cloud, which serves Qwen-Image behind the very async API
 * this service implements: submit {@code POST /v3/async/qwen-image-txt2img}, poll
 * {@code GET /v3/async/task-result?task_id=...} until {@code TASK_STATUS_SUCCEED} or
 * {@code TASK_STATUS_FAILED}, then download {@code images[0].image_url} with a plain GET. It lets a
 * deployment without a GPU, or one whose GPUs are busy, burst to the cloud; every image it makes
 * is billed by the provider.
 *
 * <p>Protocol facts (PPIO's "Qwen-Image 文生图" and "查询任务结果" reference pages, Novita's
 * "Qwen-Image Text to Image" and "Task Result" pages): the submit body takes only {@code prompt},
 * {@code size} ("W*H", 256..1536 a side) and {@code watermark}; there is no seed, negative prompt or
 * step count, so none is sent. Auth is {@code Authorization: Bearer <key>}. The API has no cancel
 * endpoint: a cancelled task stops being polled and the cloud finishes (and bills) it regardless.
 *
 * <p>Edits go to the sibling endpoint {@code POST /v3/async/qwen-image-edit} (PPIO's "Qwen-Image
 * 图像编辑" and Novita's "Qwen-Image Edit" pages): {@code prompt}, {@code image} (a URL or base64;
 * the engine sends the stored input PNG as bare base64), {@code seed} (-1 or 0..2147483647) and
 * {@code output_format} ({@code png} here: the service encodes the final image itself, so the
 * cloud's copy should be lossless). The cloud sizes its answer from the input, which is already at
 * the edit's working size. The task is polled and its image downloaded as for text-to-image.
 *
 * <p>Failures: 429, 408, 425, 5xx and unreachable moments are retried here (honouring
 * {@code Retry-After}) for up to {@code retry_for} in a row, within the task's time limit; a refused
 * key (401/402/403) is an engine failure, not the task's, so it is transient and the circuit
 * breaker takes the engine out; other 4xx are permanent with the cloud's message; a task the cloud
 * fails is permanent with the cloud's reason.
 */
public final class PpioEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(PpioEngine.class);

    /** PPIO's API host as its current Qwen-Image reference page names it; api.ppinfra.com and api.novita.ai serve the same API. */
    public static final URI DEFAULT_BASE = URI.create("https://api.ppio.com");
    static final String SUBMIT = "/v3/async/qwen-image-txt2img";
    static final String SUBMIT_EDIT = "/v3/async/qwen-image-edit";
    /** The largest seed the edit endpoint takes. */
    static final long MAX_SEED = Integer.MAX_VALUE;
    static final String TASK_RESULT = "/v3/async/task-result?task_id=";
    /** A task id no account owns: the probe asks for it, which costs nothing and proves the key. */
    static final String PROBE_TASK_ID = "00000000-0000-0000-0000-000000000000";
    public static final Set<String> OPTIONS = Set.of("key", "poll", "retry_for", "steps");

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final EngineHttp http;
    private final Duration poll;
    private final Duration maxPoll;
    private final Duration retryFor;
    private final int steps;

    /**
     * @param poll     first wait before polling the task; the wait grows by half each poll up to 5x this
     * @param retryFor how long the cloud may keep answering 429/5xx (or be unreachable while a task
     *                 runs there) in a row before this attempt gives up as a transient failure
     * @param steps    only for the ETA: the cloud takes no step count
     */
    public PpioEngine(String name, URI base, String key, Duration poll, Duration retryFor, int steps) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("the PPIO key is required");
        }
        if (poll.isNegative() || poll.isZero()) {
            throw new IllegalArgumentException("poll must be positive");
        }
        this.name = name;
        this.http = new EngineHttp(name, base, CONNECT_TIMEOUT, Map.of("Authorization", "Bearer " + key.strip()));
        this.poll = poll;
        this.maxPoll = poll.multipliedBy(5);
        this.retryFor = retryFor;
        this.steps = steps;
    }

    /** Builds the engine from its configuration entry, e.g. {@code ppio?key=sk_...&slots=8}. */
    public static PpioEngine from(EngineSpec spec) {
        spec.requireOnly(OPTIONS);
        String key = spec.option("key").orElseThrow(() -> new ConfigException(spec.where()
                + ": option 'key' is missing; the ppio engine needs your PPIO (or Novita) API key, e.g. ppio?key=sk_..."));
        Duration poll = spec.durationOption("poll", Duration.ofSeconds(1));
        if (poll.isZero() || poll.isNegative()) {
            throw new ConfigException(spec.where() + ": poll must be longer than 0, e.g. poll=1s");
        }
        Duration retryFor = spec.durationOption("retry_for", Duration.ofMinutes(2));
        int steps = spec.intOption("steps", 20, 1, 1000);
        return new PpioEngine(spec.name(), spec.url().orElse(DEFAULT_BASE), key, poll, retryFor, steps);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "ppio (Qwen-Image in the PPIO/Novita cloud at " + http.base() + "; each image is billed by the provider), polls every "
                + Durations.human(poll) + "-" + Durations.human(maxPoll);
    }

    /** Both: the cloud serves Qwen-Image and Qwen-Image-Edit behind the same key. */
    @Override
    public java.util.Set<TaskKind> kinds() {
        return TaskKind.ALL;
    }

    @Override
    public int defaultSteps() {
        return steps;
    }

    @Override
    public Duration typicalStepTime() {
        // a prior of about 15 s per image (cloud queue, generation and download) spread over the
        // configured steps, whatever their number; replaced by measured times after the first images
        return Duration.ofMillis(15_000 / steps);
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        Waiter waiter = new Waiter(cancellation);
        String upstreamId = null;
        try {
            upstreamId = submit(request, waiter);
            log.info("task {} runs in the cloud as {} task {}", request.taskId(), name, upstreamId);
            JsonNode finished = awaitFinished(upstreamId, progress, waiter);
            BufferedImage image = download(finished, waiter);
            progress.step(100, 100);
            return new GenerationResult.Success(image);
        } catch (EngineCallException e) {
            return http.failure(e);
        } catch (Stopped e) {
            if (upstreamId != null) {
                log.info("task {} cancelled ({}); the cloud has no cancel, so {} task {} runs on there unpolled",
                        request.taskId(), cancellation.reason(), name, upstreamId);
            }
            return new GenerationResult.Cancelled(cancellation.reason());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new GenerationResult.Cancelled("interrupted");
        }
    }

    /**
     * Asks for a task whose id the cloud never handed out: 404 (or 400) means the cloud is
     * reachable and accepted the key, 401/402/403 that the key was refused. Reading a task
     * result is free, unlike a submit.
     */
    @Override
    public EngineHealth probe() {
        EngineHttp.Response r;
        try {
            r = http.get(TASK_RESULT + PROBE_TASK_ID, PROBE_TIMEOUT);
        } catch (EngineCallException e) {
            return new EngineHealth.Down(http.base() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth.Down("probe interrupted");
        }
        int s = r.status();
        if (isKeyRefused(s)) {
            String detail = upstreamMessage(r);
            return new EngineHealth.Down("the PPIO key was refused by " + http.base() + " (HTTP " + s
                    + (detail.isEmpty() ? "" : ": " + detail) + "); check this engine's key= option");
        }
        if (s == 404 || s == 400 || r.ok()) {
            return new EngineHealth.Up("cloud reachable, key accepted");
        }
        if (s == 429) {
            return new EngineHealth.Up("cloud reachable, key accepted, rate limited at the moment");
        }
        return new EngineHealth.Down(answered("GET /v3/async/task-result", r));
    }

    // ---- the three steps -----------------------------------------------------------------------

    /** The submit's body: text-to-image's documented fields, or the edit's. */
    static Map<String, Object> submitBody(GenerationRequest request) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", request.prompt());
        if (request.isEdit()) {
            body.put("image", request.input().orElseThrow().base64());
            // the service's seeds go up to 2^53 - 1, the cloud's to 2^31 - 1: the low 31 bits, the same seed below that
            body.put("seed", request.seed() & MAX_SEED);
            body.put("output_format", "png");
            return body;
        }
        body.put("size", request.width() + "*" + request.height());
        // the service marks images itself after resizing; the cloud's mark would come on top
        body.put("watermark", false);
        return body;
    }

    private String submit(GenerationRequest request, Waiter waiter) throws EngineCallException, Stopped, InterruptedException {
        Map<String, Object> body = submitBody(request);
        String path = request.isEdit() ? SUBMIT_EDIT : SUBMIT;
        byte[] bytes;
        try {
            bytes = EngineHttp.json().writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render the submit body", e);
        }
        // Not an unreachable cloud: a submit that could not be sent created nothing there, and the
        // task is better offered to another engine at once.
        EngineHttp.Response r = withRetries("POST " + path, false, waiter, () -> http.postJson(path, bytes, CALL_TIMEOUT));
        if (!r.ok()) {
            throw refusal("POST " + path, r);
        }
        String id = r.json().path("task_id").asText("");
        if (id.isBlank()) {
            throw new EngineCallException(true, "answered the submit without a task_id: " + EngineHttp.abbreviate(r.text()));
        }
        return id;
    }

    private JsonNode awaitFinished(String upstreamId, ProgressSink progress, Waiter waiter)
            throws EngineCallException, Stopped, InterruptedException {
        String path = TASK_RESULT + URLEncoder.encode(upstreamId, StandardCharsets.UTF_8);
        Duration interval = poll;
        int lastPercent = -1;
        while (true) {
            waiter.sleep(interval);
            interval = min(Duration.ofMillis(interval.toMillis() * 3 / 2), maxPoll);
            EngineHttp.Response r = withRetries("GET /v3/async/task-result", true, waiter, () -> http.get(path, CALL_TIMEOUT));
            if (r.status() == 404) {
                throw new EngineCallException(true, "no longer knows its task " + upstreamId + " (" + answered("GET /v3/async/task-result", r) + ")");
            }
            if (!r.ok()) {
                throw refusal("GET /v3/async/task-result", r);
            }
            JsonNode root = r.json();
            JsonNode task = root.path("task");
            String status = task.path("status").asText("");
            switch (status) {
                case "TASK_STATUS_SUCCEED" -> {
                    return root;
                }
                case "TASK_STATUS_FAILED" -> {
                    String reason = task.path("reason").asText("").strip();
                    throw new EngineCallException(false, "reports that the cloud failed the task: "
                            + (reason.isEmpty() ? "no reason given" : EngineHttp.abbreviate(reason)));
                }
                default -> {
                    // TASK_STATUS_QUEUED, TASK_STATUS_PROCESSING, or TASK_STATUS_UNKNOWN while the
                    // cloud catches up: keep polling, within the task's time limit
                    int percent = Math.clamp(task.path("progress_percent").asInt(0), 0, 100);
                    if (percent > lastPercent) {
                        lastPercent = percent;
                        progress.step(percent, 100);
                    }
                }
            }
        }
    }

    private BufferedImage download(JsonNode finished, Waiter waiter) throws EngineCallException, Stopped, InterruptedException {
        String link = finished.path("images").path(0).path("image_url").asText("");
        if (link.isBlank()) {
            throw new EngineCallException(true, "reported the task done without an image_url");
        }
        URI url;
        try {
            url = http.base().resolve(link.strip());
        } catch (IllegalArgumentException e) {
            throw new EngineCallException(true, "handed out an image_url that is not a URL: " + EngineHttp.abbreviate(link));
        }
        if (!"https".equalsIgnoreCase(url.getScheme()) && !"http".equalsIgnoreCase(url.getScheme())) {
            throw new EngineCallException(true, "handed out an image_url that is not http(s): " + EngineHttp.abbreviate(link));
        }
        // a plain GET: the link is signed or public, and the key never goes to another host
        EngineHttp.Response r = withRetries("GET image " + url.getHost(), true, waiter, () -> http.getAbsolute(url, DOWNLOAD_TIMEOUT));
        if (!r.ok()) {
            throw new EngineCallException(true, answered("the image download from " + url.getHost(), r));
        }
        return EngineHttp.decodeImage(r.body(), "the image from " + url.getHost());
    }

    // ---- retries and errors --------------------------------------------------------------------

    @FunctionalInterface
    private interface Call {
        EngineHttp.Response send() throws EngineCallException, InterruptedException;
    }

    /**
     * Sends {@code call} until it answers something other than 408, 425, 429 or 5xx (and, when
     * {@code retryUnreachable}, until it is reachable), waiting {@code Retry-After} when the cloud
     * names it and a doubling back-off otherwise; gives up with a transient failure once failures
     * have lasted {@code retry_for}, and stops at once when the task is cancelled.
     */
    private EngineHttp.Response withRetries(String what, boolean retryUnreachable, Waiter waiter, Call call)
            throws EngineCallException, Stopped, InterruptedException {
        long firstFailure = 0;
        boolean failing = false;
        Duration backoff = poll;
        while (true) {
            waiter.check();
            EngineCallException failure;
            Duration wait = backoff;
            try {
                EngineHttp.Response r = call.send();
                if (!retryable(r.status())) {
                    return r;
                }
                failure = new EngineCallException(true, answered(what, r));
                Optional<Duration> asked = retryAfter(r);
                if (asked.isPresent() && asked.get().compareTo(wait) > 0) {
                    wait = asked.get();
                }
            } catch (EngineCallException e) {
                if (!retryUnreachable || !e.isTransient()) {
                    throw e;
                }
                failure = e;
            }
            long now = System.nanoTime();
            if (!failing) {
                failing = true;
                firstFailure = now;
            }
            if (now + wait.toNanos() - firstFailure > retryFor.toNanos()) {
                Duration spent = Duration.ofMillis((now - firstFailure) / 1_000_000);
                throw new EngineCallException(true, failure.getMessage()
                        + (spent.isZero() ? "" : " (still failing after " + Durations.human(spent) + " of retries)"));
            }
            log.debug("{}: {}; retrying in {}", name, failure.getMessage(), Durations.human(wait));
            waiter.sleep(wait);
            backoff = min(backoff.multipliedBy(2), maxPoll);
        }
    }

    private static boolean retryable(int status) {
        return status == 408 || status == 425 || status == 429 || status >= 500;
    }

    private static boolean isKeyRefused(int status) {
        return status == 401 || status == 402 || status == 403;
    }

    /** The failure for a final non-2xx answer: a refused key is the engine's problem, any other 4xx the request's. */
    private static EngineCallException refusal(String what, EngineHttp.Response r) {
        if (isKeyRefused(r.status())) {
            return keyRefused(r);
        }
        return new EngineCallException(retryable(r.status()), answered(what, r));
    }

    private static EngineCallException keyRefused(EngineHttp.Response r) {
        String detail = upstreamMessage(r);
        return new EngineCallException(true, "refused the PPIO key (HTTP " + r.status() + (detail.isEmpty() ? "" : ": " + detail)
                + "); check this engine's key= option and the account's balance and permissions");
    }

    private static String answered(String what, EngineHttp.Response r) {
        String detail = upstreamMessage(r);
        return what + " answered HTTP " + r.status() + (detail.isEmpty() ? "" : ": " + detail);
    }

    /**
     * The cloud's own words from an error answer. The contract's body is
     * {@code {"code", "reason", "message", "metadata"}}; older Novita endpoints answer
     * {@code {"code", "msg"}}, OpenAI-style gateways {@code {"error": {"message"}}}, proxies plain text.
     */
    static String upstreamMessage(EngineHttp.Response r) {
        String text = r.text().strip();
        if (text.isEmpty()) {
            return "";
        }
        JsonNode body;
        try {
            body = EngineHttp.json().readTree(text);
        } catch (java.io.IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            return EngineHttp.abbreviate(text);
        }
        String message = firstText(body.path("message"), body.path("msg"), body.path("error").path("message"),
                body.path("error"), body.path("detail"));
        String reason = body.path("reason").isTextual() ? body.path("reason").asText().strip() : "";
        if (message.isEmpty()) {
            return reason.isEmpty() ? EngineHttp.abbreviate(text) : reason;
        }
        return EngineHttp.abbreviate(reason.isEmpty() || reason.equals(message) ? message : reason + ": " + message);
    }

    private static String firstText(JsonNode... candidates) {
        for (JsonNode n : candidates) {
            if (n.isTextual() && !n.asText().isBlank()) {
                return n.asText().strip();
            }
        }
        return "";
    }

    /** {@code Retry-After} as seconds or as an HTTP date. */
    static Optional<Duration> retryAfter(EngineHttp.Response r) {
        Optional<String> header = r.header("Retry-After").map(String::strip).filter(v -> !v.isEmpty());
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String v = header.get();
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(v))));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException ignored) {
                return Optional.empty();
            }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Thrown when the task was cancelled while this engine waited or between calls. */
    private static final class Stopped extends Exception {
        Stopped() {
            super(null, null, false, false);
        }
    }

    /** Sleeps that end early when the task is cancelled (time limit, shutdown, lost lease). */
    private static final class Waiter {
        private final Cancellation cancellation;
        private final CountDownLatch cancelled = new CountDownLatch(1);

        Waiter(Cancellation cancellation) {
            this.cancellation = cancellation;
            cancellation.onCancel(cancelled::countDown);
        }

        void check() throws Stopped {
            if (cancellation.isCancelled()) {
                throw new Stopped();
            }
        }

        void sleep(Duration d) throws Stopped, InterruptedException {
            check();
            if (cancelled.await(d.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new Stopped();
            }
        }
    }
}
