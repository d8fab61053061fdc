package dev.qwenimage.task;

import java.util.OptionalLong;

/**
 * A submit as the client sent it, types already checked, content not yet: the service applies the
 * contract's rules in {@link TaskService#submit}.
 */
public record Submission(String prompt, String size, boolean watermark, OptionalLong seed, String negativePrompt) {

    public static Submission of(String prompt, String size, boolean watermark) {
        return new Submission(prompt, size, watermark, OptionalLong.empty(), "");
    }
}
