package dev.qwenimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The visible "AI生成" mark: present where it should be, legible at every size, readable on light and dark pictures. */
class WatermarkTest {
    private final Watermark mark = new Watermark("AI生成", Watermark.Corner.BOTTOM_RIGHT);

    static BufferedImage uniform(int w, int h, Color c) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    @ParameterizedTest(name = "{0}x{0} on {1}")
    @CsvSource({"256, white", "256, black", "1024, white", "1024, black", "1536, white", "1536, black"})
    void markIsDrawnInsideItsCornerBoxAndNowhereElse(int side, String background) {
        Color bg = background.equals("white") ? Color.WHITE : Color.BLACK;
        BufferedImage img = uniform(side, side, bg);
        mark.apply(img);
        Rectangle box = mark.bounds(side, side);

        int changedInside = 0;
        int bright = 0;
        int dark = 0;
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                boolean changed = rgb != (bg.getRGB() & 0xffffff);
                if (!box.contains(x, y)) {
                    assertThat(changed).as("pixel %d,%d outside the mark's box", x, y).isFalse();
                } else if (changed) {
                    changedInside++;
                    int lum = ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff);
                    bright += lum > 600 ? 1 : 0;
                    dark += lum < 400 ? 1 : 0; // a grey at least half-way to black
                }
            }
        }
        // legible: the text is at least 14 px tall and covers a real share of its box
        assertThat(box.height).isGreaterThanOrEqualTo(14);
        assertThat(changedInside).isGreaterThan(box.width * box.height / 8);
        // readable on both: the light fill shows on black, the dark outline shows on white
        if (bg == Color.BLACK) {
            assertThat(bright).isGreaterThan(box.width * box.height / 20);
        } else {
            assertThat(dark).isGreaterThan(box.width * box.height / 40);
        }
    }

    @ParameterizedTest
    @CsvSource({"256, 18", "1024, 56", "1536, 84"})
    void markGrowsWithTheShortSide(int side, int minHeight) {
        assertThat(mark.bounds(side, side).height).isGreaterThanOrEqualTo(minHeight);
        assertThat(mark.bounds(side, side).width).isLessThan(side / 3);
    }

    @ParameterizedTest
    @EnumSource(Watermark.Corner.class)
    void eachCornerPutsTheMarkInThatCorner(Watermark.Corner corner) {
        Rectangle box = new Watermark("AI生成", corner).bounds(1024, 768);
        boolean left = corner == Watermark.Corner.TOP_LEFT || corner == Watermark.Corner.BOTTOM_LEFT;
        boolean top = corner == Watermark.Corner.TOP_LEFT || corner == Watermark.Corner.TOP_RIGHT;
        assertThat(box.getCenterX() < 512).isEqualTo(left);
        assertThat(box.getCenterY() < 384).isEqualTo(top);
        assertThat(new Rectangle(0, 0, 1024, 768).contains(box)).isTrue();
    }
}
