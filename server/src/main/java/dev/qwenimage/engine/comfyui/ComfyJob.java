package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.comfyui.ComfyEvents.Disconnected;
import dev.qwenimage.engine.comfyui.ComfyEvents.Event;
import dev.qwenimage.engine.comfyui.ComfyEvents.Failed;
import dev.qwenimage.engine.comfyui.ComfyEvents.Finished;
import dev.qwenimage.engine.comfyui.ComfyEvents.Interrupted;
import dev.qwenimage.engine.comfyui.ComfyEvents.Progress;
import dev.qwenimage.engine.comfyui.ComfyEvents.Wake;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One image on ComfyUI, from submit to decoded result. The job queues the workflow under its own
 * prompt id, follows that prompt's WebSocket events, and checks over HTTP ({@code /queue}, then
 * {@code /history}) whenever it may have missed some: after the socket dropped, every
 * {@code poll_every}, and when the prompt reports done. A prompt in neither place is lost (ComfyUI
 * restarted). No time limit of its own bounds a slow start; the task's time limit cancels it.
 */
final class ComfyJob {
    private static final Logger log = LoggerFactory.getLogger(ComfyJob.class);
    /** How soon to look at /history after the prompt said it finished (the entry is written just after). */
    private static final Duration FINISHING_CHECK = Duration.ofMillis(100);
    /** Limit of each call that stops a cancelled prompt: the slot waits for them. */
    private static final Duration CANCEL_TIMEOUT = Duration.ofSeconds(10);
    /** Limit of each call that stops an abandoned prompt: short, it is best effort. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final ComfyUiEngine engine;
    private final GenerationRequest request;
    private final ProgressSink progress;
    private final Cancellation cancellation;
    private final ComfyApi api;
    private final ComfyEvents events;
    private final ComfyUiSettings settings;
    private final Workflow workflow;
    private String promptId;
    /** When to look at the prompt over HTTP next ({@link System#nanoTime} scale). */
    private long nextCheck;
    /** The prompt said it finished; its history entry is due any moment. */
    private boolean finishing;

    ComfyJob(ComfyUiEngine engine, GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        this.engine = engine;
        this.request = request;
        this.progress = progress;
        this.cancellation = cancellation;
        this.api = engine.api();
        this.events = engine.events();
        this.settings = engine.settings();
        this.workflow = engine.workflowFor(request);
    }

