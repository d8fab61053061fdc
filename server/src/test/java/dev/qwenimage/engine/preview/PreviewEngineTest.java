package dev.qwenimage.engine.preview;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.image.CjkFont;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The preview engine: a deterministic poster of the prompt, rendered in steps, stoppable between them. */
class PreviewEngineTest {
    private final PreviewEngine engine = new PreviewEngine(20, Duration.ZERO);

    private static GenerationRequest request(String prompt, int w, int h, long seed, int steps) {
        return new GenerationRequest("task", prompt, "", w, h, seed, steps);
    }

    private BufferedImage render(GenerationRequest r) {
        GenerationResult result = engine.generate(r, ProgressSink.NONE, new Cancellation());
        assertThat(result).isInstanceOf(GenerationResult.Success.class);
        return ((GenerationResult.Success) result).image();
    }

    private static int[] pixels(BufferedImage img) {
        return ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    }

    @Test
    void sameRequestGivesTheSamePixels() {
        BufferedImage a = render(request("a red fox reading a book", 512, 384, 7, 20));
        BufferedImage b = render(request("a red fox reading a book", 512, 384, 7, 20));
        assertThat(a.getWidth()).isEqualTo(512);
        assertThat(a.getHeight()).isEqualTo(384);
        assertThat(pixels(a)).isEqualTo(pixels(b));
    }

    @Test
    void promptAndSeedEachChangeThePicture() {
        int[] base = pixels(render(request("a red fox", 256, 256, 1, 20)));
        assertThat(pixels(render(request("a red fox", 256, 256, 2, 20)))).isNotEqualTo(base);
        assertThat(pixels(render(request("a blue whale", 256, 256, 1, 20)))).isNotEqualTo(base);
    }

    @Test
    void stepCountDoesNotChangeThePicture() {
        int[] oneStep = pixels(render(request("steps", 256, 512, 3, 1)));
        int[] manySteps = pixels(render(request("steps", 256, 512, 3, 50)));
        assertThat(manySteps).isEqualTo(oneStep);
    }

    @Test
    void colourWordsColourTheBackground() {
        BufferedImage red = render(request("red red red", 256, 256, 5, 4));
        BufferedImage blue = render(request("blue blue blue", 256, 256, 5, 4));
        assertThat(meanChannel(red, 16)).isGreaterThan(meanChannel(blue, 16));
        assertThat(meanChannel(blue, 0)).isGreaterThan(meanChannel(red, 0));
    }

    @Test
    void reportsProgressAfterEveryStep() {
        List<int[]> seen = new ArrayList<>();
        engine.generate(request("progress", 256, 256, 1, 12), (done, total) -> seen.add(new int[] {done, total}),
                new Cancellation());
        assertThat(seen).hasSize(12);
        assertThat(seen.getFirst()).containsExactly(1, 12);
        assertThat(seen.getLast()).containsExactly(12, 12);
    }

    @Test
    void stopsAtTheNextStepBoundaryWhenCancelled() {
        PreviewEngine slow = new PreviewEngine(20, Duration.ofMillis(20));
        Cancellation cancellation = new Cancellation();
        List<Integer> steps = new ArrayList<>();
        GenerationResult result = slow.generate(request("stop me", 256, 256, 1, 20), (done, total) -> {
            steps.add(done);
            if (done == 3) {
                cancellation.cancel("cancelled by the test");
            }
        }, cancellation);
        assertThat(result).isEqualTo(new GenerationResult.Cancelled("cancelled by the test"));
        assertThat(steps).containsExactly(1, 2, 3);
    }

    @Test
    void drawsChinesePromptsWithTheBundledFont() {
        String prompt = "一只戴着帽子的猫在弹钢琴，背景是蓝色的夜空";
        assertThat(CjkFont.of(40).canDisplayUpTo(prompt)).isEqualTo(-1);
        // the text is drawn in near-white over a dark panel: many such pixels, none of them in the top rows
        BufferedImage chinese = render(request(prompt, 512, 512, 9, 4));
        long textPixels = Arrays.stream(pixels(chinese)).filter(p -> (p & 0xff) > 235 && ((p >> 8) & 0xff) > 235).count();
        assertThat(textPixels).isGreaterThan(2_000);
    }

    @Test
    void veryLongPromptsAreShrunkAndCutWithAnEllipsisInsteadOfOverflowing() {
        BufferedImage img = render(request("word ".repeat(2000), 256, 256, 1, 2));
        assertThat(img.getWidth()).isEqualTo(256);
    }

    private static double meanChannel(BufferedImage img, int shift) {
        return Arrays.stream(pixels(img)).map(p -> (p >> shift) & 0xff).average().orElseThrow();
    }
}
