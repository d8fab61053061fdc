package dev.qwenimage.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TaskIdsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));

    @Test
    void idsAreVersion7UuidsCarryingTheCreationTime() {
        UUID id = UUID.fromString(TaskIds.next(clock));
        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(clock.millis());
    }

    @Test
    void laterIdsSortAfterEarlierOnesAndNoneRepeat() {
        String first = TaskIds.next(clock);
        clock.advance(Duration.ofMillis(1));
        String second = TaskIds.next(clock);
        assertThat(second).isGreaterThan(first);

        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(TaskIds.next(clock));
        }
        assertThat(ids).hasSize(10_000);
    }
}
