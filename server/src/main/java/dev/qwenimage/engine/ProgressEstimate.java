package dev.qwenimage.engine;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Progress for an engine that reports no steps (an OpenAI-style synchronous call, sd-server's job
 * API): the time a run has taken so far against the time such a run is expected to take. The
 * expectation is learned from the engine's recent successful runs as an exponentially weighted
 * mean of the time per step at 1024x1024 (so that runs of other sizes and step counts still
 * inform it); before the first measurement it is the engine's {@link Engine#typicalStepTime()}.
 * The estimate never passes {@value #CAP_PERCENT}% before the engine answers.
 *
 * <p>Progress is reported as steps-equivalent in tenths of a step ({@code total = steps * 10}), so
 * that a 4-step run still moves in small increments.
 */
public final class ProgressEstimate {
    static final int CAP_PERCENT = 95;
    /** Weight of the newest run in the mean: about the last five runs count. */
    private static final double ALPHA = 0.3;
    private static final double REFERENCE_PIXELS = 1024.0 * 1024.0;
    private static final ScheduledThreadPoolExecutor TICKS = ticks();

    private final Duration prior;
    private double nanosPerStep = Double.NaN;

    /** @param typicalStepTime time of one step at 1024x1024, assumed until a run is measured */
    public ProgressEstimate(Duration typicalStepTime) {
        this.prior = typicalStepTime;
    }

    /** How long a run of this size and step count is expected to take. */
    public synchronized Duration expected(int width, int height, int steps) {
        double perStep = Double.isNaN(nanosPerStep) ? prior.toNanos() : nanosPerStep;
        return Duration.ofNanos(Math.max(1, (long) (perStep * steps * scale(width, height))));
    }

    /** Folds a successful run's duration into the mean. */
    public synchronized void record(int width, int height, int steps, Duration took) {
        if (took.isNegative() || took.isZero() || steps < 1) {
            return;
        }
        double perStep = took.toNanos() / (steps * scale(width, height));
        nanosPerStep = Double.isNaN(nanosPerStep) ? perStep : ALPHA * perStep + (1 - ALPHA) * nanosPerStep;
    }

    /** Whether a run has been measured yet (else the estimate is the prior). */
    public synchronized boolean measured() {
        return !Double.isNaN(nanosPerStep);
    }

    /** Reports the progress of a run that has been going for {@code elapsed}. */
    public void report(ProgressSink sink, int width, int height, int steps, Duration elapsed) {
        double fraction = (double) elapsed.toNanos() / expected(width, height, steps).toNanos();
        int total = steps * 10;
        int done = (int) Math.min(total * (double) CAP_PERCENT / 100, Math.max(0, fraction * total));
        sink.step(done, total);
    }

    /**
     * Reports the progress of a run started at {@code startNanos} ({@link System#nanoTime()})
     * every {@code every} until the returned handle is closed; for engines whose call blocks.
     */
    public Ticker tick(ProgressSink sink, int width, int height, int steps, long startNanos, Duration every) {
        ScheduledFuture<?> f = TICKS.scheduleAtFixedRate(() -> {
            try {
                report(sink, width, height, steps, Duration.ofNanos(System.nanoTime() - startNanos));
            } catch (RuntimeException e) {
                // a failing sink must not stop the other runs' ticks; the next tick tries again
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    /** Stops a {@link #tick} when closed. */
    @FunctionalInterface
    public interface Ticker extends AutoCloseable {
        @Override
        void close();
    }

    private static double scale(int width, int height) {
        return (double) width * height / REFERENCE_PIXELS;
    }

    private static ScheduledThreadPoolExecutor ticks() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("progress-estimates").daemon(true).factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }
}
