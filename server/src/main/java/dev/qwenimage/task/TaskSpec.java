package dev.qwenimage.task;

import java.util.OptionalInt;

/**
 * What the client asked for, validated: the prompt, the exact output size, the watermark flag,
 * the seed (drawn at submit so that retries reproduce the same image) and optional steps.
 */
public record TaskSpec(String prompt, String negativePrompt, int width, int height, boolean watermark, long seed,
                       OptionalInt steps) {
}
