package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The waits between polls: a backoff to a cap, bent by the server's ETA and by Retry-After. */
class PollScheduleTest {
    private static TaskResult running(long etaSeconds) {
        return new TaskResult("t", TaskStatus.PROCESSING, "", Duration.ofSeconds(etaSeconds), 10, List.of(), OptionalLong.empty());
    }

    @Test
    void withoutAnEtaTheWaitGrowsByHalfUpToTheCap() {
        PollSchedule s = new PollSchedule(Duration.ofMillis(500), Duration.ofSeconds(2));

        assertThat(List.of(s.after(running(0)), s.after(running(0)), s.after(running(0)), s.after(running(0)), s.after(running(0))))
                .containsExactly(Duration.ofMillis(500), Duration.ofMillis(750), Duration.ofMillis(1125),
                        Duration.ofNanos(1_687_500_000), Duration.ofSeconds(2));
    }

    @Test
    void aLongEtaSkipsStraightToTheCap() {
        PollSchedule s = new PollSchedule(Duration.ofMillis(500), Duration.ofSeconds(5));

        assertThat(s.after(running(300))).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aMediumEtaPollsAboutEightTimesOverIt() {
        PollSchedule s = new PollSchedule(Duration.ofMillis(500), Duration.ofSeconds(5));

        assertThat(s.after(running(16))).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aShortEtaShortensAGrownWaitSoTheEndIsSeenPromptly() {
        PollSchedule s = new PollSchedule(Duration.ofMillis(500), Duration.ofSeconds(5));
        s.after(running(300));

        assertThat(s.after(running(1))).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void retryAfterOutweighsTheCap() {
        PollSchedule s = new PollSchedule(Duration.ofMillis(500), Duration.ofSeconds(5));

        assertThat(s.afterFailure(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.afterFailure(null)).isEqualTo(Duration.ofSeconds(5));
    }
}
