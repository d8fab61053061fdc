package dev.qwenimage.worker;

import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker in front of one engine. An engine starts {@link State#STARTING} and takes no
 * work until a probe finds it up. While {@link State#UP}, every transient failure and failed
 * periodic probe counts; after {@code threshold} in a row it is taken out ({@link State#DOWN}) and
 * probed back with a growing interval, and its worker slots wait on this guard instead of claiming
 * tasks they would only fail. A success or a good probe closes the circuit again.
 */
public final class EngineGuard {
    private static final Logger log = LoggerFactory.getLogger(EngineGuard.class);

    /** Where the engine stands. */
    public enum State { STARTING, UP, DOWN }

    /** What /healthz and the banner show of an engine. */
    public record Status(String engine, State state, int consecutiveFailures, String lastError, Instant since) {
    }

    private final Engine engine;
    private final Clock clock;
    private final int threshold;
    private final Duration checkEvery;
    private final Duration probeMin;
    private final Duration probeMax;
    private final ReentrantLock lock = new ReentrantLock();
    private final java.util.concurrent.atomic.AtomicBoolean checking = new java.util.concurrent.atomic.AtomicBoolean();
    private final Condition usable = lock.newCondition();

    private State state = State.STARTING;
    private int failures;
    private String lastError = "";
    private Instant since;
    private Instant nextCheck;
    private Duration probeInterval;

    public EngineGuard(Engine engine, Clock clock, int threshold, Duration checkEvery, Duration probeMin, Duration probeMax) {
        this.engine = engine;
        this.clock = clock;
        this.threshold = threshold;
        this.checkEvery = checkEvery;
        this.probeMin = probeMin;
        this.probeMax = probeMax;
        this.since = clock.instant();
        this.nextCheck = since;
        this.probeInterval = probeMin;
    }

    public Engine engine() {
        return engine;
    }

    public boolean isUp() {
        lock.lock();
        try {
            return state == State.UP;
        } finally {
            lock.unlock();
        }
    }

    public Status status() {
        lock.lock();
        try {
            return new Status(engine.name(), state, failures, lastError, since);
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until the engine is up, {@code timeout} passes or {@link #wakeWaiters} is called; true if it is up. */
    public boolean awaitUp(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            if (state != State.UP) {
                usable.awaitNanos(timeout.toNanos());
            }
            return state == State.UP;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every slot blocked in {@link #awaitUp} (at shutdown), whatever the state. */
    public void wakeWaiters() {
        lock.lock();
        try {
            usable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A generation succeeded: the failure streak ends. */
    public void succeeded() {
        lock.lock();
        try {
            failures = 0;
            if (state != State.UP) {
                moveTo(State.UP, "");
            }
        } finally {
            lock.unlock();
        }
    }

    /** A transient failure (unreachable, timed out, 5xx, dropped connection): counts towards the threshold. */
    public void failed(String reason) {
        lock.lock();
        try {
            failures++;
            lastError = reason;
            if (state == State.UP && failures >= threshold) {
                log.warn("engine {} taken out after {} failures in a row (last: {}); probing it back", engine.name(), failures, reason);
                moveTo(State.DOWN, reason);
                probeInterval = probeMin;
                nextCheck = clock.instant().plus(probeInterval);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Probes the engine if a check is due: at start-up, every {@code checkEvery} while up, and with
     * a doubling interval (capped) while down or starting. Called periodically by the housekeeping
     * scheduler; the probe itself runs outside the lock, and a call while a probe is still running
     * (a slow or hung engine) returns at once.
     */
    public void checkIfDue() {
        if (!checking.compareAndSet(false, true)) {
            return;
        }
        try {
            lock.lock();
            try {
                if (clock.instant().isBefore(nextCheck)) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            check();
        } finally {
            checking.set(false);
        }
    }

    private void check() {
        EngineHealth health;
        try {
            health = engine.probe();
        } catch (RuntimeException e) {
            health = new EngineHealth.Down("probe failed: " + e.getMessage());
        }
        lock.lock();
        try {
            Instant now = clock.instant();
            switch (health) {
                case EngineHealth.Up up -> {
                    if (state != State.UP) {
                        log.info("engine {} is up{}", engine.name(), up.detail().isEmpty() ? "" : " (" + up.detail() + ")");
                        failures = 0;
                        moveTo(State.UP, "");
                    }
                    nextCheck = now.plus(checkEvery);
                }
                case EngineHealth.Down down -> {
                    lastError = down.reason();
                    if (state == State.UP) {
                        failures++;
                        if (failures >= threshold) {
                            log.warn("engine {} taken out: {} failed checks in a row (last: {})", engine.name(), failures, down.reason());
                            moveTo(State.DOWN, down.reason());
                            probeInterval = probeMin;
                        }
                        nextCheck = now.plus(state == State.UP ? probeMin : probeInterval);
                    } else {
                        if (state == State.STARTING && probeInterval.equals(probeMin)) {
                            log.warn("engine {} is not reachable yet ({}); retrying in the background", engine.name(), down.reason());
                        }
                        nextCheck = now.plus(probeInterval);
                        probeInterval = min(probeInterval.multipliedBy(2), probeMax);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void moveTo(State next, String reason) {
        state = next;
        since = clock.instant();
        if (next == State.UP) {
            lastError = "";
            probeInterval = probeMin;
            usable.signalAll();
        } else {
            lastError = reason;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
