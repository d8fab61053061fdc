package dev.qwenimage.task;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * An edit submit as the client sent it, JSON types already checked, content not yet (the service
 * applies the rules in {@link TaskService#submitEdit}); the input image travels apart, as it is
 * fetched or decoded only once the cheap checks have passed.
 *
 * @param outputFormat {@code output_format}: jpeg (default), png or webp
 */
public record EditSubmission(String prompt, OptionalLong seed, Optional<String> outputFormat, boolean watermark,
                             String negativePrompt, Optional<String> webhookUrl) {

    public static EditSubmission of(String prompt) {
        return new EditSubmission(prompt, OptionalLong.empty(), Optional.empty(), false, "", Optional.empty());
    }
}
