package dev.qwenimage.engine;

import java.util.Optional;

/**
 * What an engine is asked to draw. Width and height are already multiples of 16 (the model's VAE
 * works in 8x8 latents, patched 2x2); the worker resizes the result to the size the client asked,
 * {@code requestedWidth} x {@code requestedHeight}, which engines may show or pass on but need not.
 * An {@link TaskKind#EDIT} request carries its {@code input}, already at {@code width} x {@code height};
 * a text-to-image request has none.
 */
public record GenerationRequest(String taskId, String prompt, String negativePrompt, int width, int height,
                                long seed, int steps, int requestedWidth, int requestedHeight, TaskKind kind,
                                Optional<InputImage> input) {

    public GenerationRequest {
        if (width % 16 != 0 || height % 16 != 0 || width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be positive multiples of 16: " + width + "x" + height);
        }
        if (requestedWidth <= 0 || requestedHeight <= 0) {
            throw new IllegalArgumentException("the requested size must be positive: " + requestedWidth + "x" + requestedHeight);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1: " + steps);
        }
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
        if ((kind == TaskKind.EDIT) != input.isPresent()) {
            throw new IllegalArgumentException("an edit request needs its input image, and only an edit has one");
        }
    }

    /** A text-to-image request. */
    public GenerationRequest(String taskId, String prompt, String negativePrompt, int width, int height,
                             long seed, int steps, int requestedWidth, int requestedHeight) {
        this(taskId, prompt, negativePrompt, width, height, seed, steps, requestedWidth, requestedHeight,
                TaskKind.TEXT_TO_IMAGE, Optional.empty());
    }

    /** This request as an edit of {@code image}. */
    public GenerationRequest editing(InputImage image) {
        return new GenerationRequest(taskId, prompt, negativePrompt, width, height, seed, steps, requestedWidth, requestedHeight,
                TaskKind.EDIT, Optional.of(image));
    }

    /** Whether this request edits an input image. */
    public boolean isEdit() {
        return kind == TaskKind.EDIT;
    }

    /** A request whose image is wanted at the working size itself. */
    public GenerationRequest(String taskId, String prompt, String negativePrompt, int width, int height, long seed, int steps) {
        this(taskId, prompt, negativePrompt, width, height, seed, steps, width, height);
    }

    /** The request for an image of {@code width} x {@code height}: the engine works at the nearest multiples of 16. */
    public static GenerationRequest forSize(String taskId, String prompt, String negativePrompt, int width, int height, long seed,
                                            int steps) {
        return new GenerationRequest(taskId, prompt, negativePrompt, nearestMultipleOf16(width), nearestMultipleOf16(height),
                seed, steps, width, height);
    }

    /** The multiple of 16 nearest to {@code side} (ties round up). */
    public static int nearestMultipleOf16(int side) {
        return Math.max(16, Math.round(side / 16f) * 16);
    }
}
