package dev.qwenimage.engine.preview;

import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.image.CjkFont;
import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.font.FontRenderContext;
import java.awt.font.LineBreakMeasurer;
import java.awt.font.TextLayout;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.nio.charset.StandardCharsets;
import java.text.AttributedCharacterIterator;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The preview engine's picture: a poster whose text is the prompt, over a background made from the
 * prompt's words (each word a soft colour field at a place its hash picks; colour words such as
 * "red" or "蓝" keep their colour). Everything is a pure function of (prompt, size, seed), so the
 * same request always gives the same pixels. The background is painted in horizontal bands so the
 * engine can spread the work over its steps.
 */
final class Poster {
    private static final int MAX_FIELDS = 12;
    private static final Set<String> STOP_WORDS = Set.of("a", "an", "the", "of", "and", "in", "on", "at", "with",
            "to", "for", "by", "is", "are", "its", "it", "from", "as", "或", "的", "和", "在", "了", "与");
    /** Colour words keep their colour: the poster of "a red fox" has a red field. */
    private static final Map<String, Integer> COLOURS = Map.ofEntries(
            Map.entry("red", 0xd7263d), Map.entry("红", 0xd7263d), Map.entry("orange", 0xf46036),
            Map.entry("橙", 0xf46036), Map.entry("yellow", 0xf6d743), Map.entry("黄", 0xf6d743),
            Map.entry("green", 0x2e9e4f), Map.entry("绿", 0x2e9e4f), Map.entry("cyan", 0x1fb5c9),
            Map.entry("teal", 0x138a8a), Map.entry("青", 0x1fb5c9), Map.entry("blue", 0x2459d1),
            Map.entry("蓝", 0x2459d1), Map.entry("navy", 0x1b2a5e), Map.entry("purple", 0x7b3fb5),
            Map.entry("violet", 0x8f5bd6), Map.entry("紫", 0x7b3fb5), Map.entry("pink", 0xf28ab2),
            Map.entry("粉", 0xf28ab2), Map.entry("magenta", 0xd1339c), Map.entry("black", 0x15151a),
            Map.entry("黑", 0x15151a), Map.entry("white", 0xf4f4f0), Map.entry("白", 0xf4f4f0),
            Map.entry("gray", 0x8a8d93), Map.entry("grey", 0x8a8d93), Map.entry("灰", 0x8a8d93),
            Map.entry("gold", 0xd4a72c), Map.entry("golden", 0xd4a72c), Map.entry("金", 0xd4a72c),
            Map.entry("silver", 0xbfc3c9), Map.entry("银", 0xbfc3c9), Map.entry("brown", 0x7a4b2a),
            Map.entry("棕", 0x7a4b2a));

    /** A soft disc of colour: centre and radius in pixels, colour channels, peak opacity. */
    private record Field(float cx, float cy, float radius, float r, float g, float b, float alpha) {
    }

    private final String prompt;
    /** What the notice at the foot of the text says: that no model ran, the seed, the size the client asked for. */
    private final String notice;
    private final int width;
    private final int height;
    private final long seed;
    private final float[] from;
    private final float[] to;
    /** Unit direction of the gradient, and the projection range it is normalised over. */
    private final float dirX;
    private final float dirY;
    private final float projMin;
    private final float projSpan;
    private final List<Field> fields;

