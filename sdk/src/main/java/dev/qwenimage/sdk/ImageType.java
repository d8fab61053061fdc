package dev.qwenimage.sdk;

import java.util.Locale;
import java.util.Optional;

/**
 * The file format of a generated image, as the {@code extra.response_image_type} request field and
 * the {@code image_type} result field name it. The cloud API only knows {@link #JPEG}.
 */
public enum ImageType {
    JPEG("jpeg"),
    PNG("png"),
    WEBP("webp");

    private final String wireName;

    ImageType(String wireName) {
        this.wireName = wireName;
    }

    /** The name on the wire, also used as the file extension: {@code jpeg}, {@code png}, {@code webp}. */
    public String wireName() {
        return wireName;
    }

    /** The type a wire name (or {@code jpg}) stands for, whatever its case. */
    public static Optional<ImageType> fromWireName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.equals("jpg")) {
            return Optional.of(JPEG);
        }
        for (ImageType t : values()) {
            if (t.wireName.equals(n)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
