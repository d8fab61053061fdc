package dev.qwenimage.task;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Estimates how long tasks take from what was measured: an exponentially weighted moving average
 * of seconds per step for each engine and resolution (bucketed by megapixels), plus the time spent
 * after the engine (post-processing, storage). Before the first measurement of an engine the
 * engine's own prior is used.
 */
public final class EtaEstimator {
    private static final double ALPHA = 0.3;
    /** Resolutions are grouped in buckets of 1/8 megapixel. */
    private static final double BUCKET_PIXELS = 1024 * 1024 / 8.0;

    private record Key(String engine, long bucket) {
    }

    private final Map<Key, Double> secondsPerStep = new ConcurrentHashMap<>();
    private final Map<String, Double> postSeconds = new ConcurrentHashMap<>();
    private final Map<String, Double> priorSecondsPerStep = new ConcurrentHashMap<>();

    /** Sets the seconds per step at 1024x1024 assumed for {@code engine} before anything is measured. */
    public void prior(String engine, Duration stepAt1024) {
        priorSecondsPerStep.put(engine, stepAt1024.toNanos() / 1e9);
    }

    /** Records one finished generation. */
    public void record(String engine, int width, int height, int steps, Duration engineTime, Duration postTime) {
        if (steps <= 0) {
            return;
        }
        double sps = engineTime.toNanos() / 1e9 / steps;
        secondsPerStep.merge(new Key(engine, bucket(width, height)), sps, (old, now) -> old + ALPHA * (now - old));
        postSeconds.merge(engine, postTime.toNanos() / 1e9, (old, now) -> old + ALPHA * (now - old));
    }

    /** Measured (or estimated) seconds per step for {@code engine} at {@code width x height}. */
    public double secondsPerStep(String engine, int width, int height) {
        long b = bucket(width, height);
        Double exact = secondsPerStep.get(new Key(engine, b));
        if (exact != null) {
            return exact;
        }
        // nearest measured resolution of this engine, scaled by pixel count (diffusion cost is ~linear in pixels)
        Key nearest = null;
        for (Key k : secondsPerStep.keySet()) {
            if (k.engine().equals(engine) && (nearest == null || Math.abs(k.bucket() - b) < Math.abs(nearest.bucket() - b))) {
                nearest = k;
            }
        }
        if (nearest != null) {
            return secondsPerStep.get(nearest) * (double) b / Math.max(1, nearest.bucket());
        }
        double prior = priorSecondsPerStep.getOrDefault(engine, 1.0);
        return prior * (width * (double) height) / (1024.0 * 1024.0);
    }

    /** Estimated seconds for a whole task on {@code engine}. */
    public double taskSeconds(String engine, int width, int height, int steps) {
        return steps * secondsPerStep(engine, width, height) + postSeconds.getOrDefault(engine, 0.0);
    }

    /**
     * Seconds until a task is expected to finish.
     *
     * @param steps        the task's steps
     * @param progress     its progress so far in percent (0 while queued)
     * @param queuedAhead  QUEUED tasks ahead of it (0 once it runs)
     * @param stats        the queue as a whole
     * @param slots        worker slots serving the queue
     * @param running      whether the task is already running
     */
    public long etaSeconds(String engine, int width, int height, int steps, int progress, long queuedAhead,
                           QueueStats stats, int slots, boolean running) {
        double own = taskSeconds(engine, width, height, steps);
        if (running) {
            double remainingSteps = steps * (1 - progress / 100.0);
            return ceilSeconds(remainingSteps * secondsPerStep(engine, width, height) + postSeconds.getOrDefault(engine, 0.0));
        }
        // every task ahead is assumed to cost about as much as this one
        double workAhead = queuedAhead * own + stats.processing() * own * (1 - stats.meanProgressPercent() / 100.0);
        return ceilSeconds(workAhead / Math.max(1, slots) + own);
    }

    /** Whole seconds, rounded up, ignoring floating-point noise (3.0000000001 is 3). */
    private static long ceilSeconds(double seconds) {
        return Math.max(0, (long) Math.ceil(seconds - 1e-6));
    }

    private static long bucket(int width, int height) {
        return Math.max(1, Math.round(width * (double) height / BUCKET_PIXELS));
    }
}