    private Poster(String prompt, String notice, int width, int height, long seed, float[] from, float[] to, double angle,
                   List<Field> fields) {
        this.prompt = prompt;
        this.notice = notice;
        this.width = width;
        this.height = height;
        this.seed = seed;
        this.from = from;
        this.to = to;
        this.dirX = (float) Math.cos(angle);
        this.dirY = (float) Math.sin(angle);
        float[] corners = {0, width * dirX, height * dirY, width * dirX + height * dirY};
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float c : corners) {
            min = Math.min(min, c);
            max = Math.max(max, c);
        }
        this.projMin = min;
        this.projSpan = Math.max(1e-3f, max - min);
        this.fields = fields;
    }

    /**
     * Plans the poster for a request, at the engine's working size; cheap (no pixels yet). The
     * notice names the size the client asked for, which the image is resized to afterwards.
     */
    static Poster plan(GenerationRequest request) {
        return plan(request.prompt(), request.width(), request.height(), request.seed(),
                "PREVIEW · no model ran · seed " + request.seed() + " · " + request.requestedWidth() + "×" + request.requestedHeight());
    }

    /** Plans the preview of an edit: the same colours from the prompt, over the input instead of a gradient. */
    static Poster planEdit(GenerationRequest request) {
        return plan(request.prompt(), request.width(), request.height(), request.seed(),
                "PREVIEW EDIT · no model ran · seed " + request.seed() + " · " + request.requestedWidth() + "×" + request.requestedHeight());
    }

    private static Poster plan(String prompt, int width, int height, long seed, String notice) {
        List<String> words = words(prompt);
        long whole = mix(hash(prompt) ^ mix(seed));
        Integer firstColour = words.stream().map(COLOURS::get).filter(c -> c != null).findFirst().orElse(null);
        float hue = firstColour != null ? hueOf(firstColour) : unit(whole);
        float hue2 = hue + 0.08f + 0.34f * unit(mix(whole + 1));
        float[] from = hsb(hue, 0.45f + 0.3f * unit(mix(whole + 2)), 0.30f + 0.25f * unit(mix(whole + 3)));
        float[] to = hsb(hue2, 0.40f + 0.3f * unit(mix(whole + 4)), 0.55f + 0.35f * unit(mix(whole + 5)));
        double angle = 2 * Math.PI * unit(mix(whole + 6));

        List<Field> fields = new ArrayList<>();
        float shortSide = Math.min(width, height);
        for (String word : words) {
            if (fields.size() == MAX_FIELDS) {
                break;
            }
            long h = mix(hash(word) ^ mix(seed + 0x9E3779B97F4A7C15L));
            Integer colour = COLOURS.get(word);
            float[] rgb = colour != null ? rgb(colour) : hsb(unit(h), 0.55f + 0.35f * unit(mix(h + 1)), 0.55f + 0.4f * unit(mix(h + 2)));
            fields.add(new Field(width * unit(mix(h + 3)), height * unit(mix(h + 4)),
                    shortSide * (0.18f + 0.32f * unit(mix(h + 5))), rgb[0], rgb[1], rgb[2],
                    0.35f + 0.4f * unit(mix(h + 6))));
        }
        return new Poster(prompt, notice, width, height, seed, from, to, angle, fields);
    }

    BufferedImage canvas() {
        return new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    }

    /** Paints the background of rows {@code [y0, y1)}: gradient, word fields and a fine grain. */
    void paintRows(BufferedImage image, int y0, int y1) {
        int[] px = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        int n = fields.size();
        float[] cx = new float[n];
        float[] inv = new float[n];
        float[] dy2 = new float[n];
        for (int i = 0; i < n; i++) {
            Field f = fields.get(i);
            cx[i] = f.cx();
            inv[i] = 1f / (f.radius() * f.radius());
        }
        for (int y = y0; y < y1; y++) {
            for (int i = 0; i < n; i++) {
                float d = y - fields.get(i).cy();
                dy2[i] = d * d;
            }
            int row = y * width;
            float rowProj = y * dirY - projMin;
            for (int x = 0; x < width; x++) {
                float t = (x * dirX + rowProj) / projSpan;
                float r = from[0] + (to[0] - from[0]) * t;
                float g = from[1] + (to[1] - from[1]) * t;
                float b = from[2] + (to[2] - from[2]) * t;
                for (int i = 0; i < n; i++) {
                    float dx = x - cx[i];
                    float f = 1f - (dx * dx + dy2[i]) * inv[i];
                    if (f > 0) {
                        Field fd = fields.get(i);
                        float a = fd.alpha() * f * f;
                        r += (fd.r() - r) * a;
                        g += (fd.g() - g) * a;
                        b += (fd.b() - b) * a;
                    }
                }
                int grain = (int) ((mix(seed ^ ((long) y << 32 | x)) & 7) - 3);
                px[row + x] = channel(r, grain) << 16 | channel(g, grain) << 8 | channel(b, grain);
            }
        }
    }

    /**
     * Paints rows {@code [y0, y1)} of an edit's preview: the input mirrored left to right and
     * tinted a third of the way toward the prompt's colours (its first colour word, when it names
     * one: "make the sky purple" comes out purple), a visible, deterministic change of the picture.
     * {@code input} is at the working size.
     */
    void paintEditRows(BufferedImage image, BufferedImage input, int y0, int y1) {
        int[] px = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        int[] row = new int[width];
        for (int y = y0; y < y1; y++) {
            input.getRGB(0, y, width, 1, row, 0, width);
            float rowProj = y * dirY - projMin;
            for (int x = 0; x < width; x++) {
                int src = row[width - 1 - x];
                float t = (x * dirX + rowProj) / projSpan;
                float tr = from[0] + (to[0] - from[0]) * t;
                float tg = from[1] + (to[1] - from[1]) * t;
                float tb = from[2] + (to[2] - from[2]) * t;
                float r = ((src >> 16) & 0xff) * 0.66f + tr * 0.34f;
                float g = ((src >> 8) & 0xff) * 0.66f + tg * 0.34f;
                float b = (src & 0xff) * 0.66f + tb * 0.34f;
                px[y * width + x] = channel(r, 0) << 16 | channel(g, 0) << 8 | channel(b, 0);
            }
        }
    }

    String notice() {
        return notice;
    }

    /**
     * Draws the prompt, wrapped to fit a central panel, and under it the notice that says this is
     * a preview. Both stay out of the bands along the top and bottom edges ({@link #edgeBand}),
     * where a corner watermark goes, so the mark never covers them whichever corner it takes.
     */
    void paintText(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            FontRenderContext frc = g.getFontRenderContext();
            float shortSide = Math.min(width, height);
            float edge = edgeBand(shortSide);

            float footSize = Math.max(9f, shortSide / 42f);
            List<TextLayout> foot = noticeLines(frc, footSize);
            float footPad = footSize * 0.5f;
            float footW = 0;
            float lineH = 0;
            for (TextLayout l : foot) {
                footW = Math.max(footW, l.getAdvance() + 2 * footPad);
                lineH = Math.max(lineH, l.getAscent() + l.getDescent());
            }
            float footH = lineH * foot.size() + footSize * 0.6f;
            float gap = footSize * 0.6f;

            float maxFont = shortSide / 9f;
            float room = height - 2 * edge - footH - gap - 2 * maxFont * 0.7f;
            Block block = fit(frc, width * 0.80f, Math.max(footSize, Math.min(height * 0.62f, room)), Math.max(10f, shortSide / 44f), maxFont);
            float pad = block.fontSize() * 0.7f;
            float panelW = block.width() + 2 * pad;
            float panelH = block.height() + 2 * pad;
            float groupH = panelH + gap + footH;
            float px = (width - panelW) / 2;
            float py = Math.max(edge, edge + (height - 2 * edge - groupH) / 2);
            g.setComposite(AlphaComposite.SrcOver);
            g.setColor(new Color(8, 8, 12, 120));
            g.fill(new RoundRectangle2D.Float(px, py, panelW, panelH, pad, pad));
            g.setColor(new Color(250, 250, 246));
            float y = py + pad;
            for (TextLayout line : block.lines()) {
                y += line.getAscent();
                line.draw(g, (width - line.getAdvance()) / 2, y);
                y += line.getDescent() + line.getLeading() + block.fontSize() * 0.12f;
            }

            float fy = py + panelH + gap;
            g.setColor(new Color(8, 8, 12, 140));
            g.fill(new RoundRectangle2D.Float((width - footW) / 2, fy, footW, footH, footH / 2, footH / 2));
            g.setColor(new Color(250, 250, 246, 220));
            float ly = fy + footSize * 0.3f;
            for (TextLayout l : foot) {
                l.draw(g, (width - l.getAdvance()) / 2, ly + l.getAscent());
                ly += lineH;
            }
        } finally {
            g.dispose();
        }
    }

    /**
     * The notice in one line, or in two (split before the seed) on an image too narrow for one,
     * the font shrunk further only if even those do not fit.
     */
    List<TextLayout> noticeLines(FontRenderContext frc, float size) {
        float room = width * 0.92f;
        int split = notice.indexOf(" · seed ");
        List<String> texts = List.of(notice);
        if (layoutOf(notice, size, frc).getAdvance() > room && split > 0) {
            texts = List.of(notice.substring(0, split), notice.substring(split + 3));
        }
        float widest = 0;
        for (String t : texts) {
            widest = Math.max(widest, layoutOf(t, size, frc).getAdvance());
        }
        float fitted = widest > room ? size * room / widest : size;
        List<TextLayout> lines = new ArrayList<>();
        for (String t : texts) {
            lines.add(layoutOf(t, fitted, frc));
        }
        return lines;
    }

    private static TextLayout layoutOf(String text, float size, FontRenderContext frc) {
        return new TextLayout(CjkFont.styled(text, size).getIterator(), frc);
    }

    /**
     * Height of the bands along the top and bottom edges the text keeps free: more than a corner
     * watermark takes (its margin plus its text, about 0.09 of the short side, at least 23 px).
     */
    static float edgeBand(float shortSide) {
        return Math.max(28f, shortSide * 0.11f);
    }

    /** Lines of wrapped text at one font size, and the box they take. */
    private record Block(float fontSize, List<TextLayout> lines, float width, float height) {
    }

    /**
     * The prompt at the largest size in {@code [min, max]} whose wrapped lines fit {@code maxHeight};
     * at the smallest size, as many lines as fit, the last one ending in an ellipsis.
     */
    private Block fit(FontRenderContext frc, float wrap, float maxHeight, float min, float max) {
        max = Math.max(min, max);
        Block best = null;
        float lo = min;
        float hi = max;
        for (int i = 0; i < 7 && hi - lo > 0.5f; i++) {
            float mid = (lo + hi) / 2;
            Block b = layout(frc, mid, wrap, Float.MAX_VALUE);
            if (b.height() <= maxHeight) {
                best = b;
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Block top = layout(frc, max, wrap, Float.MAX_VALUE);
        if (top.height() <= maxHeight) {
            return top;
        }
        return best != null ? best : layout(frc, min, wrap, maxHeight);
    }

    private Block layout(FontRenderContext frc, float size, float wrap, float maxHeight) {
        List<TextLayout> lines = new ArrayList<>();
        String lastLineOnwards = "";
        float height = 0;
        float widest = 0;
        float gap = size * 0.12f;
        for (String paragraph : prompt.split("\\R")) {
            String text = paragraph.isBlank() ? " " : paragraph;
            AttributedCharacterIterator it = CjkFont.styled(text, size).getIterator();
            LineBreakMeasurer measurer = new LineBreakMeasurer(it, frc);
            while (measurer.getPosition() < it.getEndIndex()) {
                int start = measurer.getPosition();
                TextLayout line = measurer.nextLayout(wrap);
                float h = line.getAscent() + line.getDescent() + line.getLeading() + gap;
                if (height + h > maxHeight) {
                    // out of room: the last line that fits ends the text with an ellipsis
                    if (lines.isEmpty()) {
                        lines.add(ellipsized(frc, size, wrap, text.substring(start)));
                    } else {
                        lines.set(lines.size() - 1, ellipsized(frc, size, wrap, lastLineOnwards));
                    }
                    for (TextLayout l : lines) {
                        widest = Math.max(widest, l.getAdvance());
                    }
                    return new Block(size, lines, widest, Math.max(height, h));
                }
                lines.add(line);
                lastLineOnwards = text.substring(start);
                height += h;
                widest = Math.max(widest, line.getAdvance());
            }
        }
        return new Block(size, lines, widest, height);
    }

    /** The start of {@code rest} that fits {@code wrap} with a trailing ellipsis. */
    private static TextLayout ellipsized(FontRenderContext frc, float size, float wrap, String rest) {
        int end = rest.length();
        while (true) {
            TextLayout t = new TextLayout(CjkFont.styled(rest.substring(0, end).stripTrailing() + "…", size).getIterator(), frc);
            if (t.getAdvance() <= wrap || end <= 1) {
                return t;
            }
            end = Math.max(1, Math.min(end - 1, (int) (end * wrap / t.getAdvance())));
        }
    }

    // ---- words, hashes and colours ------------------------------------------------------------

    /**
     * The prompt's words in order of first appearance: runs of letters or digits, lower-cased, with
     * each Han character a word of its own; short function words are skipped.
     */
    static List<String> words(String prompt) {
        Set<String> out = new LinkedHashSet<>();
        StringBuilder current = new StringBuilder();
        prompt.codePoints().forEach(cp -> {
            boolean han = Character.UnicodeScript.of(cp) == Character.UnicodeScript.HAN;
            if (Character.isLetterOrDigit(cp) && !han) {
                current.appendCodePoint(Character.toLowerCase(cp));
                return;
            }
            flush(current, out);
            if (han) {
                current.appendCodePoint(cp);
                flush(current, out);
            }
        });
        flush(current, out);
        return List.copyOf(out);
    }

    private static void flush(StringBuilder current, Set<String> out) {
        if (!current.isEmpty()) {
            String w = current.toString().toLowerCase(Locale.ROOT);
            if (!STOP_WORDS.contains(w)) {
                out.add(w);
            }
            current.setLength(0);
        }
    }

    /** FNV-1a over UTF-8. */
    private static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A uniform float in [0, 1) from a hash. */
    private static float unit(long h) {
        return (h >>> 40) / (float) (1L << 24);
    }

    private static float[] hsb(float h, float s, float b) {
        return rgb(Color.HSBtoRGB(h - (float) Math.floor(h), s, b) & 0xffffff);
    }

    private static float[] rgb(int rgb) {
        return new float[] {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
    }

    private static float hueOf(int rgb) {
        float[] hsb = Color.RGBtoHSB((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff, null);
        return hsb[0];
    }

    private static int channel(float v, int grain) {
        int c = Math.round(v) + grain;
        return c < 0 ? 0 : Math.min(255, c);
    }
}
