package dev.qwenimage.sdk;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A snapshot of one task, as {@code GET /v3/async/task-result} reports it.
 *
 * @param taskId          the task's id
 * @param status          where the task stands
 * @param reason          why it failed; empty unless {@link TaskStatus#FAILED}
 * @param eta             the server's estimate of the time left until the result ({@link Duration#ZERO} once finished)
 * @param progressPercent 0..100, from the generator's real step progress
 * @param images          the generated images; empty until {@link TaskStatus#SUCCEED}
 * @param seed            the seed the image was made with ({@code extra.seed}), once the server reports it;
 *                        servers without that extension (the cloud) never do
 */
public record TaskResult(String taskId, TaskStatus status, String reason, Duration eta, int progressPercent,
                         List<TaskImage> images, OptionalLong seed) {
    public TaskResult {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(status, "status");
        reason = reason == null ? "" : reason;
        Objects.requireNonNull(eta, "eta");
        images = List.copyOf(images);
        Objects.requireNonNull(seed, "seed");
    }

    /** True once the task succeeded or failed. */
    public boolean isFinished() {
        return status.isFinished();
    }

    /** The first image, present once the task succeeded. */
    public Optional<TaskImage> firstImage() {
        return images.isEmpty() ? Optional.empty() : Optional.of(images.get(0));
    }
}
