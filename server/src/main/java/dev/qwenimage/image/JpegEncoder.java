package dev.qwenimage.image;

import java.awt.image.BufferedImage;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes opaque RGB pictures as baseline JPEG (4:2:0 chroma, the IJG quality scale), the file
 * clients download. Two implementations give the same files within a few per cent: libjpeg-turbo
 * in-process ({@link TurboJpeg}, about ten times faster) where its library is installed, and the
 * JDK's own ImageIO writer everywhere else. Which one runs is chosen once, at start-up.
 */
public sealed interface JpegEncoder permits TurboJpeg, ImageIoJpeg {
    Logger LOG = LoggerFactory.getLogger(JpegEncoder.class);

    /** {@code rgb} as a JPEG file at {@code quality} (1..100). */
    byte[] encode(BufferedImage rgb, int quality);

    /** One line for the banner: which encoder and where it came from. */
    String describe();

    /** Which encoder the configuration asks for. */
    enum Choice {
        /** libjpeg-turbo where it loads, else ImageIO. */
        AUTO,
        /** libjpeg-turbo or refuse to start. */
        TURBOJPEG,
        /** Always the pure-Java path (the JDK's ImageIO writer). */
        IMAGEIO;

        public static Choice parse(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "turbojpeg", "libjpeg-turbo" -> TURBOJPEG;
                case "imageio", "java" -> IMAGEIO;
                default -> throw new IllegalArgumentException(value);
            };
        }
    }

    /**
     * The encoder {@code choice} names. AUTO tries libjpeg-turbo (the library must load and encode
     * a test picture) and falls back to ImageIO saying why; TURBOJPEG fails when it cannot load.
     */
    static JpegEncoder choose(Choice choice) {
        if (choice == Choice.IMAGEIO) {
            return new ImageIoJpeg("chosen by configuration");
        }
        try {
            return TurboJpeg.load();
        } catch (RuntimeException | LinkageError e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (choice == Choice.TURBOJPEG) {
                throw new IllegalStateException("libjpeg-turbo was asked for but cannot be used: " + why, e);
            }
            LOG.info("JPEG: libjpeg-turbo not available ({}); using the pure-Java ImageIO encoder", why);
            return new ImageIoJpeg("libturbojpeg not found; install libturbojpeg0 for ~10x faster encoding");
        }
    }
}
