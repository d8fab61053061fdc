package dev.qwenimage.sdk;

/**
 * The verdict of the NSFW detector on one image ({@code nsfw_detection_result}). {@code flagged}
 * is the wire field {@code valid}: in Novita's meaning, {@code true} says the image was found NSFW,
 * with {@code confidence} between 0 and 1.
 */
public record NsfwDetection(boolean flagged, double confidence) {
}
