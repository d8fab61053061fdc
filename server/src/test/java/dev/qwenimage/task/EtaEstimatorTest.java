package dev.qwenimage.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
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
    void aSizeNotMeasuredYetIsCarriedOverByTheEnginesOwnCostModel() {
        // an engine whose steps cost the same at every size (the preview engine with a step delay)
        eta.prior("preview", (w, h) -> 0.1);
        eta.record("preview", 1024, 1024, 20, Duration.ofSeconds(2), Duration.ZERO);
        assertThat(eta.secondsPerStep("preview", 1536, 1536)).isCloseTo(0.1, within(1e-9));
        assertThat(eta.secondsPerStep("preview", 256, 256)).isCloseTo(0.1, within(1e-9));
    }

    @Test
    void aSizeBetweenTwoMeasuredOnesIsReadOffTheLineThroughThem() {
        eta.record("gpu", 512, 512, 10, Duration.ofMillis(2500), Duration.ZERO);   // 0.25 s per step at 262,144 px
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ZERO);  // 1.0 s per step at 1,048,576 px
        assertThat(eta.secondsPerStep("gpu", 768, 768)).isCloseTo(0.5625, within(1e-9));
        // beyond them the nearest is carried over by the cost model (in proportion to pixels here),
        // not by a line that two noisy averages could tilt either way
        assertThat(eta.secondsPerStep("gpu", 1536, 1536)).isCloseTo(2.25, within(1e-9));
    }

    @Test
    void queuedTaskWaitsForTheWorkAheadSharedBySlotsPlusItsOwnRun() {
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ofSeconds(1)); // 11 s per task
        QueueStats stats = new QueueStats(4, 2, 50.0, List.of());
        // 4 ahead x 11 s + 2 running x 11 s x half left = 55 s over 2 slots, + own 11 s
        assertThat(eta.queuedEtaSeconds(1024, 1024, List.of(new EngineCapacity("gpu", 10, 2)), 4, stats)).isEqualTo(39);
    }

    @Test
    void queuedTaskEtaSharesTheWorkOverEnginesByTheirPace() {
        eta.record("fast", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ZERO); // 10 s per task
        eta.record("slow", 1024, 1024, 10, Duration.ofSeconds(30), Duration.ZERO); // 30 s per task
        List<EngineCapacity> lanes = List.of(new EngineCapacity("fast", 10, 1), new EngineCapacity("slow", 10, 1));
        // together they finish 1/10 + 1/30 = 0.133 tasks/s: 8 tasks ahead take 60 s, then the task's own
        // run, 20 s on a typical slot
        assertThat(eta.queuedEtaSeconds(1024, 1024, lanes, 8, QueueStats.EMPTY)).isEqualTo(80);
    }

    @Test
    void runningTaskEtaIsItsRemainingSteps() {
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ZERO);
        assertThat(eta.runningEtaSeconds("gpu", 1024, 1024, 10, 70)).isEqualTo(3);
    }

    @Test
    void editsAreMeasuredApartFromTextToImageOnTheSameEngine() {
        String edit = EtaEstimator.paceKey("gpu", dev.qwenimage.engine.TaskKind.EDIT);
        eta.record("gpu", 1024, 1024, 10, Duration.ofSeconds(10), Duration.ofSeconds(1)); // 1 s per text step
        // no edit measured yet (an api node learns only the text pace): twice the engine's pace, its post-processing
        assertThat(eta.runningEtaSeconds(edit, 1024, 1024, 10, 0)).isEqualTo(21);

        eta.record(edit, 1024, 1024, 10, Duration.ofSeconds(15), Duration.ofSeconds(1)); // 1.5 s per edit step
        assertThat(eta.runningEtaSeconds(edit, 1024, 1024, 10, 0)).isEqualTo(16);
        assertThat(eta.runningEtaSeconds("gpu", 1024, 1024, 10, 0)).as("text-to-image keeps its own pace").isEqualTo(11);
        assertThat(eta.queuedEtaSeconds(1024, 1024, EtaEstimator.paced(List.of(new EngineCapacity("gpu", 10, 1)),
                dev.qwenimage.engine.TaskKind.EDIT), 1, QueueStats.EMPTY)).isEqualTo(32);
    }
}
