package dev.qwenimage.engine.preview;

import dev.qwenimage.config.Durations;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import java.util.Set;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The zero-setup default engine. It runs <b>no model</b>: on the CPU it draws a poster whose text
 * is the prompt over a background made from the prompt's words ({@link Poster}), deterministic from
 * (prompt, size, seed). It exists so that a newcomer gets a real JPEG through the real pipeline
 * (queue, worker, progress, post-processing, storage, signed link) within seconds, and so that tests
 * and benchmarks have an engine with no GPU. The work is split into {@code steps} like a diffusion
 * run: each step paints a band of the background and reports progress; the last adds the text.
 */
public final class PreviewEngine implements Engine {
    public static final String NAME = "preview";

    private final String name;
    private final int steps;
    private final Duration stepDelay;

    /**
     * @param steps     steps per image when the request names none
     * @param stepDelay extra time spent per step, to imitate a GPU engine's pace in demos and tests
     */
    public PreviewEngine(int steps, Duration stepDelay) {
        this(NAME, steps, stepDelay);
    }

    public PreviewEngine(String name, int steps, Duration stepDelay) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1");
        }
        this.name = name;
        this.steps = steps;
        this.stepDelay = stepDelay;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "preview (built-in CPU renderer: draws the prompt on a poster; runs NO model), " + steps + " steps"
                + (stepDelay.isZero() ? "" : ", +" + Durations.human(stepDelay) + " per step");
    }

    /** The preview draws posters and previews edits (see {@link Poster#paintEditRows}). */
    @Override
    public Set<TaskKind> kinds() {
        return TaskKind.ALL;
    }

    @Override
    public int defaultSteps() {
        return steps;
    }

    @Override
    public Duration typicalStepTime() {
        // about 150 ms of rendering for a 1024x1024 poster, spread over the steps
        return stepDelay.plusMillis(Math.max(1, 150 / steps));
    }

    /** The step delay is the same at every size; only the drawing grows with the pixels. */
    @Override
    public Duration typicalStepTime(int width, int height) {
        double render = Math.max(1, 150 / steps) * (width * (double) height) / (1024.0 * 1024.0);
        return stepDelay.plusNanos(Math.round(render * 1_000_000));
    }

    /** Previewing an edit costs a step what drawing a poster does. */
    @Override
    public Duration typicalEditStepTime(int width, int height) {
        return typicalStepTime(width, height);
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        Poster poster = request.isEdit() ? Poster.planEdit(request) : Poster.plan(request);
        BufferedImage image = poster.canvas();
        BufferedImage input = request.input().map(i -> i.decode())
                .map(i -> i.getWidth() == request.width() && i.getHeight() == request.height() ? i
                        : dev.qwenimage.image.ImagePipeline.resize(i, request.width(), request.height()))
                .orElse(null);
        int total = request.steps();
        int height = request.height();
        CountDownLatch cancelled = new CountDownLatch(1);
        if (!stepDelay.isZero()) {
            cancellation.onCancel(cancelled::countDown);
        }
        for (int step = 1; step <= total; step++) {
            if (cancellation.isCancelled()) {
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            int y0 = (int) ((long) height * (step - 1) / total);
            int y1 = (int) ((long) height * step / total);
            if (input != null) {
                poster.paintEditRows(image, input, y0, y1);
            } else {
                poster.paintRows(image, y0, y1);
            }
            if (step == total) {
                poster.paintText(image);
            }
            if (!stepDelay.isZero()) {
                try {
                    if (cancelled.await(stepDelay.toNanos(), TimeUnit.NANOSECONDS)) {
                        return new GenerationResult.Cancelled(cancellation.reason());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new GenerationResult.Cancelled("interrupted");
                }
            }
            progress.step(step, total);
        }
        return new GenerationResult.Success(image);
    }
}
