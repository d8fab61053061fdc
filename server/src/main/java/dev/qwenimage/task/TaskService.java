package dev.qwenimage.task;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import dev.qwenimage.tenant.Limits;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.OptionalInt;
import dev.qwenimage.health.DiskSpace;
import dev.qwenimage.image.ImageType;
import dev.qwenimage.outbound.OutboundGuard;
import dev.qwenimage.engine.InputImage;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.storage.BlobStore;

/**
 * The task domain as the API sees it: the contract's rules for a submit, enqueueing, and what a
 * poll reports (status, progress, honest ETA, image link).
 */
public final class TaskService {
    public static final String DEFAULT_SIZE = "1024*1024";
    /** The largest seed accepted: 2^53 - 1, the largest whole number every JSON client represents exactly. */
    public static final long MAX_SEED = (1L << 53) - 1;
    /** The largest seed of an edit: the vendor's edit API takes -1..2147483647. */
    public static final long MAX_EDIT_SEED = Integer.MAX_VALUE;

    /** Answers the link for a stored image, given the key and the caller's base URL. */
    @FunctionalInterface
    public interface ImageLinks {
        String link(String imageKey, String baseUrl);
    }

    private final TaskStore store;
    private final EtaEstimator eta;
    private final Clock clock;
    private final EngineAvailability engines;
    private final int maxAttempts;
    private final int maxPromptLength;
    /** Caps on QUEUED tasks, per API key and in all; 0 for none. */
    private final long maxQueuedPerKey;
    private final long maxQueued;
    private final ImageLinks links;
    private final OutboundGuard webhookTargets;
    private final DiskSpace disk;
    /** When to try again after a refusal for disk space: retention and operators free it in minutes, not seconds. */
    static final long LOW_DISK_RETRY_SECONDS = 60;
    private final SecureRandom random = new SecureRandom();
    /** The queue snapshot that ETAs and the global cap read; see {@link #queueStats()}. */
    private volatile Snapshot snapshot;
    private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();
    private static final long SNAPSHOT_MIN_AGE_NANOS = 500_000_000L;

    /**
     * A snapshot of the queue, kept for half a second or twenty times what it cost to take,
     * whichever is longer. While snapshots are cheap, a task created after one was taken gets a
     * new one (so a client polling right after its submit sees the tasks it queued before);
     * when the queue is so deep that counting it is costly, tasks share the older snapshot.
     */
    private record Snapshot(QueueStats stats, long takenAtNanos, Instant takenAt, long keepNanos) {
        boolean freshFor(Instant taskCreatedAt, long nowNanos) {
            return nowNanos - takenAtNanos <= keepNanos
                    && (!takenAt.isBefore(taskCreatedAt) || keepNanos > SNAPSHOT_MIN_AGE_NANOS);
        }
    }

    /**
     * @param engines the engines that can take work now (all configured ones when none is up), and why
     *                none can, asked on each poll of a queued or running task
     */
    public TaskService(TaskStore store, EtaEstimator eta, Clock clock, EngineAvailability engines,
                       int maxAttempts, int maxPromptLength, long maxQueuedPerKey, long maxQueued, ImageLinks links,
                       OutboundGuard webhookTargets, DiskSpace disk) {
        this.disk = disk;
        this.webhookTargets = webhookTargets;
        this.maxQueuedPerKey = maxQueuedPerKey;
        this.maxQueued = maxQueued;
        this.store = store;
        this.eta = eta;
        this.clock = clock;
        this.engines = engines;
        this.maxAttempts = maxAttempts;
        this.maxPromptLength = maxPromptLength;
        this.links = links;
    }

    /**
     * Validates {@code s}, checks the queue caps, stores the task durably and returns its id, for
     * a caller under the global limits only (tools and tests; the API passes each key's limits).
     */
    public String submit(String owner, Submission s) {
        return submit(owner, defaultLimits(), s, Optional.empty());
    }

    /** The limits of a key that has none of its own: the global per-key cap only. */
    public Limits defaultLimits() {
        return new Limits(maxQueuedPerKey, 0, 0, 0, List.of());
    }

