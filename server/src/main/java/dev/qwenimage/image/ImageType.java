package dev.qwenimage.image;

import java.util.Locale;
import java.util.Optional;

/** The file formats a client can ask for ({@code extra.response_image_type}); JPEG unless asked. */
public enum ImageType {
    JPEG("jpeg", "image/jpeg"),
    PNG("png", "image/png"),
    WEBP("webp", "image/webp");

    private final String wireName;
    private final String contentType;

    ImageType(String wireName, String contentType) {
        this.wireName = wireName;
        this.contentType = contentType;
    }

    /** As the contract spells it in {@code image_type}: jpeg, png, webp; also the file extension. */
    public String wireName() {
        return wireName;
    }

    public String contentType() {
        return contentType;
    }

    /** {@code jpeg}, {@code jpg}, {@code png} or {@code webp}, any case. */
    public static Optional<ImageType> parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "jpeg", "jpg" -> Optional.of(JPEG);
            case "png" -> Optional.of(PNG);
            case "webp" -> Optional.of(WEBP);
            default -> Optional.empty();
        };
    }
}
