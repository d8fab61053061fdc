package dev.qwenimage.task;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes idle worker slots when work may be claimable, so they block instead of polling. A
 * generation counter makes it race-free: a slot reads {@link #generation()} before it tries to
 * claim, and {@link #awaitChange} returns at once if a signal came in between. Raising is a single
 * atomic increment unless a slot is waiting, so submits do not contend on a lock.
 */
public final class QueueSignal {
    private final AtomicLong generation = new AtomicLong();
    private final AtomicInteger waiters = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    public long generation() {
        return generation.get();
    }

    public void raise() {
        generation.incrementAndGet();
        // A waiter registers before it re-reads the generation, so either it sees this increment
        // or this sees it registered and wakes it.
        if (waiters.get() > 0) {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits until the generation differs from {@code seen}, or {@code timeout} passes. */
    public void awaitChange(long seen, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        waiters.incrementAndGet();
        try {
            while (generation.get() == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
        } finally {
            waiters.decrementAndGet();
            lock.unlock();
        }
    }
}
