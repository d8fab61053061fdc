package dev.qwenimage.image;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.font.TextLayout;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.Locale;

/**
 * The visible mark that says an image is AI-generated (by default "AI生成"), drawn in the bundled
 * CJK font in one corner: white at 80% opacity with a dark outline at 70%, so it reads on light and dark
 * pictures alike, sized from the image's short side so it stays legible from 256x256 to 1536x1536.
 */
public final class Watermark {

    /** Where the mark goes. */
    public enum Corner {
        TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT;

        /** Parses {@code bottom-right}, {@code BOTTOM_RIGHT} and the like. */
        public static Corner parse(String text) {
            return valueOf(text.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    /** The text height as a share of the image's short side, and its floor in pixels. */
    private static final float SIZE_RATIO = 0.055f;
    private static final float MIN_SIZE = 14f;

    private final String text;
    private final Corner corner;

    public Watermark(String text, Corner corner) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("watermark text must not be blank");
        }
        this.text = text;
        this.corner = corner;
    }

    public String text() {
        return text;
    }

    /** Draws the mark onto {@code image} in place. */
    public void apply(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            Placed p = place(image.getWidth(), image.getHeight(), g.getFontRenderContext());
            g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.7f));
            g.setColor(new Color(12, 12, 16));
            g.setStroke(new BasicStroke(p.size() / 7f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            g.draw(p.outline());
            g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.8f));
            g.setColor(Color.WHITE);
            g.fill(p.outline());
        } finally {
            g.dispose();
        }
    }

    /** The pixel box the mark (outline included) covers on a {@code width x height} image. */
    public Rectangle bounds(int width, int height) {
        Placed p = place(width, height, new FontRenderContext(null, true, true));
        Rectangle2D b = p.outline().getBounds2D();
        double grow = p.size() / 14f + 1;
        return new Rectangle2D.Double(b.getX() - grow, b.getY() - grow, b.getWidth() + 2 * grow, b.getHeight() + 2 * grow)
                .getBounds().intersection(new Rectangle(0, 0, width, height));
    }

    private record Placed(Shape outline, float size) {
    }

    private Placed place(int width, int height, FontRenderContext frc) {
        float size = Math.max(MIN_SIZE, Math.min(width, height) * SIZE_RATIO);
        TextLayout layout = new TextLayout(CjkFont.styled(text, size).getIterator(), frc);
        Rectangle2D ink = layout.getBounds();
        float margin = size * 0.6f;
        double x = switch (corner) {
            case TOP_LEFT, BOTTOM_LEFT -> margin - ink.getX();
            case TOP_RIGHT, BOTTOM_RIGHT -> width - margin - ink.getMaxX();
        };
        double y = switch (corner) {
            case TOP_LEFT, TOP_RIGHT -> margin - ink.getY();
            case BOTTOM_LEFT, BOTTOM_RIGHT -> height - margin - ink.getMaxY();
        };
        return new Placed(layout.getOutline(AffineTransform.getTranslateInstance(x, y)), size);
    }
}