    /**
     * Validates {@code s} under the caller's {@code limits}, checks the queue caps, stores the
     * task durably and returns its id. {@link QueueLimitReached} when the caller's key already has
     * its cap of queued tasks (429; exact under concurrency: counted in the insert's transaction)
     * or the whole queue is full (503, from a snapshot, so concurrent submits may overshoot it a
     * little); {@link QuotaExceeded} when the key had its tasks for the day. With an
     * {@code Idempotency-Key}, the same key and body within 24 hours return the task created the
     * first time; the same key with another body is refused ({@link IdempotencyKeyReused});
     * {@link KindUnavailable} when every engine of the service only edits.
     */
    public String submit(String owner, Limits limits, Submission s, Optional<IdempotencyKey> key) {
        TaskSpec spec = validate(s, limits);
        checkAllowed(limits, capable(TaskKind.TEXT_TO_IMAGE));
        checkRoom(spec);
        return admit(owner, limits, spec, TaskIds.next(clock), key);
    }

    /**
     * The engines that can run tasks of {@code kind}; {@link KindUnavailable} when engines are known
     * and none of them can (with none known yet, a fleet whose workers have not reported, the task
     * is taken and waits for one).
     */
    private List<EngineCapacity> capable(TaskKind kind) {
        List<EngineCapacity> all = engines.capacity();
        List<EngineCapacity> capable = engines.capacity(kind);
        if (!all.isEmpty() && capable.isEmpty()) {
            String have = String.join(", ", all.stream().map(EngineCapacity::engine).distinct().toList());
            throw new KindUnavailable(kind, kind == TaskKind.EDIT
                    ? "no engine of this service can edit images (it has " + have + ", which draw from text only); ask its "
                            + "operator to configure one that can, e.g. comfyui with an edit model"
                    : "no engine of this service draws from text (it has " + have + ", which only edit images); send edits to "
                            + "/v3/async/qwen-image-edit, or ask the operator for a text-to-image engine");
        }
        return capable;
    }

    /** {@link EngineNotAllowed} when the key may use none of {@code configured} (the engines that could run the task). */
    private void checkAllowed(Limits limits, List<EngineCapacity> capable) {
        if (!limits.allowedEngines().isEmpty()) {
            List<String> configured = capable.stream().map(EngineCapacity::engine).distinct().toList();
            if (!configured.isEmpty() && configured.stream().noneMatch(limits::allows)) {
                throw new EngineNotAllowed("this API key may use the engines " + String.join(", ", limits.allowedEngines())
                        + ", and none of them runs on this service (it has " + String.join(", ", configured)
                        + "); ask the service's operator to change the key's allowed engines");
            }
        }
    }

    /** Refuses a submit while the disk is short or the whole queue is full. */
    private void checkRoom(TaskSpec spec) {
        disk.shortage().ifPresent(why -> {
            throw new SubmitsPaused("LOW_DISK_SPACE", LOW_DISK_RETRY_SECONDS, "this server is not taking new tasks: " + why
                    + "; submit again later");
        });
        if (maxQueued > 0 && queueStats().queued() >= maxQueued) {
            throw new QueueLimitReached(false, retryAfterSeconds(spec),
                    "the queue is full (" + maxQueued + " tasks waiting); submit again later");
        }
    }

