package dev.qwenimage.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Progress for engines that report none: elapsed time against a duration learned from recent runs. */
class ProgressEstimateTest {

    private static int percent(ProgressEstimate e, int w, int h, int steps, Duration elapsed) {
        int[] last = new int[2];
        e.report((done, total) -> {
            last[0] = done;
            last[1] = total;
        }, w, h, steps, elapsed);
        return last[0] * 100 / last[1];
    }

    @Test
    void beforeAnyRunTheEngineTypicalStepTimeScaledBySizeIsExpected() {
        ProgressEstimate e = new ProgressEstimate(Duration.ofSeconds(2));

        assertThat(e.measured()).isFalse();
        assertThat(e.expected(1024, 1024, 20)).isEqualTo(Duration.ofSeconds(40));
        assertThat(e.expected(512, 512, 20)).isEqualTo(Duration.ofSeconds(10));
        assertThat(percent(e, 1024, 1024, 20, Duration.ofSeconds(10))).isEqualTo(25);
    }

    @Test
    void measuredRunsReplaceThePriorAndRecentRunsWeighMost() {
        ProgressEstimate e = new ProgressEstimate(Duration.ofSeconds(2));

        e.record(1024, 1024, 20, Duration.ofSeconds(20));
        assertThat(e.measured()).isTrue();
        assertThat(e.expected(1024, 1024, 20)).isEqualTo(Duration.ofSeconds(20));

        for (int i = 0; i < 20; i++) {
            e.record(1024, 1024, 10, Duration.ofSeconds(5)); // the engine got faster: 0.5 s a step
        }
        assertThat(e.expected(1024, 1024, 20).toMillis()).isBetween(10_000L, 10_050L);
    }

    @Test
    void progressNeverPassesTheCapBeforeTheEngineAnswers() {
        ProgressEstimate e = new ProgressEstimate(Duration.ofMillis(100));

        assertThat(percent(e, 1024, 1024, 4, Duration.ZERO)).isZero();
        assertThat(percent(e, 1024, 1024, 4, Duration.ofMillis(200))).isEqualTo(50);
        assertThat(percent(e, 1024, 1024, 4, Duration.ofMinutes(5))).isEqualTo(95);
    }

    @Test
    void aTickerReportsRisingProgressUntilClosed() throws Exception {
        ProgressEstimate e = new ProgressEstimate(Duration.ofMillis(50));
        List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());

        try (ProgressEstimate.Ticker t = e.tick((done, total) -> seen.add(done * 100 / total), 1024, 1024, 10,
                System.nanoTime(), Duration.ofMillis(40))) {
            Thread.sleep(700);
        }
        int reported = seen.size();
        Thread.sleep(150);

        assertThat(seen).hasSize(reported);
        assertThat(seen).isSorted().last().isEqualTo(95);
        assertThat(seen).anyMatch(p -> p > 0 && p < 95);
    }
}
