package dev.qwenimage.task;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Estimates how long tasks take from what was measured: an exponentially weighted moving average
 * of seconds per step for each engine and resolution (bucketed by megapixels), plus the time spent
 * after the engine (post-processing, storage). Before the first measurement of an engine, and to
 * carry a measurement over to a size not measured yet, the engine's own cost model is used.
 */
public final class EtaEstimator {
    private static final double ALPHA = 0.3;
    /** Resolutions are grouped in buckets of 1/8 megapixel. */
    private static final double BUCKET_PIXELS = 1024 * 1024 / 8.0;

    private record Key(String engine, long bucket) {
    }

    /** A measured pace (moving average) and the pixel count it was measured at. */
    private record Sample(double secondsPerStep, double pixels) {
    }

    /** What a step costs at a size, as an engine expects before measuring (its cost model). */
    @FunctionalInterface
    public interface StepCost {
        double secondsPerStep(int width, int height);
    }

    /** What an edit is assumed to cost per step against a text-to-image step on the same engine, until edits are measured. */
    public static final double EDIT_STEP_FACTOR = 2.0;
    private static final String EDIT_SUFFIX = " (edit)";

    /**
     * The name {@code engine}'s pace for tasks of {@code kind} is kept under: an edit's steps cost
     * more than text-to-image's on the same engine (Qwen-Image-Edit attends over the input's
     * latents as well as its own, about twice the tokens), so the two are measured apart.
     */
    public static String paceKey(String engine, dev.qwenimage.engine.TaskKind kind) {
        return kind == dev.qwenimage.engine.TaskKind.EDIT ? engine + EDIT_SUFFIX : engine;
    }

    /** {@code lanes} as the ETA of a task of {@code kind} reads them: under their pace keys. */
    public static java.util.List<EngineCapacity> paced(java.util.List<EngineCapacity> lanes, dev.qwenimage.engine.TaskKind kind) {
        if (kind == dev.qwenimage.engine.TaskKind.TEXT_TO_IMAGE) {
            return lanes;
        }
        return lanes.stream().map(l -> new EngineCapacity(paceKey(l.engine(), kind), l.defaultSteps(), l.slots(), l.kinds())).toList();
    }

    private final Map<Key, Sample> measured = new ConcurrentHashMap<>();
    private final Map<String, Double> postSeconds = new ConcurrentHashMap<>();
    private final Map<String, StepCost> priors = new ConcurrentHashMap<>();

    /** Sets the seconds per step at 1024x1024 assumed for {@code engine} before anything is measured, in proportion to pixels elsewhere. */
    public void prior(String engine, Duration stepAt1024) {
        double s = stepAt1024.toNanos() / 1e9;
        prior(engine, (w, h) -> s * w * (double) h / (1024.0 * 1024.0));
    }

    /**
     * Sets {@code engine}'s own cost model: what a step costs at each size before anything is
     * measured, and how a measured pace carries over to a size not measured yet (the preview
     * engine's steps cost about the same at any size; a GPU's grow with the pixels).
     */
    public void prior(String engine, StepCost cost) {
        priors.put(engine, cost);
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
            measured.put(new Key(engine, bucket(1024, 1024)), new Sample(secondsPerStepAt1024, 1024.0 * 1024.0));
        }
        postSeconds.put(engine, Math.max(0, post));
    }

    /** Records one finished generation. */
    public void record(String engine, int width, int height, int steps, Duration engineTime, Duration postTime) {
        if (steps <= 0) {
            return;
        }
        double sps = engineTime.toNanos() / 1e9 / steps;
        double pixels = width * (double) height;
        measured.merge(new Key(engine, bucket(width, height)), new Sample(sps, pixels),
                (old, now) -> new Sample(old.secondsPerStep() + ALPHA * (now.secondsPerStep() - old.secondsPerStep()), now.pixels()));
        postSeconds.merge(engine, postTime.toNanos() / 1e9, (old, now) -> old + ALPHA * (now - old));
    }

    /**
     * Measured (or estimated) seconds per step for {@code engine} at {@code width x height}. A size
     * not measured yet is estimated from the measured ones: along the line through the two nearest
     * (in pixels) when it lies between them, else from the nearest by the engine's cost model, and
     * from the cost model alone before anything is measured.
     */
    public double secondsPerStep(String engine, int width, int height) {
        if (engine.endsWith(EDIT_SUFFIX) && !priors.containsKey(engine) && measured.keySet().stream().noneMatch(k -> k.engine().equals(engine))) {
            // edits not measured here (an api node learns only text-to-image's pace from the lane
            // reports): the engine's own pace, at an edit's assumed extra cost
            return EDIT_STEP_FACTOR * secondsPerStep(engine.substring(0, engine.length() - EDIT_SUFFIX.length()), width, height);
        }
        long b = bucket(width, height);
        Sample exact = measured.get(new Key(engine, b));
        if (exact != null) {
            return exact.secondsPerStep();
        }
        double pixels = width * (double) height;
        Sample nearest = null;
        Sample second = null;
        for (var e : measured.entrySet()) {
            if (!e.getKey().engine().equals(engine)) {
                continue;
            }
            Sample s = e.getValue();
            if (nearest == null || Math.abs(s.pixels() - pixels) < Math.abs(nearest.pixels() - pixels)) {
                second = nearest;
                nearest = s;
            } else if (second == null || Math.abs(s.pixels() - pixels) < Math.abs(second.pixels() - pixels)) {
                second = s;
            }
        }
        StepCost prior = priors.getOrDefault(engine, (w, h) -> w * (double) h / (1024.0 * 1024.0));
        if (nearest != null && second != null && (pixels - nearest.pixels()) * (pixels - second.pixels()) < 0) {
            // between two measured sizes: along the line through them (outside them a line through
            // two noisy averages can point anywhere, so the cost model carries the nearest over)
            double slope = (second.secondsPerStep() - nearest.secondsPerStep()) / (second.pixels() - nearest.pixels());
            return nearest.secondsPerStep() + slope * (pixels - nearest.pixels());
        }
        if (nearest != null) {
            int side = (int) Math.max(1, Math.round(Math.sqrt(nearest.pixels())));
            double atNearest = prior.secondsPerStep(side, side);
            double atTarget = prior.secondsPerStep(width, height);
            return atNearest > 0 ? nearest.secondsPerStep() * atTarget / atNearest : nearest.secondsPerStep() * pixels / nearest.pixels();
        }
        return prior.secondsPerStep(width, height);
    }

    /** Estimated seconds for a whole task on {@code engine}. */
    public double taskSeconds(String engine, int width, int height, int steps) {
        return steps * secondsPerStep(engine, width, height) + post(engine);
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
        return ceilSeconds(remainingSteps * secondsPerStep(engine, width, height) + post(engine));
    }

    /** Post-processing seconds under a pace key: an edit's are its engine's when not measured apart. */
    private double post(String engine) {
        Double p = postSeconds.get(engine);
        if (p == null && engine.endsWith(EDIT_SUFFIX)) {
            p = postSeconds.get(engine.substring(0, engine.length() - EDIT_SUFFIX.length()));
        }
        return p == null ? 0.0 : p;
    }

    /** Whole seconds, rounded up, ignoring floating-point noise (3.0000000001 is 3). */
    private static long ceilSeconds(double seconds) {
        return Math.max(0, (long) Math.ceil(seconds - 1e-6));
    }

    private static long bucket(int width, int height) {
        return Math.max(1, Math.round(width * (double) height / BUCKET_PIXELS));
    }
}
