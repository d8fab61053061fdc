package dev.qwenimage.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.storage.BlobStore;
import dev.qwenimage.task.ImageSize;
import dev.qwenimage.task.Submission;
import dev.qwenimage.task.TaskService;
import dev.qwenimage.task.TaskState;
import dev.qwenimage.task.TaskView;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenAI-compatible door: {@code POST /v1/images/generations} (model {@code qwen-image},
 * prompt, size {@code WxH}, n = 1, response_format url or b64_json), answered synchronously on top
 * of the same queue as the async API: the request becomes a task like any other (fair queueing,
 * caps, engines, post-processing) and the answer waits for it. If the wait runs out the task is
 * cancelled and the client gets 504. Also {@code GET /v1/models}.
 */
final class OpenAiImages {
    static final String MODEL = "qwen-image";
    private static final List<String> MODEL_NAMES = List.of("qwen-image", "qwen/qwen-image", "qwen-image-txt2img");

    private final TaskService tasks;
    private final BlobStore blobs;
    private final Clock clock;
    private final Duration timeout;

    OpenAiImages(TaskService tasks, BlobStore blobs, Clock clock, Duration timeout) {
        this.tasks = tasks;
        this.blobs = blobs;
        this.clock = clock;
        this.timeout = timeout;
    }

    /** The response body of a generation: {@code {"created", "data": [{"url"} or {"b64_json"}]}}. */
    Map<String, Object> generate(String owner, dev.qwenimage.tenant.Limits limits, JsonNode body, String baseUrl, Runnable accepted)
            throws InterruptedException {
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && !(model.isTextual() && MODEL_NAMES.contains(model.textValue().toLowerCase(Locale.ROOT)))) {
            throw new ApiError(400, "MODEL_NOT_FOUND", "this server serves the model 'qwen-image'; got "
                    + dev.qwenimage.task.TaskIds.quoted(model.toString()),
                    Map.of("field", "model"), Map.of());
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.canConvertToInt() && n.intValue() == 1)) {
            throw new ApiError(400, "INVALID_N", "n must be 1: each request makes one image", Map.of("field", "n"), Map.of());
        }
        String format = text(body, "response_format").orElse("url");
        if (!format.equals("url") && !format.equals("b64_json")) {
            throw new ApiError(400, "INVALID_RESPONSE_FORMAT", "response_format must be url or b64_json",
                    Map.of("field", "response_format"), Map.of());
        }
        String size = text(body, "size").filter(s -> !s.strip().equals("auto")).map(OpenAiImages::toContractSize).orElse(null);
        Submission submission = new Submission(RequestBodies.optionalString(body, "prompt", "INVALID_PROMPT"), size, false,
                RequestBodies.seed(body), text(body, "negative_prompt").orElse(""), Optional.empty(), Optional.empty());

        String id = tasks.submit(owner, limits, submission, Optional.empty());
        accepted.run();
        TaskView done = awaitFinished(owner, id, baseUrl);
        return switch (done.task().state()) {
            case TaskState.Succeeded s -> Map.of("created", clock.instant().getEpochSecond(),
                    "data", List.of(format.equals("url")
                            ? Map.of("url", done.imageUrl().orElseThrow(), "revised_prompt", done.task().spec().prompt())
                            : Map.of("b64_json", base64(s.imageKey()), "revised_prompt", done.task().spec().prompt())));
            case TaskState.Failed f when f.reason().contains("NSFW filter") -> throw new ApiError(400, "CONTENT_POLICY_VIOLATION",
                    f.reason(), Map.of("task_id", id), Map.of());
            // the worker logged the failure under the task's id, which the message names
            case TaskState.Failed f -> throw new ApiError(500, "GENERATION_FAILED", "the image of task " + id
                    + " could not be made: " + f.reason(), Map.of("task_id", id), Map.of());
            default -> throw new IllegalStateException("unfinished task " + id);
        };
    }

    /** The model list OpenAI clients ask for. */
    Map<String, Object> models() {
        return Map.of("object", "list", "data", List.of(Map.of("id", MODEL, "object", "model", "created", 1754006400L,
                "owned_by", "qwen-image-server")));
    }

    /** Waits for the task with a poll that slows down as the ETA grows (at most a second apart). */
    private TaskView awaitFinished(String owner, String id, String baseUrl) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            TaskView v = tasks.view(owner, id, baseUrl);
            if (v.task().state().isFinished()) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                tasks.cancel(owner, id, taskId -> {
                });
                throw new ApiError(504, "TIMEOUT", "the image was not ready within " + timeout.toSeconds()
                        + " s; the task was cancelled", Map.of("task_id", id), Map.of());
            }
            Thread.sleep(Math.clamp(v.etaSeconds() * 100, 100, 1000));
        }
    }

    private String base64(String imageKey) {
        // a finished task whose image is gone is a fault: it reaches the 500 handler, logged with an error id
        BlobStore.Blob blob = blobs.open(imageKey).orElseThrow(() ->
                new IllegalStateException("the finished image " + imageKey + " could not be read back"));
        try (InputStream in = blob.content()) {
            return Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** OpenAI's {@code 1024x1024} (or {@code X}, or {@code *}) as the contract's {@code 1024*1024}; the sides' range is checked on submit. */
    private static String toContractSize(String size) {
        return ImageSize.parseOpenAi(size).map(ImageSize::toString).orElseThrow(() -> new ApiError(400, "INVALID_SIZE",
                "size must be \"auto\" or <width>x<height> with each side a whole number in " + ImageSize.MIN_SIDE + ".."
                        + ImageSize.MAX_SIDE + " (digits only: no sign, no leading zero), e.g. \"1024x1024\"; got \""
                        + (size.length() <= 40 ? size : size.substring(0, 40) + "…") + "\"", Map.of("field", "size"), Map.of()));
    }

    private static Optional<String> text(JsonNode body, String field) {
        return Optional.ofNullable(RequestBodies.optionalString(body, field, "INVALID_" + field.toUpperCase(Locale.ROOT)));
    }
}
