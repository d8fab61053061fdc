package dev.qwenimage.safety;

/**
 * The NSFW verdict on one image, as the contract reports it in {@code nsfw_detection_result}:
 * {@code valid} is true when the image was flagged, and {@code confidence} is the confidence of
 * the verdict given: the classifier's unsafe probability when flagged, one minus it when not.
 */
public record NsfwVerdict(boolean flagged, double confidence) {

    /** The verdict for an image whose unsafe probability is {@code unsafe}, flagged at {@code threshold} or above. */
    public static NsfwVerdict of(double unsafe, double threshold) {
        boolean flagged = unsafe >= threshold;
        return new NsfwVerdict(flagged, flagged ? unsafe : 1 - unsafe);
    }
}
