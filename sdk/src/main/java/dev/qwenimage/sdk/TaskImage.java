package dev.qwenimage.sdk;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One generated image of a finished task: where to fetch it (a plain GET, no API key), how long
 * the link stays valid ({@link Duration#ZERO} when it does not expire), its format as the server
 * names it ({@code "jpeg"}, {@code "png"}, {@code "webp"}) and the NSFW verdict when detection ran.
 */
public record TaskImage(URI url, Duration ttl, String type, Optional<NsfwDetection> nsfw) {
    public TaskImage {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(nsfw, "nsfw");
    }

    /** The format as a known {@link ImageType}, if it is one. */
    public Optional<ImageType> imageType() {
        return ImageType.fromWireName(type);
    }
}
