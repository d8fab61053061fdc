package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The checks a request makes itself: the shape of its fields, by the server's rules (README,
 * "Field rules"); ranges are the server's.
 */
class GenerateRequestTest {
    @ParameterizedTest(name = "size \"{0}\" is {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "1328*1328      | 1328*1328",
            "1664x928       | 1664*928",
            "1664X928       | 1664*928",
            "' 512*768 '    | 512*768",
            "'\t512*512\n' | 512*512"})
    void aSizeIsReadInEitherSpellingWithWhiteSpaceAroundIt(String size, String wire) {
        assertThat(GenerateRequest.builder("x").size(size).build().size()).contains(wire);
    }

    @ParameterizedTest(name = "size \"{0}\" is refused")
    @ValueSource(strings = {"big", "0256*0256", "00000256*256", "256*0256", "+512*512", "-512*512", " 1664 x 928 ",
            "512 * 512", "512*512*512", "512.0*512", "", "*512", "512*", "\u0665\u0661\u0662*512"})
    void aSizeNotWrittenAsTwoPlainNumbersIsRefused(String size) {
        assertThatThrownBy(() -> GenerateRequest.builder("x").size(size)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("<width>*<height>");
    }

    @Test
    void noSizeLeavesTheServersDefault() {
        assertThat(GenerateRequest.of("x").size()).isEmpty();
    }

    @ParameterizedTest(name = "prompt {0} is refused")
    @ValueSource(strings = {"\u0000", "a c\u0000t", "a cat\u0007", "a cat\u007f", "a cat\u0085", "a\u000bcat",
            "a cat \ud800", "\udc00 a cat", "\ude00\ud83d", " \n\t ", "\u00a0\u3000", "\u200b", "\ufeff", ""})
    void aPromptWithoutAVisibleCharacterOrWithAControlOrALoneSurrogateIsRefused(String prompt) {
        assertThatThrownBy(() -> GenerateRequest.of(prompt)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prompt");
    }

    @ParameterizedTest(name = "prompt {0} is accepted")
    @ValueSource(strings = {"a cat", "a cat\non a mat\tat noon\r", "\ud83d\ude00 a smiling cat", "\ud83d\udc69\u200d\ud83d\udcbb", "猫"})
    void aPromptWithTabsNewLinesAndAnyCharacterIsAccepted(String prompt) {
        assertThat(GenerateRequest.of(prompt).prompt()).isEqualTo(prompt);
    }

    @Test
    void aNegativePromptMayBeBlankButFollowsTheSameCharacterRule() {
        assertThat(GenerateRequest.builder("x").negativePrompt(" ").build().negativePrompt()).isEqualTo(" ");
        assertThatThrownBy(() -> GenerateRequest.builder("x").negativePrompt("blur\u0000").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative_prompt");
        assertThatThrownBy(() -> GenerateRequest.builder("x").negativePrompt("\ud800").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative_prompt");
    }

    @Test
    void rangesAreLeftToTheServer() {
        assertThat(GenerateRequest.builder("x").size(64, 4096).seed(-5).build().width()).isEqualTo(64);
    }

    @Test
    void widthAndHeightComeTogether() {
        assertThatThrownBy(() -> new GenerateRequest("x", 512, null, null, null, null, null, null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anIdempotencyKeyMustFitInAHeader() {
        assertThatThrownBy(() -> GenerateRequest.builder("x").idempotencyKey("two words").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> GenerateRequest.builder("x").idempotencyKey("k".repeat(256)).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(GenerateRequest.builder("x").idempotencyKey("k".repeat(255)).build().idempotencyKey()).hasSize(255);
    }

    @Test
    void aPromptIsRequired() {
        assertThatThrownBy(() -> GenerateRequest.builder().build()).isInstanceOf(NullPointerException.class);
    }
}
