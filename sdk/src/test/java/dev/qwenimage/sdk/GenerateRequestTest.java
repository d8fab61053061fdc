package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The checks a request makes itself: only the shape of fields; ranges are the server's. */
class GenerateRequestTest {
    @Test
    void sizeReadsBothWritings() {
        assertThat(GenerateRequest.builder("x").size("1328*1328").build().size()).contains("1328*1328");
        assertThat(GenerateRequest.builder("x").size(" 1664 x 928 ").build().size()).contains("1664*928");
        assertThat(GenerateRequest.of("x").size()).isEmpty();
    }

    @Test
    void aSizeThatIsNotTwoNumbersIsRefused() {
        assertThatThrownBy(() -> GenerateRequest.builder("x").size("big")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("<width>*<height>");
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
