package dev.qwenimage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Durations are read the way people write them, and printed the same way. */
class DurationsTest {

    @Test
    void aBareNumberMeansSeconds() {
        assertThat(Durations.parse("5")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Durations.parse("90")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("1.5")).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void unitsAreTheOnesPeopleWrite() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Durations.parse("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parse("10 min")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Durations.parse("2 hours")).isEqualTo(Duration.ofHours(2));
        assertThat(Durations.parse("30 sec")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("1 day")).isEqualTo(Duration.ofDays(1));
        assertThat(Durations.parse("15S")).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void combinationsAndFractionsAddUp() {
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("1h 30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("2m30s")).isEqualTo(Duration.ofSeconds(150));
        assertThat(Durations.parse("1d12h")).isEqualTo(Duration.ofHours(36));
        assertThat(Durations.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("0.25s")).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void isoEightSixOhOneStillWorks() {
        assertThat(Durations.parse("PT1H")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("pt90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("P1D")).isEqualTo(Duration.ofDays(1));
    }

    @Test
    void anythingElseIsRefusedWithExamplesAndWhatABareNumberMeans() {
        for (String bad : List.of("soon", "", "h", "5x", "1..5h", "-5s", "PT-1S", "1h-30m", "5 5")) {
            assertThatThrownBy(() -> Durations.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("90s").hasMessageContaining("1h30m")
                    .hasMessageContaining("a bare number means seconds");
        }
    }

    @Test
    void humanFormIsTheShortestWayPeopleWriteIt() {
        assertThat(Durations.human(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.human(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(Durations.human(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(Durations.human(Duration.ofHours(24))).isEqualTo("1d");
        assertThat(Durations.human(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(Durations.human(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.human(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.human(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void theHumanFormReadsBackAsTheSameDuration() {
        for (Duration d : List.of(Duration.ofMillis(1), Duration.ofMillis(999), Duration.ofMillis(61_001), Duration.ofSeconds(3599),
                Duration.ofHours(25).plusSeconds(1), Duration.ofDays(400), Duration.ofMillis(86_400_000L + 1))) {
            assertThat(Durations.parse(Durations.human(d))).as(Durations.human(d)).isEqualTo(d);
        }
    }
}
