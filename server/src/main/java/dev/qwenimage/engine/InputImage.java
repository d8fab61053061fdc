package dev.qwenimage.engine;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import javax.imageio.ImageIO;

/**
 * The picture an edit starts from, as the service stored it at submit: oriented upright, alpha
 * flattened onto white, scaled to the working size of the edit ({@code width} x {@code height},
 * multiples of 16), as a PNG. Engines send these bytes (or the decoded pixels) to their model.
 */
public record InputImage(byte[] png, int width, int height) {

    public InputImage {
        if (png == null || png.length == 0) {
            throw new IllegalArgumentException("an input image needs its bytes");
        }
    }

    /** The media type of {@link #png()}. */
    public static final String CONTENT_TYPE = "image/png";

    /** The pixels, decoded from {@link #png()} (each call decodes again: engines that draw on them own their copy). */
    public BufferedImage decode() {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            if (image == null) {
                throw new IllegalStateException("the stored input image is not a PNG");
            }
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode the stored input image", e);
        }
    }

    /** {@link #png()} in base64 (no line breaks). */
    public String base64() {
        return Base64.getEncoder().encodeToString(png);
    }

    /** {@link #png()} as a {@code data:} URI. */
    public String dataUri() {
        return "data:" + CONTENT_TYPE + ";base64," + base64();
    }

    @Override
    public String toString() {
        return "InputImage[" + width + "x" + height + ", " + png.length + " bytes]";
    }
}