    GenerationResult run() {
        if (cancellation.isCancelled()) {
            return new GenerationResult.Cancelled(cancellation.reason());
        }
        String negative = request.negativePrompt().isEmpty() ? settings.negativePrompt() : request.negativePrompt();
        promptId = UUID.randomUUID().toString();
        ComfyEvents.Inbox inbox = events.subscribe(promptId);
        cancellation.onCancel(() -> inbox.offer(new Wake()));
        try {
            Optional<String> input = request.isEdit() ? Optional.of(upload()) : Optional.empty();
            ObjectNode built = workflow.build(request, negative, input);
            events.open(settings.requestTimeout());
            if (cancellation.isCancelled()) {
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            boolean renamed = submit(built);
            try {
                return follow(inbox, renamed);
            } catch (RuntimeException e) {
                stopQuietly("the engine failed"); // a fault of ours: do not leave the prompt running on the GPU
                throw e;
            }
        } catch (EngineCallException e) {
            return engine.http().failure(e);
        } catch (JobFailure f) {
            return engine.failure(f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new GenerationResult.Cancelled(cancellation.isCancelled() ? cancellation.reason() : "interrupted");
        } finally {
            events.unsubscribe(promptId);
        }
    }

    /**
     * Puts the edit's input into ComfyUI's input folder under a name of this task's own
     * (overwritten by a retry of the same task), for the workflow's LoadImage.
     */
    private String upload() throws EngineCallException, InterruptedException {
        String name = "qwen-image-edit_" + request.taskId().replaceAll("[^A-Za-z0-9_-]", "_") + ".png";
        return api.upload(name, request.input().orElseThrow().png(), dev.qwenimage.engine.InputImage.CONTENT_TYPE);
    }

    /** Queues the workflow; true when ComfyUI chose its own prompt id (events until now went unheard). */
    private boolean submit(ObjectNode workflow) throws EngineCallException, JobFailure, InterruptedException {
        String accepted;
        try {
            accepted = api.submit(workflow, engine.clientId(), promptId);
        } catch (EngineCallException e) {
            if (e.isTransient() && !e.getMessage().contains("connection refused")) {
                stopQuietly("its submission got no answer"); // the answer was lost, but ComfyUI may have queued it: do not leave it running
            }
            throw e;
        }
        if (accepted.equals(promptId)) {
            return false;
        }
        log.info("{}: this ComfyUI names prompts itself ({} for our {}); following its id", engine.name(), accepted, promptId);
        events.rename(promptId, accepted);
        promptId = accepted;
        return true;
    }

    private GenerationResult follow(ComfyEvents.Inbox inbox, boolean checkAtOnce)
            throws EngineCallException, JobFailure, InterruptedException {
        long now = System.nanoTime();
        nextCheck = checkAtOnce ? now : now + settings.pollEvery().toNanos();
        long unreachableSince = 0;
        boolean unreachable = false;
        Duration retry = ComfyEvents.MIN_BACKOFF;
        while (true) {
            if (cancellation.isCancelled()) {
                return stop();
            }
            // take every event already here before looking over HTTP, so none is left behind
            for (Event event = inbox.poll(Duration.ofNanos(nextCheck - System.nanoTime())); event != null;
                 event = inbox.poll(Duration.ZERO)) {
                Optional<GenerationResult> ended = take(event);
                if (ended.isPresent()) {
                    return ended.get();
                }
            }
            now = System.nanoTime();
            if (cancellation.isCancelled() || now - nextCheck < 0) {
                continue;
            }
            // reconnect first, so that nothing after this check can go unheard
            events.reopen(settings.requestTimeout());
            Optional<JsonNode> finished;
            try {
                finished = check();
            } catch (EngineCallException e) {
                if (!unreachable) {
                    unreachable = true;
                    unreachableSince = now;
                }
                if (now - unreachableSince > settings.reconnectTimeout().toNanos()) {
                    throw new EngineCallException(true, "stayed unreachable for over " + settings.reconnectTimeout().toSeconds()
                            + " s while running prompt " + promptId + " (last: " + e.getMessage() + ")");
                }
                nextCheck = System.nanoTime() + retry.toNanos();
                retry = min(retry.multipliedBy(2), ComfyEvents.MAX_BACKOFF);
                continue;
            }
            if (finished.isPresent()) {
                return result(finished.get());
            }
            unreachable = false;
            retry = ComfyEvents.MIN_BACKOFF;
            Duration wait = finishing ? FINISHING_CHECK
                    : events.isOpen() ? settings.pollEvery()
                    : min(settings.pollEvery(), max(events.untilNextAttempt(), ComfyEvents.MIN_BACKOFF));
            nextCheck = System.nanoTime() + wait.toNanos();
        }
    }

    /** Acts on one event; a result when the event ends the job. */
    private Optional<GenerationResult> take(Event event) throws JobFailure {
        switch (event) {
            case Progress p -> {
                Set<String> samplers = workflow.samplerNodes();
                if (p.node() == null || samplers.isEmpty() || samplers.contains(p.node())) {
                    progress.step(p.value(), p.max());
                }
            }
            case Finished f -> {
                finishing = true;
                nextCheck = System.nanoTime();
            }
            case Failed f -> throw executionError(f.data());
            case Interrupted i -> {
                return Optional.of(interrupted());
            }
            case Disconnected d -> nextCheck = System.nanoTime();
            case Wake w -> {
                // the cancellation is checked at the top of the loop
            }
        }
        return Optional.empty();
    }

    /**
     * Where the prompt stands: still queued or running (empty), finished (its history entry), or
     * gone. The queue is read before the history: ComfyUI moves a prompt from one to the other
     * atomically, so a prompt in neither was lost, not caught between the two reads.
     */
    private Optional<JsonNode> check() throws EngineCallException, JobFailure, InterruptedException {
        if (api.queue().contains(promptId)) {
            return Optional.empty();
        }
        Optional<JsonNode> entry = api.history(promptId);
        if (entry.isEmpty()) {
            throw new JobFailure(true, "ComfyUI lost the job (restarted?): prompt " + promptId
                    + " is neither in its queue nor in its history");
        }
        return entry;
    }

    /** The outcome a history entry records ({@code {"outputs", "status": {"status_str", "messages"}}}). */
    private GenerationResult result(JsonNode entry) throws EngineCallException, JobFailure, InterruptedException {
        JsonNode status = entry.path("status");
        if (status.path("status_str").asText("").equals("error")) {
            for (JsonNode m : status.path("messages")) {
                String type = m.path(0).asText("");
                if (type.equals("execution_error")) {
                    throw executionError(m.path(1));
                }
                if (type.equals("execution_interrupted")) {
                    return interrupted();
                }
            }
            throw new JobFailure(false, "ComfyUI reported prompt " + promptId + " as failed without saying why");
        }
        ComfyApi.SavedImage image = savedImage(entry.path("outputs")).orElseThrow(() -> new JobFailure(false,
                "ComfyUI finished the workflow but it saved no image (no images in its /history outputs)"));
        byte[] bytes = api.view(image);
        BufferedImage decoded = EngineHttp.decodeImage(bytes, "the image " + image.filename() + " from /view");
        return new GenerationResult.Success(decoded);
    }

    /** The saved image to return: from the workflow's save nodes first, an {@code output} image before a {@code temp} one. */
    private Optional<ComfyApi.SavedImage> savedImage(JsonNode outputs) {
        List<String> order = new ArrayList<>(workflow.imageNodes());
        for (Iterator<String> it = outputs.fieldNames(); it.hasNext(); ) {
            String id = it.next();
            if (!order.contains(id)) {
                order.add(id);
            }
        }
        ComfyApi.SavedImage fallback = null;
        for (String id : order) {
            for (JsonNode img : outputs.path(id).path("images")) {
                if (!img.path("filename").isTextual()) {
                    continue;
                }
                ComfyApi.SavedImage saved = new ComfyApi.SavedImage(img.get("filename").asText(),
                        img.path("subfolder").asText(""), img.path("type").asText("output"));
                if (saved.type().equals("output")) {
                    return Optional.of(saved);
                }
                if (fallback == null) {
                    fallback = saved;
                }
            }
        }
        return Optional.ofNullable(fallback);
    }

    /**
     * A node failed ({@code execution_error}). Running out of GPU memory, or a CUDA fault, may pass
     * on another attempt or another engine (ComfyUI unloads its models after an OOM), so it is
     * transient; anything else (a bad input, a broken model file) would fail again: permanent.
     */
    static JobFailure executionError(JsonNode data) {
        String type = data.path("exception_type").asText("");
        String message = data.path("exception_message").asText("");
        String where = data.path("node_type").asText("a node") + " (node " + data.path("node_id").asText("?") + ")";
        String text = ComfyApi.shorten(message.isBlank() ? type : message, 600);
        String lower = (type + " " + message).toLowerCase(Locale.ROOT);
        boolean outOfMemory = lower.contains("outofmemory") || lower.contains("out of memory") || lower.contains("allocation on device");
        boolean gpuFault = lower.contains("cuda error") || lower.contains("cudnn") || lower.contains("cublas");
        return new JobFailure(outOfMemory || gpuFault, "ComfyUI failed in " + where + ": " + text
                + (outOfMemory ? " [out of GPU memory: may pass on another try]" : ""));
    }

    private GenerationResult interrupted() throws JobFailure {
        if (cancellation.isCancelled()) {
            return new GenerationResult.Cancelled(cancellation.reason());
        }
        throw new JobFailure(true, "ComfyUI interrupted the job (someone stopped it on the ComfyUI server)");
    }

    /** Cancelled: takes the prompt off the queue, or interrupts it if (and only if) it is the one running. */
    private GenerationResult stop() throws InterruptedException {
        try {
            stop(api.withTimeout(min(settings.requestTimeout(), CANCEL_TIMEOUT)), cancellation.reason());
        } catch (EngineCallException e) {
            log.warn("{}: could not stop prompt {} on ComfyUI: {}", engine.name(), promptId, e.getMessage());
        }
        return new GenerationResult.Cancelled(cancellation.reason());
    }

    private void stopQuietly(String why) {
        try {
            stop(api.withTimeout(STOP_TIMEOUT), why);
        } catch (EngineCallException e) {
            log.debug("{}: could not stop prompt {}: {}", engine.name(), promptId, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Deletes first, then looks: a prompt that was waiting is gone before it can start, and one
     * that had started shows in {@code queue_running}. Only then is /interrupt sent, with our
     * prompt id, so another client's prompt is never stopped.
     */
    private void stop(ComfyApi with, String why) throws EngineCallException, InterruptedException {
        with.deleteFromQueue(promptId);
        if (with.queue().running().contains(promptId)) {
            with.interrupt(promptId);
            log.info("{}: interrupted prompt {} ({})", engine.name(), promptId, why);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
