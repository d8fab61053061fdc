package dev.qwenimage.edit;

/**
 * An input image the service will not edit, with the contract's reason: {@code INVALID_IMAGE} (not
 * an image, a format not taken, corrupt, too many pixels, too small), {@code IMAGE_TOO_LARGE}
 * (more bytes than allowed) or {@code IMAGE_FETCH_FAILED} (the URL could not be fetched: its
 * status, a timeout, a refused address). The message says what to do about it; the API answers
 * 400 with it.
 */
public final class ImageRejected extends RuntimeException {
    public static final String INVALID_IMAGE = "INVALID_IMAGE";
    public static final String IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE";
    public static final String IMAGE_FETCH_FAILED = "IMAGE_FETCH_FAILED";

    private final String reason;

    public ImageRejected(String reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    /** The refusal of an image of {@code bytes} bytes where at most {@code max} are taken. */
    public static ImageRejected tooLarge(long bytes, long max) {
        return new ImageRejected(IMAGE_TOO_LARGE, "the image is " + dev.qwenimage.health.Bytes.human(bytes)
                + "; the most an edit takes is " + dev.qwenimage.health.Bytes.human(max) + ": send a smaller file");
    }

    public String reason() {
        return reason;
    }
}
