package dev.qwenimage.edit;

/**
 * The size an edit works at and answers with: the input's aspect ratio at the model's native
 * pixel budget of 1024 x 1024, each side a multiple of 16 (the VAE's 8x, patched 2x2), as the
 * reference Qwen-Image-Edit pipelines do (diffusers' {@code calculate_dimensions(1024 * 1024, w / h)};
 * ComfyUI's {@code TextEncodeQwenImageEdit} scales to one megapixel). Sides stay within
 * {@value #MIN_SIDE}..{@value #MAX_SIDE}, so a very long or very tall input is answered at the
 * nearest ratio those allow.
 */
public record EditSize(int width, int height) {
    /** The model's native pixel budget. */
    public static final long PIXEL_BUDGET = 1024L * 1024L;
    public static final int MIN_SIDE = 256;
    public static final int MAX_SIDE = 2048;

    /** The working size for an input of {@code inputWidth} x {@code inputHeight}. */
    public static EditSize forInput(int inputWidth, int inputHeight) {
        if (inputWidth <= 0 || inputHeight <= 0) {
            throw new IllegalArgumentException("an image has a positive size: " + inputWidth + "x" + inputHeight);
        }
        double ratio = inputWidth / (double) inputHeight;
        double w = Math.sqrt(PIXEL_BUDGET * ratio);
        double h = w / ratio;
        return new EditSize(side(w), side(h));
    }

    private static int side(double exact) {
        int rounded = (int) Math.round(exact / 16.0) * 16;
        return Math.clamp(rounded, MIN_SIDE, MAX_SIDE);
    }

    @Override
    public String toString() {
        return width + "*" + height;
    }
}
