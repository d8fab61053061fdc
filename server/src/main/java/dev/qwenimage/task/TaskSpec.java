package dev.qwenimage.task;

import dev.qwenimage.image.ImageType;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the client asked for, validated: the prompt and negative prompt, the exact output size,
 * the watermark flag, the seed (drawn at submit when the client gave none, so that retries
 * reproduce the same image), optional steps, the file format and the webhook to call when done.
 */
public record TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                       OptionalInt steps, ImageType imageType, Optional<String> webhookUrl) {

    /** A JPEG with no webhook. */
    public TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                    OptionalInt steps) {
        this(prompt, negativePrompt, width, height, watermark, seed, steps, ImageType.JPEG, Optional.empty());
    }
}
