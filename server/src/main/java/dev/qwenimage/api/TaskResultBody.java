package dev.qwenimage.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.qwenimage.task.TaskState;
import dev.qwenimage.task.TaskView;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import dev.qwenimage.safety.NsfwVerdict;

/** The body of {@code GET /v3/async/task-result}, field for field as the contract spells it. */
public record TaskResultBody(Extra extra, TaskBody task, List<ImageBody> images, List<Object> videos,
                             List<Object> audios) {

    /** {@code task.task_type} of a text-to-image task; an edit's is {@code QWEN_IMAGE_EDIT} ({@link dev.qwenimage.engine.TaskKind}). */
    public static final String TASK_TYPE = dev.qwenimage.engine.TaskKind.TEXT_TO_IMAGE.taskType();

    /**
     * {@code seed} and {@code wait_reason} are our extensions: the seed the image was (or will be)
     * generated with, and, only while a queued task cannot start because no engine is up, why
     * ({@code task.reason} stays empty until a task fails, as the contract has it).
     */
    public record Extra(@JsonProperty("has_nsfw_contents") List<Boolean> hasNsfwContents, long seed,
                        @JsonProperty("wait_reason") @JsonInclude(JsonInclude.Include.NON_NULL) String waitReason) {
    }

    public record TaskBody(@JsonProperty("task_id") String taskId,
                           @JsonProperty("task_type") String taskType,
                           String status,
                           String reason,
                           long eta,
                           @JsonProperty("progress_percent") int progressPercent) {
    }

    public record ImageBody(@JsonProperty("image_url") String imageUrl,
                            @JsonProperty("image_url_ttl") String imageUrlTtl,
                            @JsonProperty("image_type") String imageType,
                            @JsonProperty("nsfw_detection_result") NsfwResult nsfwDetectionResult) {
    }

    public record NsfwResult(boolean valid, double confidence) {
    }

    public static TaskResultBody of(TaskView view, Duration urlTtl) {
        String reason = view.task().state() instanceof TaskState.Failed f ? f.reason() : "";
        TaskBody task = new TaskBody(view.task().id(), view.task().spec().kind().taskType(), view.task().state().wireStatus(), reason,
                view.etaSeconds(), view.progressPercent());
        Optional<NsfwVerdict> nsfw = view.task().state() instanceof TaskState.Succeeded s ? s.nsfw() : Optional.empty();
        NsfwResult result = nsfw.map(v -> new NsfwResult(v.flagged(), v.confidence())).orElse(null);
        List<ImageBody> images = view.imageUrl()
                .map(url -> List.of(new ImageBody(url, Long.toString(urlTtl.toSeconds()),
                        view.task().spec().imageType().wireName(), result)))
                .orElse(List.of());
        List<Boolean> hasNsfw = images.isEmpty() || result == null ? List.of() : List.of(result.valid());
        return new TaskResultBody(new Extra(hasNsfw, view.task().spec().seed(), view.waitReason().orElse(null)), task, images,
                List.of(), List.of());
    }
}
