package dev.qwenimage.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class EtaEstimatorTest {
    private final EtaEstimator eta = new EtaEstimator();

    @Test
    void usesTheEnginesPriorBeforeAnythingIsMeasured() {
        eta.prior("gpu", Duration.ofMillis(1500));
        assertThat(eta.secondsPerStep("gpu", 1024, 1024)).isCloseTo(1.5, within(1e-9));
        // cost scales with pixels
        assertThat(eta.secondsPerStep("gpu", 512, 512)).isCloseTo(1.5 / 4, within(1e-9));
    }

    @Test
    void measuredPaceReplacesThePriorAndMovesAsAnAverage() {
        eta.prior("gpu", Duration.ofSeconds(5));
        eta.record("gpu", 1024, 1024, 20, Duration.ofSeconds(20), Duration.ZERO);
        assertThat(eta.secondsPerStep("gpu", 1024, 1024)).isCloseTo(1.0, within(1e-9));
        eta.record("gpu", 1024, 1024, 20, Duration.ofSeconds(40), Duration.ZERO);
        assertThat(eta.secondsPerStep("gpu", 1024, 1024)).isCloseTo(1.0 + 0.3 * (2.0 - 1.0), within(1e-9));
    }

    @Test
    void unmeasuredResolutionIsScaledFromTheNearestMeasuredOne() {
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ZERO);
        assertThat(eta.secondsPerStep("gpu", 1536, 1536)).isCloseTo(2.25, within(0.05));
    }

    @Test
    void queuedTaskWaitsForTheWorkAheadSharedBySlotsPlusItsOwnRun() {
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ofSeconds(1)); // 11 s per task
        QueueStats stats = new QueueStats(4, 2, 50.0, 1);
        // 4 ahead x 11 s + 2 running x 11 s x half left = 55 s over 2 slots, + own 11 s
        assertThat(eta.etaSeconds("gpu", 1024, 1024, 10, 0, 4, stats, 2, false)).isEqualTo(39);
    }

    @Test
    void runningTaskEtaIsItsRemainingSteps() {
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ZERO);
        assertThat(eta.etaSeconds("gpu", 1024, 1024, 10, 70, 0, QueueStats.EMPTY, 1, true)).isEqualTo(3);
    }
}
