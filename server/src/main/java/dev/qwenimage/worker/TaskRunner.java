package dev.qwenimage.worker;

import dev.qwenimage.ops.Logging;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.InputImage;
import dev.qwenimage.engine.TaskKind;
import java.util.Optional;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.image.ImagePipeline;
import dev.qwenimage.image.ImageType;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.storage.BlobStore;
import dev.qwenimage.task.EtaEstimator;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.awt.image.BufferedImage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import dev.qwenimage.config.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one claimed task to its end: engine, post-processing, storage, and the store transition
 * that matches the outcome (success, retry after a transient failure, failure, or hand-back).
 */
public final class TaskRunner {
    private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);
    static final String SHUTDOWN = "the service is shutting down";
    static final String LEASE_LOST = "this worker lost its lease on the task";
    static final String TIMED_OUT = "timed out";
    static final String CANCELLED = "cancelled";
    /** Fires the per-task time limits; the tasks themselves run on the slots' threads. */
    private static final ScheduledThreadPoolExecutor TIMERS = timers();
    /** Progress is reported at most this often per task. */
    private static final long PROGRESS_INTERVAL_NANOS = Duration.ofMillis(250).toNanos();
    /** The node's progress reports go to the store together, this often (polls see them within a second). */
    private static final long PROGRESS_FLUSH_MILLIS = 500;

    private final TaskStore store;
    private final ImagePipeline pipeline;
    private final BlobStore blobs;
    private final EtaEstimator eta;
    private final Clock clock;
    private final Metrics metrics;
    private final ProgressWrites progress;
    /** Tasks given back to the queue because this process was stopping. */
    private final java.util.concurrent.atomic.AtomicInteger handedBack = new java.util.concurrent.atomic.AtomicInteger();

    public TaskRunner(TaskStore store, ImagePipeline pipeline, BlobStore blobs, EtaEstimator eta, Clock clock, Metrics metrics) {
        this.metrics = metrics;
        this.store = store;
        this.pipeline = pipeline;
        this.blobs = blobs;
        this.eta = eta;
        this.clock = clock;
        this.progress = new ProgressWrites(store, TIMERS, PROGRESS_FLUSH_MILLIS);
    }

    /** How many running tasks went back to the queue because the service was stopping. */
    public int handedBack() {
        return handedBack.get();
    }

    /**
     * Gives a running task back to the queue without spending an attempt (this process stops); a
     * no-op when its lease is no longer {@code workerId}'s (it was handed back already, or taken over).
     */
    public void handBack(String taskId, String workerId) {
        if (store.release(taskId, workerId, clock.instant())) {
            handedBack.incrementAndGet();
            log.info("task {} handed back to the queue", taskId);
        }
    }

    /** The blob key of a task's image: one per task, so a re-run overwrites instead of adding. */
    public static String imageKey(String taskId, ImageType type) {
        return taskId + "." + type.wireName();
    }

    /**
     * Runs {@code task} on the lane's engine and records the outcome both in the store and in the
     * engine's guard (a transient failure counts against the engine; a success clears its streak).
     * An image is finished (post-processing, storage, SUCCEED) on {@code finisher}, so the calling
     * slot can hand its engine the next task at once; {@code done} runs when the task is through,
     * whichever way it ended; {@code engineDone} as soon as the engine has let go of it (before the
     * image is finished), so the pool knows what it may still hand back.
     */
    public void run(Task task, WorkerPool.Lane lane, String workerId, Cancellation cancellation, Executor finisher,
                    Runnable engineDone, Runnable done) {
        Engine engine = lane.guard().engine();
        ScheduledFuture<?> timer = lane.timeout().isZero() ? null
                : TIMERS.schedule(() -> cancellation.cancel(TIMED_OUT), lane.timeout().toMillis(), TimeUnit.MILLISECONDS);
        boolean handedOff = false;
        try {
            TaskSpec spec = task.spec();
            int steps = spec.steps().orElse(engine.defaultSteps(spec.kind()));
            GenerationRequest asked = GenerationRequest.forSize(task.id(), spec.prompt(), spec.negativePrompt(),
                    spec.width(), spec.height(), spec.seed(), steps);
            if (spec.kind() == TaskKind.EDIT) {
                Optional<InputImage> input;
                try {
                    input = input(task);
                } catch (RuntimeException e) {
                    String errorId = errorId();
                    log.error("task {}: cannot read its input image (error id {})", task.id(), errorId, e);
                    retry(task, workerId, "the input image could not be read from the image store (error id " + errorId + ")");
                    return;
                }
                if (input.isEmpty()) {
                    failed(task, workerId, "the input image of this edit is no longer stored; submit the edit again");
                    return;
                }
                asked = asked.editing(input.get());
            }
            GenerationRequest request = asked;
            if (task.attempts() == 1) {
                metrics.stage("queue", engine.name(), Duration.between(task.createdAt(), clock.instant()));
            }
            long t0 = System.nanoTime();
            GenerationResult result;
            try {
                result = generate(engine, request, progressWriter(task.id(), workerId), cancellation);
            } finally {
                progress.drop(task.id()); // a report not yet written must not land after what comes next
                engineDone.run();
            }
            long engineNanos = System.nanoTime() - t0;
            metrics.stage("engine", engine.name(), Duration.ofNanos(engineNanos));
            metrics.keyEngineTime(task.owner(), Duration.ofNanos(engineNanos));
            if (timer != null) {
                timer.cancel(false);
            }
            if (result instanceof GenerationResult.Cancelled c && TIMED_OUT.equals(c.reason())) {
                result = new GenerationResult.TransientFailure(engine.name() + " did not finish the image within "
                        + Durations.human(lane.timeout()));
            }
            switch (result) {
                case GenerationResult.Success s -> {
                    lane.guard().succeeded();
                    Runnable finish = () -> {
                        try {
                            finish(task, engine, request, s.image(), engineNanos, workerId);
                        } finally {
                            done.run();
                        }
                    };
                    try {
                        finisher.execute(finish);
                    } catch (RejectedExecutionException e) {
                        finish.run(); // shutting down: finish here rather than lose the image
                    }
                    handedOff = true;
                }
                case GenerationResult.TransientFailure f -> {
                    lane.guard().failed(f.reason());
                    retry(task, workerId, f.reason());
                }
                case GenerationResult.PermanentFailure f -> failed(task, workerId, f.reason());
                case GenerationResult.Cancelled c -> {
                    if (SHUTDOWN.equals(c.reason())) {
                        handBack(task.id(), workerId);
                    } else if (!LEASE_LOST.equals(c.reason())) {
                        failed(task, workerId, "cancelled");
                    }
                }
            }
        } finally {
            if (timer != null) {
                timer.cancel(false);
            }
            if (!handedOff) {
                done.run();
            }
        }
    }

    /** The edit's input image as stored at submit, or empty when it is gone. */
    private Optional<InputImage> input(Task task) {
        String key = task.spec().inputKey().orElseThrow();
        Optional<BlobStore.Blob> blob = blobs.open(key);
        if (blob.isEmpty()) {
            log.warn("task {}: its input image {} is not in the image store", task.id(), key);
            return Optional.empty();
        }
        try (java.io.InputStream in = blob.get().content()) {
            return Optional.of(new InputImage(in.readAllBytes(), task.spec().width(), task.spec().height()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the input image " + key, e);
        }
    }

    private GenerationResult generate(Engine engine, GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        try {
            return engine.generate(request, progress, cancellation);
        } catch (RuntimeException | LinkageError e) { // a class that failed to load (a broken install) fails this try, not the slot
            String errorId = errorId();
            log.error("engine {} threw on task {} (error id {})", engine.name(), request.taskId(), errorId, e);
            return new GenerationResult.TransientFailure("the engine failed unexpectedly (error id " + errorId + ")");
        }
    }

    /** Post-processing, storage and the SUCCEED (or blocked: FAILED) transition of a generated image. */
    private void finish(Task task, Engine engine, GenerationRequest request, BufferedImage image, long engineNanos,
                        String workerId) {
        TaskSpec spec = task.spec();
        try {
            long p0 = System.nanoTime();
            switch (pipeline.finish(image, spec.width(), spec.height(), spec.watermark(), spec.imageType(), task.id())) {
                case ImagePipeline.Outcome.Finished done -> {
                    String key = imageKey(task.id(), done.type());
                    blobs.put(key, done.file(), done.type().contentType());
                    Duration post = Duration.ofNanos(System.nanoTime() - p0);
                    metrics.stage("finish", engine.name(), post);
                    if (store.succeed(task.id(), workerId, key, done.nsfw(), engineNanos / 1_000_000, clock.instant())) {
                        metrics.finished(task.spec().kind(), "succeed");
                        metrics.keyTasks(task.owner(), task.spec().kind(), "succeeded");
                        metrics.stage("total", engine.name(), Duration.between(task.createdAt(), clock.instant()));
                        eta.record(EtaEstimator.paceKey(engine.name(), task.spec().kind()), request.width(), request.height(), request.steps(),
                                Duration.ofNanos(engineNanos), post);
                        dropInput(task);
                    } else {
                        log.warn("task {} finished here after its lease passed to another worker; result not recorded", task.id());
                    }
                }
                case ImagePipeline.Outcome.Blocked blocked -> {
                    log.info("task {}: {}", task.id(), blocked.reason());
                    failed(task, workerId, blocked.reason());
                }
            }
        } catch (RuntimeException e) {
            String errorId = errorId();
            log.error("task {} failed in post-processing or storage (error id {})", task.id(), errorId, e);
            retry(task, workerId, "internal error while finishing the image (error id " + errorId + ")");
        }
    }

    /**
     * Deletes an ended edit's stored input: only a re-run needs it, and an ended task never runs
     * again (whatever is left, retention removes with the task).
     */
    private void dropInput(Task task) {
        task.spec().inputKey().ifPresent(key -> {
            try {
                blobs.delete(key);
            } catch (RuntimeException e) {
                log.warn("task {}: could not delete its input image {} ({}); retention will", task.id(), key, e.getMessage());
            }
        });
    }

    private void failed(Task task, String workerId, String reason) {
        if (store.fail(task.id(), workerId, reason, clock.instant())) {
            dropInput(task);
            metrics.finished(task.spec().kind(), "failed");
            metrics.keyTasks(task.owner(), task.spec().kind(), CANCELLED.equals(reason) ? "cancelled" : "failed");
        }
    }

    private void retry(Task task, String workerId, String reason) {
        Instant now = clock.instant();
        Duration backoff = Duration.ofSeconds(Math.min(60, 1L << Math.min(6, Math.max(0, task.attempts() - 1))));
        store.retry(task.id(), workerId, reason, now.plus(backoff), now);
        log.info("task {} attempt {}/{} failed: {}", task.id(), task.attempts(), task.maxAttempts(), reason);
    }

    /** Writes progress when the percentage grows, at most every 250 ms. */
    private ProgressSink progressWriter(String taskId, String workerId) {
        return new ProgressSink() {
            private int lastPercent = -1;
            private long lastWrite = System.nanoTime() - PROGRESS_INTERVAL_NANOS;

            @Override
            public synchronized void step(int completed, int total) {
                int percent = (int) Math.min(99, completed * 100L / Math.max(1, total));
                long now = System.nanoTime();
                if (percent > lastPercent && now - lastWrite >= PROGRESS_INTERVAL_NANOS) {
                    lastPercent = percent;
                    lastWrite = now;
                    progress.report(taskId, workerId, percent);
                }
            }
        };
    }

    private static ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("task-timers").daemon(true).factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    private static String errorId() {
        return Logging.errorId();
    }
}
