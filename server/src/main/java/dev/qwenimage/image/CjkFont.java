package dev.qwenimage.image;

import java.awt.Font;
import java.awt.FontFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.text.AttributedString;
import java.awt.font.TextAttribute;

/**
 * The font the service draws text with: Noto Sans SC Bold (SIL OFL 1.1), subset to Latin, CJK
 * punctuation and every character GB 2312 encodes, shipped inside the jar because a server
 * usually has no Chinese font installed. Characters outside the subset fall back to the JDK's
 * logical "Dialog" font, which maps to whatever the system has.
 */
public final class CjkFont {
    private static final String RESOURCE = "/fonts/NotoSansSC-Bold-subset.ttf";

    private CjkFont() {
    }

    private static final class Holder {
        static final Font BASE = load();
    }

    private static Font load() {
        try (InputStream in = CjkFont.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled font " + RESOURCE + " is missing from the jar");
            }
            return Font.createFont(Font.TRUETYPE_FONT, in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled font " + RESOURCE, e);
        } catch (FontFormatException e) {
            throw new IllegalStateException("the bundled font " + RESOURCE + " is damaged", e);
        }
    }

    /**
     * Loads the bundled font and the system's fallback and lays a line out with both, so the first
     * image drawn pays none of it. It must run at start-up: the JDK registers a shutdown hook when
     * it loads a font from a stream, which fails while the JVM stops, so a first image drawn during
     * a graceful stop (a drain) would otherwise fail on the font.
     */
    public static void preload() {
        java.awt.font.FontRenderContext frc = new java.awt.font.FontRenderContext(null, true, true);
        new java.awt.font.TextLayout(styled("AI生成 Qwen-Image ✓", 12f).getIterator(), frc).getBounds();
    }

    /** The bundled font at {@code size} points (pixels at 72 dpi, which is what images use). */
    public static Font of(float size) {
        return Holder.BASE.deriveFont(size);
    }

    /**
     * {@code text} with the bundled font at {@code size}, switching to the system's "Dialog" font
     * for runs of characters the bundled subset cannot draw (emoji, rare hanzi, other scripts).
     */
    public static AttributedString styled(String text, float size) {
        Font main = of(size);
        Font fallback = new Font(Font.DIALOG, Font.BOLD, Math.round(size));
        AttributedString s = new AttributedString(text);
        if (text.isEmpty()) {
            return s;
        }
        s.addAttribute(TextAttribute.FONT, main);
        int i = 0;
        while (i < text.length()) {
            int missing = main.canDisplayUpTo(text.substring(i));
            if (missing < 0) {
                break;
            }
            int start = i + missing;
            int end = start;
            while (end < text.length()) {
                int cp = text.codePointAt(end);
                if (main.canDisplay(cp)) {
                    break;
                }
                end += Character.charCount(cp);
            }
            s.addAttribute(TextAttribute.FONT, fallback, start, end);
            i = end;
        }
        return s;
    }
}
