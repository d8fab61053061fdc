package dev.qwenimage.safety;

/**
 * The classifier's answer for one image: the probability of each of the five nsfwjs classes
 * (they sum to 1), and the rule that turns them into a verdict.
 *
 * <p>The rule: an image is NSFW when the three not-safe-for-work classes together are at least
 * as likely as the two safe ones, {@code porn + hentai + sexy >= 0.5}. Summing the classes keeps
 * the verdict stable when the model hesitates between neighbours (a photo split between Sexy and
 * Porn is unsafe either way; a drawing split between Drawing and Hentai is not flagged unless the
 * unsafe side wins). Callers that want only explicit content use {@link #explicit()} with their
 * own threshold.
 */
public record NsfwScores(double drawing, double hentai, double neutral, double porn, double sexy) {
    /** The threshold {@link #isNsfw()} applies to {@link #unsafe()}. */
    public static final double DEFAULT_THRESHOLD = 0.5;

    /** The scores in model output order (see {@link NsfwClass}). */
    static NsfwScores of(float[] probabilities) {
        if (probabilities.length != NsfwClass.values().length) {
            throw new IllegalArgumentException("expected 5 probabilities, got " + probabilities.length);
        }
        return new NsfwScores(probabilities[0], probabilities[1], probabilities[2], probabilities[3], probabilities[4]);
    }

    public double probability(NsfwClass c) {
        return switch (c) {
            case DRAWING -> drawing;
            case HENTAI -> hentai;
            case NEUTRAL -> neutral;
            case PORN -> porn;
            case SEXY -> sexy;
        };
    }

    /** Probability that the image is not safe for work: porn + hentai + sexy (= 1 - drawing - neutral). */
    public double unsafe() {
        return porn + hentai + sexy;
    }

    /** Probability of pornographic content, photographed or drawn: porn + hentai. */
    public double explicit() {
        return porn + hentai;
    }

    /** The rule of this class: {@code unsafe() >= 0.5}. */
    public boolean isNsfw() {
        return isNsfw(DEFAULT_THRESHOLD);
    }

    /** {@code unsafe() >= threshold}. */
    public boolean isNsfw(double threshold) {
        return unsafe() >= threshold;
    }

    /** The most likely class (the first in model order on a tie). */
    public NsfwClass top() {
        NsfwClass best = NsfwClass.DRAWING;
        for (NsfwClass c : NsfwClass.values()) {
            if (probability(c) > probability(best)) {
                best = c;
            }
        }
        return best;
    }
}
