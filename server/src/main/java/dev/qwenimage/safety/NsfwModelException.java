package dev.qwenimage.safety;

/**
 * A model that cannot be used: a damaged or truncated file, a weight that does not fit its
 * manifest, or a layer type or setting the classifier does not implement. The message names the
 * file, weight or layer at fault.
 */
public final class NsfwModelException extends RuntimeException {
    public NsfwModelException(String message) {
        super(message);
    }

    public NsfwModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
