package dev.qwenimage.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Per-key metric labels: bounded, given to the busiest keys, and never taken back. */
class KeyLabelsTest {
    @Test
    void atMostTheLimitOfKeysGetALabelTheBusiestFirstAndTheRestCountAsOther() {
        KeyLabels labels = new KeyLabels(3, owner -> java.util.Optional.of("name-" + owner));
        for (int owner = 0; owner < 10; owner++) {
            for (int event = 0; event <= owner; event++) {
                assertThat(labels.label("k" + owner)).isEqualTo(KeyLabels.OTHER); // nobody has a label yet
            }
        }
        labels.promote();
        assertThat(labels.given()).containsExactlyInAnyOrder("name-k9", "name-k8", "name-k7");
        assertThat(labels.label("k9")).isEqualTo("name-k9");
        assertThat(labels.label("k0")).isEqualTo(KeyLabels.OTHER);

        // full: a key that becomes busier later still counts as other, and labels given stay
        for (int i = 0; i < 1000; i++) {
            labels.label("k0");
        }
        labels.promote();
        assertThat(labels.given()).containsExactlyInAnyOrder("name-k9", "name-k8", "name-k7");
        assertThat(labels.label("k0")).isEqualTo(KeyLabels.OTHER);
    }

    @Test
    void twoKeysWithOneNameGetTwoLabels() {
        KeyLabels labels = new KeyLabels(5, owner -> java.util.Optional.of("shared"));
        labels.label("owner-a");
        labels.label("owner-b");
        labels.label("owner-b");
        labels.promote();
        assertThat(labels.label("owner-b")).isEqualTo("shared");
        assertThat(labels.label("owner-a")).isEqualTo("shared #2");
    }

    @Test
    void theLabelOtherIsNeverGivenToAKey() {
        KeyLabels labels = new KeyLabels(5, owner -> java.util.Optional.of("other"));
        labels.label("x");
        labels.promote();
        assertThat(labels.label("x")).isEqualTo("other #2");
    }

    @Test
    void anOwnerNoKeyHasStaysUnderOtherAndNothingOfItsIdIsShown() {
        KeyLabels labels = new KeyLabels(5, owner -> java.util.Optional.empty());
        labels.label("0123456789abcdef0123");
        labels.promote();
        assertThat(labels.label("0123456789abcdef0123")).isEqualTo(KeyLabels.OTHER);
        assertThat(labels.given()).isEmpty();
    }
}
