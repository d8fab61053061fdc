package dev.qwenimage.task;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes idle worker slots when work may be claimable, so they block instead of polling. A
 * generation counter makes it race-free: a slot reads {@link #generation()} before it tries to
 * claim, and {@link #awaitChange} returns at once if a signal came in between.
 */
public final class QueueSignal {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;

    public long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    public void raise() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the generation differs from {@code seen}, or {@code timeout} passes. */
    public void awaitChange(long seen, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (generation == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Same as {@link #awaitChange} with a timeout in milliseconds. */
    public void awaitChange(long seen, long timeoutMillis) throws InterruptedException {
        awaitChange(seen, Duration.of(timeoutMillis, TimeUnit.MILLISECONDS.toChronoUnit()));
    }
}
