package dev.qwenimage.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.ScriptedEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The circuit breaker: an engine takes work only once a probe finds it up, and is taken out after failures in a row. */
class EngineGuardTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final AtomicReference<EngineHealth> health = new AtomicReference<>(EngineHealth.up());
    private final AtomicInteger probes = new AtomicInteger();
    private final ScriptedEngine engine = new ScriptedEngine("gpu").probeAnswers(() -> {
        probes.incrementAndGet();
        return health.get();
    });
    private final EngineGuard guard = new EngineGuard(engine, clock, 3, Duration.ofSeconds(15), Duration.ofSeconds(1),
            Duration.ofSeconds(8));

    @Test
    void takesNoWorkUntilTheFirstProbeFindsItUp() {
        assertThat(guard.status().state()).isEqualTo(EngineGuard.State.STARTING);
        assertThat(guard.isUp()).isFalse();
        guard.checkIfDue();
        assertThat(guard.isUp()).isTrue();
    }

    @Test
    void anEngineDownAtStartUpIsRetriedWithAGrowingIntervalNotGivenUp() {
        health.set(new EngineHealth.Down("connection refused"));
        guard.checkIfDue();
        assertThat(guard.status()).extracting(EngineGuard.Status::state, EngineGuard.Status::lastError)
                .containsExactly(EngineGuard.State.STARTING, "connection refused");
        // next probes after 1 s, then 2 s, then 4 s, then capped at 8 s
        for (long wait : new long[] {1, 2, 4, 8, 8}) {
            int before = probes.get();
            clock.advance(Duration.ofSeconds(wait).minusMillis(1));
            guard.checkIfDue();
            assertThat(probes.get()).as("no probe before %d s", wait).isEqualTo(before);
            clock.advance(Duration.ofMillis(1));
            guard.checkIfDue();
            assertThat(probes.get()).as("a probe after %d s", wait).isEqualTo(before + 1);
        }
        health.set(EngineHealth.up());
        clock.advance(Duration.ofSeconds(8));
        guard.checkIfDue();
        assertThat(guard.isUp()).isTrue();
        assertThat(guard.status().lastError()).isEmpty();
    }

    @Test
    void consecutiveFailuresTakeItOutAndAGoodProbeBringsItBack() {
        guard.checkIfDue();
        guard.failed("HTTP 502");
        guard.failed("HTTP 502");
        assertThat(guard.isUp()).as("two failures are below the threshold").isTrue();
        guard.succeeded();
        guard.failed("HTTP 502");
        guard.failed("HTTP 502");
        assertThat(guard.isUp()).as("a success ends the streak").isTrue();
        guard.failed("connection reset");
        assertThat(guard.status()).extracting(EngineGuard.Status::state, EngineGuard.Status::consecutiveFailures,
                EngineGuard.Status::lastError).containsExactly(EngineGuard.State.DOWN, 3, "connection reset");

        health.set(EngineHealth.up());
        clock.advance(Duration.ofSeconds(1));
        guard.checkIfDue();
        assertThat(guard.isUp()).isTrue();
        assertThat(guard.status().consecutiveFailures()).isZero();
    }

    @Test
    void periodicChecksOfAWorkingEngineCountTowardsTheThreshold() {
        guard.checkIfDue();
        health.set(new EngineHealth.Down("HTTP 503"));
        clock.advance(Duration.ofSeconds(15));
        guard.checkIfDue();
        assertThat(guard.isUp()).isTrue();
        clock.advance(Duration.ofSeconds(1));
        guard.checkIfDue();
        clock.advance(Duration.ofSeconds(1));
        guard.checkIfDue();
        assertThat(guard.status().state()).isEqualTo(EngineGuard.State.DOWN);
    }

    @Test
    void slotsWaitingForTheEngineAreWokenWhenItComesUp() throws Exception {
        health.set(new EngineHealth.Down("starting"));
        guard.checkIfDue();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                guard.awaitUp(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        health.set(EngineHealth.up());
        clock.advance(Duration.ofSeconds(1));
        guard.checkIfDue();
        assertThat(waiter.join(Duration.ofSeconds(5))).isTrue();
    }
}