    /** Stores the task under the key's caps; the id of the task made, or of the one an idempotency key replays. */
    private String admit(String owner, Limits limits, TaskSpec spec, String id, Optional<IdempotencyKey> key) {
        Instant now = clock.instant();
        NewTask.Caps caps = new NewTask.Caps(limits.maxQueued(), limits.imagesPerDay(), now.truncatedTo(ChronoUnit.DAYS));
        return switch (store.admit(new NewTask(id, owner, spec, maxAttempts, now, caps, limits.allowedEngines()), key)) {
            case Admission.Created c -> c.taskId();
            case Admission.Replayed r -> r.taskId();
            case Admission.KeyReused r -> throw new IdempotencyKeyReused(key.orElseThrow().key(), r.taskId());
            case Admission.QueueCapReached r -> throw new QueueLimitReached(true, retryAfterSeconds(spec), "this API key already has "
                    + r.cap() + " tasks waiting, the most allowed; submit again when some of them have started");
            case Admission.DailyCapReached r -> {
                long untilMidnight = Math.max(1, Duration.between(now, now.truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1))).toSeconds());
                throw new QuotaExceeded(untilMidnight, "this API key has had its " + r.cap() + " tasks for today (UTC), the most "
                        + "allowed; the count starts again at 00:00 UTC, in " + dev.qwenimage.config.Durations.human(Duration.ofSeconds(untilMidnight)));
            }
        };
    }

    /**
     * Validates an edit, checks that an engine can run it and the queue caps, then (and only then)
     * takes its input image from {@code input} (which fetches or decodes it, and may throw
     * {@link dev.qwenimage.edit.ImageRejected}), stores the image in {@code blobs} beside the task, and
     * the task durably; returns its id. The task's size is the edit's working size, from the
     * input's aspect ratio. Refusals as {@link #submit(String, Limits, Submission, Optional)};
     * {@link KindUnavailable} when no engine of the service can edit. A submit that makes no new
     * task (a replay of an idempotency key, a cap reached) leaves no image behind.
     */
    public String submitEdit(String owner, Limits limits, EditSubmission s, Supplier<InputImage> input,
                             Optional<IdempotencyKey> key, BlobStore blobs) {
        // the text fields, by the same rules as text-to-image; the size comes from the image, and is checked once known
        TaskSpec text = validate(new Submission(s.prompt(), null, s.watermark(), s.seed(), s.negativePrompt(),
                Optional.empty(), s.webhookUrl()), new Limits(0, 0, 0, 0, List.of()));
        if (s.seed().isPresent() && s.seed().getAsLong() > MAX_EDIT_SEED) {
            throw new InvalidTaskRequest("INVALID_SEED", "seed", "an edit's seed must be -1 (random) or a whole number from 0 to "
                    + MAX_EDIT_SEED + ", as the vendor's edit API takes; got " + s.seed().getAsLong());
        }
        // a seed drawn here stays within the edit API's range too, so that every engine (the cloud's included) runs it as reported
        long seed = s.seed().isPresent() && s.seed().getAsLong() >= 0 ? s.seed().getAsLong() : text.seed() & MAX_EDIT_SEED;
        ImageType type = s.outputFormat().map(t -> ImageType.parse(t).orElseThrow(() -> new InvalidTaskRequest(
                "INVALID_OUTPUT_FORMAT", "output_format",
                "output_format must be jpeg, png or webp; got \"" + abbreviate(t) + "\""))).orElse(ImageType.JPEG);
        checkAllowed(limits, capable(TaskKind.EDIT));
        if (key.isPresent()) {
            // a retry of an edit already made answers its task without fetching or decoding the image again
            switch (store.earlier(owner, key.get(), clock.instant()).orElse(null)) {
                case Admission.Replayed r -> {
                    return r.taskId();
                }
                case Admission.KeyReused r -> throw new IdempotencyKeyReused(key.get().key(), r.taskId());
                case null, default -> {
                }
            }
        }
        checkRoom(text);
        InputImage image = input.get();
        if (limits.maxPixels() > 0 && (long) image.width() * image.height() > limits.maxPixels()) {
            throw new InvalidTaskRequest("INVALID_SIZE", "image", "an edit of this image is made at " + image.width() + "*"
                    + image.height() + " (" + ((long) image.width() * image.height()) + " pixels); this API key allows at most "
                    + limits.maxPixels());
        }
        String id = TaskIds.next(clock);
        String inputKey = inputKey(id);
        TaskSpec spec = new TaskSpec(text.prompt(), text.negativePrompt(), image.width(), image.height(), text.watermark(),
                seed, text.steps(), type, text.webhookUrl(), TaskKind.EDIT, Optional.of(inputKey));
        blobs.put(inputKey, image.png(), InputImage.CONTENT_TYPE);
        boolean made = false;
        try {
            String taskId = admit(owner, limits, spec, id, key);
            made = taskId.equals(id);
            return taskId;
        } finally {
            if (!made) {
                try {
                    blobs.delete(inputKey);
                } catch (RuntimeException e) {
                    // an input no task points at is only space; the submit's own outcome matters more
                }
            }
        }
    }

    /** The blob key of task {@code id}'s input image. */
    public static String inputKey(String id) {
        return id + ".input.png";
    }

    /**
     * Cancels the caller's task: a waiting one never runs, a running one stops at its next step
     * boundary; both end FAILED with reason "cancelled". {@code stopHere} stops it at once when
     * this process runs it (other nodes learn of it from the store within a second).
     */
    public CancelOutcome cancel(String owner, String id, java.util.function.Consumer<String> stopHere) {
        find(owner, id);
        CancelOutcome outcome = store.cancel(id, clock.instant());
        if (outcome == CancelOutcome.REQUESTED) {
            stopHere.accept(id);
        }
        return outcome;
    }

    /** About one task's run on a typical slot: when a queued task of the caller is likely to have started. */
    private long retryAfterSeconds(TaskSpec spec) {
        long own = eta.queuedEtaSeconds(spec.width(), spec.height(), engines.capacity(), 0, QueueStats.EMPTY);
        return Math.clamp(own, 1, 120);
    }

    TaskSpec validate(Submission s) {
        return validate(s, Limits.NONE);
    }

    TaskSpec validate(Submission s, Limits limits) {
        if (s.prompt() == null) {
            throw new InvalidTaskRequest("INVALID_PROMPT", "prompt", "prompt is required: send {\"prompt\": \"what to draw\"}");
        }
        TextRules.problem("prompt", s.prompt()).ifPresent(problem -> {
            throw new InvalidTaskRequest("INVALID_PROMPT", "prompt", problem);
        });
        if (!TextRules.hasVisible(s.prompt())) {
            throw new InvalidTaskRequest("INVALID_PROMPT", "prompt", "prompt is required and must not be empty or only white space");
        }
        String prompt = s.prompt().strip();
        int length = TextRules.length(prompt);
        if (length > maxPromptLength) {
            throw new InvalidTaskRequest("INVALID_PROMPT", "prompt",
                    "prompt is " + length + " characters long; the maximum is " + maxPromptLength);
        }
        String sizeText = s.size() == null ? DEFAULT_SIZE : s.size();
        ImageSize size = ImageSize.parse(sizeText).orElseThrow(() -> new InvalidTaskRequest("INVALID_SIZE", "size",
                "size must be <width>*<height> with each side a whole number in " + ImageSize.MIN_SIDE + ".." + ImageSize.MAX_SIDE
                        + " (digits only: no sign, no leading zero), e.g. \"1024*1024\"; got \"" + abbreviate(sizeText) + "\""));
        if (!size.inRange()) {
            throw new InvalidTaskRequest("INVALID_SIZE", "size",
                    "size must be <width>*<height> with each side in " + ImageSize.MIN_SIDE + ".." + ImageSize.MAX_SIDE + "; got " + size);
        }
        int w = size.width();
        int h = size.height();
        if (limits.maxPixels() > 0 && (long) w * h > limits.maxPixels()) {
            throw new InvalidTaskRequest("INVALID_SIZE", "size", "size " + size + " is " + ((long) w * h) + " pixels; this API key "
                    + "allows at most " + limits.maxPixels() + " (e.g. " + largestSquare(limits.maxPixels()) + ")");
        }
        if (s.seed().isPresent() && (s.seed().getAsLong() < -1 || s.seed().getAsLong() > MAX_SEED)) {
            throw new InvalidTaskRequest("INVALID_SEED", "seed",
                    "seed must be -1 (random) or a whole number from 0 to " + MAX_SEED + "; got " + s.seed().getAsLong());
        }
        long seed = s.seed().isPresent() && s.seed().getAsLong() >= 0 ? s.seed().getAsLong() : random.nextLong(0, 1L << 32);
        String negative = s.negativePrompt() == null ? "" : s.negativePrompt();
        TextRules.problem("negative_prompt", negative).ifPresent(problem -> {
            throw new InvalidTaskRequest("INVALID_NEGATIVE_PROMPT", "negative_prompt", problem);
        });
        negative = negative.strip();
        if (TextRules.length(negative) > maxPromptLength) {
            throw new InvalidTaskRequest("INVALID_NEGATIVE_PROMPT", "negative_prompt",
                    "negative_prompt is longer than " + maxPromptLength + " characters");
        }
        ImageType type = s.imageType().map(t -> ImageType.parse(t).orElseThrow(() -> new InvalidTaskRequest(
                "INVALID_IMAGE_TYPE", "extra.response_image_type",
                "extra.response_image_type must be jpeg, png or webp; got \"" + abbreviate(t) + "\""))).orElse(ImageType.JPEG);
        Optional<String> webhook = s.webhookUrl().map(String::strip);
        if (webhook.isPresent()) {
            webhookTargets.problemWithoutLookup(webhook.get()).ifPresent(problem -> {
                throw new InvalidTaskRequest("INVALID_WEBHOOK_URL", "extra.webhook.url", "webhook url refused: " + problem);
            });
        }
        return new TaskSpec(prompt, negative, w, h, s.watermark(), seed, OptionalInt.empty(), type, webhook);
    }

    /** The caller's view of task {@code id}; {@link TaskNotFound} if it is not theirs. */
    public TaskView view(String owner, String id, String baseUrl) {
        return view(find(owner, id), () -> baseUrl);
    }

    /** As {@link #view(String, String, String)}, working the base URL out only when a link is needed (a finished task). */
    public TaskView view(String owner, String id, Supplier<String> baseUrl) {
        return view(find(owner, id), baseUrl);
    }

    /** The view of a finished task for its webhook (whoever owns it), or empty when it is gone. */
    public Optional<TaskView> viewForWebhook(String id, String baseUrl) {
        return store.find(id).map(t -> view(t, () -> baseUrl));
    }

    private TaskView view(Task task, Supplier<String> baseUrl) {
        int w = task.spec().width();
        int h = task.spec().height();
        return switch (task.state()) {
            case TaskState.Queued q -> {
                Optional<String> blocked = engines.nothingRunsBecause();
                if (blocked.isPresent()) {
                    // no engine can start it, so there is no pace to measure: the ETA is the time left
                    // until the task is given up unless an engine comes back (0 when it waits however
                    // long), and the wait reason says why
                    long left = engines.givesUpAt(task.createdAt())
                            .map(at -> Math.max(0, java.time.Duration.between(clock.instant(), at).toSeconds())).orElse(0L);
                    yield new TaskView(task, left, 0, Optional.empty(), blocked);
                }
                QueueStats stats = queueStats(task.createdAt());
                List<EngineCapacity> lanes = task.spec().steps().isPresent()
                        ? engines.capacity(task.spec().kind()).stream().map(l -> l.withSteps(task.spec().steps().getAsInt())).toList()
                        : engines.capacity(task.spec().kind());
                yield new TaskView(task, eta.queuedEtaSeconds(w, h, EtaEstimator.paced(lanes, task.spec().kind()),
                        stats.queuedAhead(task.turn()), stats), 0,
                        Optional.empty(), Optional.empty());
            }
            case TaskState.Processing p -> {
                String engine = task.engine().orElse("");
                int steps = task.spec().steps().orElseGet(() -> engines.capacity().stream()
                        .filter(l -> l.engine().equals(engine)).mapToInt(EngineCapacity::defaultSteps).findFirst().orElse(20));
                yield new TaskView(task, eta.runningEtaSeconds(EtaEstimator.paceKey(engine, task.spec().kind()), w, h, steps,
                        p.progressPercent()),
                        Math.min(99, p.progressPercent()), Optional.empty(), Optional.empty());
            }
            case TaskState.Succeeded s -> new TaskView(task, 0, 100, Optional.of(links.link(s.imageKey(), baseUrl.get())), Optional.empty());
            case TaskState.Failed f -> new TaskView(task, 0, 0, Optional.empty(), Optional.empty());
        };
    }

    /**
     * The queue as of a moment ago: polls of queued tasks and submits share one snapshot instead
     * of each counting the queue, so a poll stays one indexed read however deep the queue is (see
     * {@link Snapshot} for how long one lives): counting never takes more than about a twentieth
     * of the store's time.
     */
    private QueueStats queueStats() {
        return queueStats(Instant.MIN);
    }

    private QueueStats queueStats(Instant taskCreatedAt) {
        Snapshot s = snapshot;
        long now = System.nanoTime();
        if (s != null && s.keepNanos() > SNAPSHOT_MIN_AGE_NANOS) {
            // a deep queue: counting it takes long, so one caller refreshes in the background
            // while every poll goes on with the snapshot it has
            if (!s.freshFor(taskCreatedAt, now) && refreshing.compareAndSet(false, true)) {
                Thread.ofVirtual().name("queue-snapshot").start(() -> {
                    try {
                        takeSnapshot();
                    } finally {
                        refreshing.set(false);
                    }
                });
            }
            return s.stats();
        }
        if (s == null || !s.freshFor(taskCreatedAt, now)) {
            synchronized (this) {
                s = snapshot;
                if (s == null || !s.freshFor(taskCreatedAt, System.nanoTime())) {
                    s = takeSnapshot();
                }
            }
        }
        return s.stats();
    }

    private Snapshot takeSnapshot() {
        Instant at = clock.instant();
        long t0 = System.nanoTime();
        QueueStats stats = store.stats();
        long t1 = System.nanoTime();
        Snapshot s = new Snapshot(stats, t1, at, Math.max(SNAPSHOT_MIN_AGE_NANOS, 20 * (t1 - t0)));
        snapshot = s;
        return s;
    }


    /** The task if {@code owner} owns it. */
    public Task find(String owner, String id) {
        return Optional.ofNullable(id)
                .flatMap(i -> store.find(owner, i))
                .orElseThrow(() -> new TaskNotFound(id));
    }

    /** The largest square size of at most {@code pixels}, in steps of 8, as an example for a message. */
    private static String largestSquare(long pixels) {
        long side = Math.max(ImageSize.MIN_SIDE, (long) Math.floor(Math.sqrt(pixels)) / 8 * 8);
        return side + "*" + side;
    }

    private static String abbreviate(String s) {
        return TaskIds.quoted(s);
    }

}
