package dev.qwenimage.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.edit.EditInputs;
import dev.qwenimage.edit.ImageSource;
import dev.qwenimage.storage.BlobStore;
import dev.qwenimage.task.EditSubmission;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The OpenAI-compatible door: {@code POST /v1/images/generations} (model {@code qwen-image},
 * prompt, size {@code WxH}, n = 1, response_format url or b64_json), answered synchronously on top
 * of the same queue as the async API: the request becomes a task like any other (fair queueing,
 * caps, engines, post-processing) and the answer waits for it. If the wait runs out the task is
 * cancelled and the client gets 504. {@code POST /v1/images/edits} (a form: image, prompt) does
 * the same for an edit ({@code qwen-image-edit}). Also {@code GET /v1/models}.
 */
final class OpenAiImages {
    static final String MODEL = "qwen-image";
    static final String EDIT_MODEL = "qwen-image-edit";
    private static final List<String> MODEL_NAMES = List.of("qwen-image", "qwen/qwen-image", "qwen-image-txt2img");
    private static final List<String> EDIT_MODEL_NAMES = List.of("qwen-image-edit", "qwen/qwen-image-edit", "qwen-image");

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
        String format = responseFormat(text(body, "response_format"));
        String size = text(body, "size").filter(s -> !s.strip().equals("auto")).map(OpenAiImages::toContractSize).orElse(null);
        Submission submission = new Submission(RequestBodies.optionalString(body, "prompt", "INVALID_PROMPT"), size, false,
                RequestBodies.seed(body), text(body, "negative_prompt").orElse(""), Optional.empty(), Optional.empty());

        String id = tasks.submit(owner, limits, submission, Optional.empty());
        accepted.run();
        return answer(owner, id, baseUrl, format, false);
    }

    /**
     * The response body of an edit ({@code POST /v1/images/edits}), as of a generation, plus the
     * {@code size} and {@code output_format} it was made in: the picture follows the input's aspect
     * ratio at about one megapixel, whatever {@code size} the form named.
     */
    Map<String, Object> edit(String owner, dev.qwenimage.tenant.Limits limits, EditForms.EditForm form, EditInputs inputs,
                             BlobStore inputStore, String baseUrl, Runnable accepted) throws InterruptedException {
        form.field("model").ifPresent(model -> {
            if (!EDIT_MODEL_NAMES.contains(model.strip().toLowerCase(Locale.ROOT))) {
                throw new ApiError(400, "MODEL_NOT_FOUND", "this server edits with the model 'qwen-image-edit' (also "
                        + "accepted: 'qwen-image'); got " + dev.qwenimage.task.TaskIds.quoted(model), Map.of("field", "model"), Map.of());
            }
        });
        form.field("n").ifPresent(n -> {
            if (!n.strip().equals("1")) {
                throw new ApiError(400, "INVALID_N", "n must be 1: each request makes one image", Map.of("field", "n"), Map.of());
            }
        });
        String format = responseFormat(form.field("response_format").map(String::strip));
        // a size is checked for its spelling and otherwise not used: the edit keeps the input's aspect ratio
        form.field("size").map(String::strip).filter(s -> !s.equals("auto")).ifPresent(OpenAiImages::toContractSize);
        EditSubmission submission = new EditSubmission(form.field("prompt").orElse(null), formSeed(form.field("seed")),
                form.field("output_format").map(String::strip), false, form.field("negative_prompt").orElse(""), Optional.empty());
        byte[] image = form.image();
        String id = tasks.submitEdit(owner, limits, submission, () -> inputs.prepare(new ImageSource.Inline(image)),
                Optional.empty(), inputStore);
        accepted.run();
        return answer(owner, id, baseUrl, format, true);
    }

    /** Waits for task {@code id} and renders it as OpenAI's images response; an edit also names its size and format. */
    private Map<String, Object> answer(String owner, String id, String baseUrl, String format, boolean withSize)
            throws InterruptedException {
        TaskView done = awaitFinished(owner, id, baseUrl);
        return switch (done.task().state()) {
            case TaskState.Succeeded s -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("created", clock.instant().getEpochSecond());
                body.put("data", List.of(format.equals("url")
                        ? Map.of("url", done.imageUrl().orElseThrow(), "revised_prompt", done.task().spec().prompt())
                        : Map.of("b64_json", base64(s.imageKey()), "revised_prompt", done.task().spec().prompt())));
                if (withSize) {
                    body.put("size", done.task().spec().width() + "x" + done.task().spec().height());
                    body.put("output_format", done.task().spec().imageType().wireName());
                }
                yield body;
            }
            case TaskState.Failed f when f.reason().contains("NSFW filter") -> throw new ApiError(400, "CONTENT_POLICY_VIOLATION",
                    f.reason(), Map.of("task_id", id), Map.of());
            // the worker logged the failure under the task's id, which the message names
            case TaskState.Failed f -> throw new ApiError(500, "GENERATION_FAILED", "the image of task " + id
                    + " could not be made: " + f.reason(), Map.of("task_id", id), Map.of());
            default -> throw new IllegalStateException("unfinished task " + id);
        };
    }

    private static String responseFormat(Optional<String> given) {
        String format = given.orElse("url");
        if (!format.equals("url") && !format.equals("b64_json")) {
            throw new ApiError(400, "INVALID_RESPONSE_FORMAT", "response_format must be url or b64_json",
                    Map.of("field", "response_format"), Map.of());
        }
        return format;
    }

    /** A form's {@code seed} (extension): a whole number in decimal; its range is the task domain's. */
    private static OptionalLong formSeed(Optional<String> seed) {
        if (seed.isEmpty() || seed.get().isBlank()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(seed.get().strip()));
        } catch (NumberFormatException e) {
            throw new ApiError(400, "INVALID_SEED", "seed must be a whole number (-1 for a random seed); got "
                    + dev.qwenimage.task.TaskIds.quoted(seed.get()), Map.of("field", "seed"), Map.of());
        }
    }

    /** The model list OpenAI clients ask for. */
    Map<String, Object> models() {
        return Map.of("object", "list", "data", List.of(
                Map.of("id", MODEL, "object", "model", "created", 1754006400L, "owned_by", "qwen-image-server"),
                Map.of("id", EDIT_MODEL, "object", "model", "created", 1755561600L, "owned_by", "qwen-image-server")));
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
