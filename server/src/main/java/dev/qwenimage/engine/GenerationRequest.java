package dev.qwenimage.engine;

/**
 * What an engine is asked to draw. Width and height are already multiples of 16 (the model's VAE
 * works in 8x8 latents, patched 2x2); the worker resizes the result to the size the client asked.
 */
public record GenerationRequest(String taskId, String prompt, String negativePrompt, int width, int height,
                                long seed, int steps) {

    public GenerationRequest {
        if (width % 16 != 0 || height % 16 != 0 || width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be positive multiples of 16: " + width + "x" + height);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1: " + steps);
        }
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
    }

    /** The multiple of 16 nearest to {@code side} (ties round up). */
    public static int nearestMultipleOf16(int side) {
        return Math.max(16, Math.round(side / 16f) * 16);
    }
}
