package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The five classes, their order, and the rule that turns probabilities into a verdict. */
class NsfwClassesTest {
    @Test
    void classesAreInTheOrderOfTheModelOutputAsNsfwjsNamesThem() {
        // nsfwjs's NSFW_CLASSES: {0: 'Drawing', 1: 'Hentai', 2: 'Neutral', 3: 'Porn', 4: 'Sexy'}; reference.js checked
        // that classify() names output i with NSFW_CLASSES[i] for every fixture.
        assertThat(Arrays.stream(NsfwClass.values()).map(NsfwClass::label).toList())
                .containsExactly("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
                .containsExactlyElementsOf(NsfwFixtures.classes());
    }

    @Test
    void theClassifierNamesTheTopClassNsfwjsFound() {
        NsfwModel model = NsfwModel.loadDefault();
        for (String file : new String[] {"cartoon-face-400x400.png", "mandelbrot-500x375.png", "skin-figure-480x640.png"}) {
            NsfwFixtures.Fixture f = NsfwFixtures.named(file);
            assertThat(model.classify(f.image()).top()).as(file).isEqualTo(f.expectedTop());
        }
        assertThat(NsfwFixtures.named("skin-figure-480x640.png").expectedTop()).isEqualTo(NsfwClass.HENTAI);
        assertThat(NsfwFixtures.named("mandelbrot-500x375.png").expectedTop()).isEqualTo(NsfwClass.DRAWING);
        assertThat(NsfwFixtures.named("cartoon-face-400x400.png").expectedTop()).isEqualTo(NsfwClass.NEUTRAL);
    }

    @Test
    void probabilitiesSumToOne() {
        NsfwScores s = NsfwModel.loadDefault().classify(NsfwFixtures.named("beach-800x450.png").image());
        assertThat(s.drawing() + s.hentai() + s.neutral() + s.porn() + s.sexy()).isCloseTo(1.0, within(1e-6));
    }

    @Test
    void unsafeIsPornPlusHentaiPlusSexyAndDecidesAtOneHalf() {
        NsfwScores sexyAndPorn = new NsfwScores(0.05, 0.05, 0.40, 0.25, 0.25);
        assertThat(sexyAndPorn.unsafe()).isCloseTo(0.55, within(1e-12));
        assertThat(sexyAndPorn.explicit()).isCloseTo(0.30, within(1e-12));
        assertThat(sexyAndPorn.isNsfw()).isTrue(); // no unsafe class wins alone, together they do
        assertThat(sexyAndPorn.top()).isEqualTo(NsfwClass.NEUTRAL);

        NsfwScores drawingWithSomeHentai = new NsfwScores(0.55, 0.40, 0.03, 0.01, 0.01);
        assertThat(drawingWithSomeHentai.isNsfw()).isFalse();
        assertThat(drawingWithSomeHentai.isNsfw(0.4)).isTrue();

        NsfwScores exactlyHalf = new NsfwScores(0.25, 0.25, 0.25, 0.25, 0.0);
        assertThat(exactlyHalf.isNsfw()).isTrue();
    }

    @Test
    void safeClassesAreDrawingAndNeutral() {
        assertThat(Arrays.stream(NsfwClass.values()).filter(NsfwClass::safe)).containsExactly(NsfwClass.DRAWING, NsfwClass.NEUTRAL);
    }
}
