package dev.qwenimage.task;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A submit as the client sent it, JSON types already checked, content not yet: the service
 * applies the contract's rules in {@link TaskService#submit}. The optional fields are this
 * service's documented extensions.
 */
public record Submission(String prompt, String size, boolean watermark, OptionalLong seed, String negativePrompt,
                         Optional<String> imageType, Optional<String> webhookUrl) {

    public static Submission of(String prompt, String size, boolean watermark) {
        return new Submission(prompt, size, watermark, OptionalLong.empty(), "", Optional.empty(), Optional.empty());
    }
}
