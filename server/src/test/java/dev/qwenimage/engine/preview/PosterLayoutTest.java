package dev.qwenimage.engine.preview;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.image.Watermark;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The preview's text keeps clear of the image's top and bottom edges, where a corner watermark
 * goes, so a mark in any corner never covers the prompt or the preview notice; and the notice
 * names the size the client asked for, not the engine's working size.
 */
class PosterLayoutTest {
    private static final List<int[]> SIZES = List.of(new int[] {1000, 700}, new int[] {700, 1000}, new int[] {256, 1536},
            new int[] {1536, 256}, new int[] {256, 256}, new int[] {1024, 1024}, new int[] {1536, 1536}, new int[] {1328, 800});
    private static final List<String> PROMPTS = List.of("a fox",
            "A red fox reading a book under a ginkgo tree, soft morning light, ".repeat(30));

    @Test
    void noCornerWatermarkCoversAnythingButTheBackground() {
        PreviewEngine engine = new PreviewEngine(4, Duration.ZERO);
        for (int[] size : SIZES) {
            for (String prompt : PROMPTS) {
                GenerationRequest r = GenerationRequest.forSize("t", prompt, "", size[0], size[1], 7, 4);
                BufferedImage drawn = ((GenerationResult.Success) engine.generate(r, ProgressSink.NONE, new Cancellation())).image();
                Poster poster = Poster.plan(r);
                BufferedImage background = poster.canvas();
                poster.paintRows(background, 0, r.height());

                for (String text : List.of("AI生成", "Generated with AI")) {
                    for (Watermark.Corner corner : Watermark.Corner.values()) {
                        // the mark is drawn on the image at the requested size: map its box onto the working canvas
                        Rectangle mark = new Watermark(text, corner).bounds(size[0], size[1]);
                        Rectangle onCanvas = scaled(mark, r.width() / (double) size[0], r.height() / (double) size[1]);
                        assertThat(samePixels(drawn, background, onCanvas))
                                .as("%dx%d %s mark '%s', prompt of %d chars", size[0], size[1], corner, text, prompt.length())
                                .isTrue();
                    }
                }
            }
        }
    }

    @Test
    void theNoticeNamesTheSizeTheClientAskedFor() {
        GenerationRequest r = GenerationRequest.forSize("t", "a fox", "", 1000, 700, 42, 4);

        assertThat(r.width()).isEqualTo(1008);
        assertThat(Poster.plan(r).notice()).isEqualTo("PREVIEW · no model ran · seed 42 · 1000×700");
    }

    @Test
    void theNoticeFitsTheWidthOfANarrowImage() {
        java.awt.font.FontRenderContext frc = new java.awt.font.FontRenderContext(null, true, true);
        for (int[] size : SIZES) {
            GenerationRequest r = GenerationRequest.forSize("t", "a fox", "", size[0], size[1], 2054077873L, 4);
            assertThat(Poster.plan(r).noticeLines(frc, Math.max(9f, Math.min(r.width(), r.height()) / 42f)))
                    .as("%dx%d", size[0], size[1])
                    .allSatisfy(line -> assertThat(line.getAdvance()).isLessThanOrEqualTo(r.width() * 0.92f));
        }
    }

    private static Rectangle scaled(Rectangle r, double sx, double sy) {
        int x0 = (int) Math.floor(r.x * sx) - 2;
        int y0 = (int) Math.floor(r.y * sy) - 2;
        int x1 = (int) Math.ceil((r.x + r.width) * sx) + 2;
        int y1 = (int) Math.ceil((r.y + r.height) * sy) + 2;
        return new Rectangle(x0, y0, x1 - x0, y1 - y0);
    }

    private static boolean samePixels(BufferedImage a, BufferedImage b, Rectangle area) {
        Rectangle clip = area.intersection(new Rectangle(0, 0, a.getWidth(), a.getHeight()));
        for (int y = clip.y; y < clip.y + clip.height; y++) {
            for (int x = clip.x; x < clip.x + clip.width; x++) {
                if (a.getRGB(x, y) != b.getRGB(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }
}
