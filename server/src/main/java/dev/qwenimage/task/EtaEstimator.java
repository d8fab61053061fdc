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

    /** Seconds spent after the engine (post-processing, storage) for {@code engine}, as measured; 0 before any. */
    public double postSeconds(String engine) {
        return postSeconds.getOrDefault(engine, 0.0);
    }

    /**
     * Takes another node's measurement of {@code engine} (seconds per step at 1024x1024, seconds of
     * post-processing) as this node's, when this node measures nothing itself (an api node).
     */
    public void adopt(String engine, double secondsPerStepAt1024, double post) {
        if (secondsPerStepAt1024 > 0) {
            secondsPerStep.put(new Key(engine, bucket(1024, 1024)), secondsPerStepAt1024);
        }
        postSeconds.put(engine, Math.max(0, post));
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
     * Seconds until a QUEUED task is expected to finish: the work ahead of it shared over the
     * engines' slots, plus its own run.
     *
     * @param lanes       the engines that can take it (those up now; all configured ones when none is)
     * @param queuedAhead QUEUED tasks ahead of it
     * @param stats       the queue as a whole (running tasks and their progress)
     */
    public long queuedEtaSeconds(int width, int height, java.util.List<EngineCapacity> lanes, long queuedAhead,
                                 QueueStats stats) {
        double tasksPerSecond = 0;
        double slotSeconds = 0;
        int slots = 0;
        for (EngineCapacity lane : lanes) {
            double t = Math.max(1e-3, taskSeconds(lane.engine(), width, height, lane.defaultSteps()));
            tasksPerSecond += lane.slots() / t;
            slotSeconds += lane.slots() * t;
            slots += lane.slots();
        }
        if (slots == 0) {
            return 0;
        }
        double own = slotSeconds / slots; // the time a typical slot takes for this task
        // every task ahead is assumed to cost about as much as this one
        double tasksAhead = queuedAhead + stats.processing() * (1 - stats.meanProgressPercent() / 100.0);
        return ceilSeconds(tasksAhead / tasksPerSecond + own);
    }

    /** Seconds until a running task is expected to finish: its remaining steps, then post-processing. */
    public long runningEtaSeconds(String engine, int width, int height, int steps, int progressPercent) {
        double remainingSteps = steps * (1 - progressPercent / 100.0);
        return ceilSeconds(remainingSteps * secondsPerStep(engine, width, height) + postSeconds.getOrDefault(engine, 0.0));
    }

    /** Whole seconds, rounded up, ignoring floating-point noise (3.0000000001 is 3). */
    private static long ceilSeconds(double seconds) {
        return Math.max(0, (long) Math.ceil(seconds - 1e-6));
    }

    private static long bucket(int width, int height) {
        return Math.max(1, Math.round(width * (double) height / BUCKET_PIXELS));
    }
}
