package dev.qwenimage.safety;

/**
 * The five classes of the nsfwjs model, in the order of the model's output (nsfwjs's
 * {@code NSFW_CLASSES}: 0 Drawing, 1 Hentai, 2 Neutral, 3 Porn, 4 Sexy). The descriptions are
 * nsfwjs's own.
 */
public enum NsfwClass {
    /** Safe-for-work drawings, anime included. */
    DRAWING("Drawing"),
    /** Hentai and pornographic drawings. */
    HENTAI("Hentai"),
    /** Safe-for-work neutral images. */
    NEUTRAL("Neutral"),
    /** Pornographic images, sexual acts. */
    PORN("Porn"),
    /** Sexually explicit images, not pornography. */
    SEXY("Sexy");

    private final String label;

    NsfwClass(String label) {
        this.label = label;
    }

    /** The class name as nsfwjs reports it ({@code className}). */
    public String label() {
        return label;
    }

    /** Whether nsfwjs counts this class as safe for work (Drawing, Neutral). */
    public boolean safe() {
        return this == DRAWING || this == NEUTRAL;
    }
}
