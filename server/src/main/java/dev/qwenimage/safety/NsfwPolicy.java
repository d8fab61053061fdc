package dev.qwenimage.safety;

import java.awt.image.BufferedImage;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * What the service does about NSFW images: whether detection runs, the unsafe probability at
 * which an image is flagged, and the action on a flagged image (report it, blur it, or refuse it).
 */
public final class NsfwPolicy {

    /** The action on a flagged image. */
    public enum Action {
        /** Keep the image; the verdict is reported in the task result. */
        FLAG,
        /** Store a blurred image in its place; the verdict is reported. */
        BLUR,
        /** Store nothing; the task ends FAILED with a reason that says so. */
        BLOCK;

        public static Action parse(String text) {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        }
    }

    private final ToDoubleFunction<BufferedImage> unsafeProbability;
    private final double threshold;
    private final Action action;

    /**
     * @param unsafeProbability the classifier: an image's probability of being unsafe, 0..1
     * @param threshold         flagged at or above this probability
     */
    public NsfwPolicy(ToDoubleFunction<BufferedImage> unsafeProbability, double threshold, Action action) {
        if (threshold < 0 || threshold > 1) {
            throw new IllegalArgumentException("threshold must be within 0..1");
        }
        this.unsafeProbability = unsafeProbability;
        this.threshold = threshold;
        this.action = action;
    }

    /** Detection off: no verdicts, {@code nsfw_detection_result} stays null. */
    public static NsfwPolicy off() {
        return new NsfwPolicy(null, 1, Action.FLAG);
    }

    public boolean enabled() {
        return unsafeProbability != null;
    }

    public Action action() {
        return action;
    }

    /** The verdict on {@code image}, or empty when detection is off. */
    public Optional<NsfwVerdict> judge(BufferedImage image) {
        if (unsafeProbability == null) {
            return Optional.empty();
        }
        return Optional.of(NsfwVerdict.of(unsafeProbability.applyAsDouble(image), threshold));
    }
}
