package dev.qwenimage.task;

import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.image.ImageType;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the client asked for, validated: the prompt and negative prompt, the exact output size,
 * the watermark flag, the seed (drawn at submit when the client gave none, so that retries
 * reproduce the same image), optional steps, the file format and the webhook to call when done;
 * its kind, and for an edit the blob key of the input image stored at submit (so that a re-run,
 * on whichever worker, never fetches it again). An edit's size is the size it works at, from the
 * input's aspect ratio.
 */
public record TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                       OptionalInt steps, ImageType imageType, Optional<String> webhookUrl, TaskKind kind,
                       Optional<String> inputKey) {

    public TaskSpec {
        if ((kind == TaskKind.EDIT) != inputKey.isPresent()) {
            throw new IllegalArgumentException("an edit task needs its stored input image, and only an edit has one");
        }
    }

    /** A text-to-image task. */
    public TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                    OptionalInt steps, ImageType imageType, Optional<String> webhookUrl) {
        this(prompt, negativePrompt, width, height, watermark, seed, steps, imageType, webhookUrl, TaskKind.TEXT_TO_IMAGE,
                Optional.empty());
    }

    /** A JPEG with no webhook. */
    public TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                    OptionalInt steps) {
        this(prompt, negativePrompt, width, height, watermark, seed, steps, ImageType.JPEG, Optional.empty());
    }
}
