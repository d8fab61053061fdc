package dev.qwenimage.sdk;

import java.util.Objects;

/**
 * What {@link QwenImageClient#generate} and {@link QwenImageClient#edit} return: the finished task
 * and the bytes of its first image, in the format {@link TaskImage#type()} names. The array is the
 * caller's to keep.
 */
public record GeneratedImage(TaskResult result, byte[] bytes) {
    public GeneratedImage {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(bytes, "bytes");
    }

    /** The task's id. */
    public String taskId() {
        return result.taskId();
    }

    /** The image as the task result describes it (link, format, NSFW verdict). */
    public TaskImage image() {
        return result.firstImage().orElseThrow();
    }
}
