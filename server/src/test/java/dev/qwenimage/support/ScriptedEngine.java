package dev.qwenimage.support;

import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A stand-in for an external GPU engine whose behaviour a test scripts call by call: succeed,
 * fail transiently or permanently, throw, or run slowly in steps and honour cancellation.
 */
public final class ScriptedEngine implements Engine {
    private final Queue<Function<Call, GenerationResult>> script = new ConcurrentLinkedQueue<>();
    private final List<GenerationRequest> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger calls = new AtomicInteger();
    private volatile Function<Call, GenerationResult> fallback = Call::succeed;
    private volatile java.util.function.Supplier<EngineHealth> health = EngineHealth::up;
    private final String name;

    public ScriptedEngine() {
        this("scripted");
    }

    public ScriptedEngine(String name) {
        this.name = name;
    }

    /** What {@link #probe} answers from now on. */
    public ScriptedEngine probeAnswers(java.util.function.Supplier<EngineHealth> answer) {
        this.health = answer;
        return this;
    }

    /** One engine call as the script sees it. */
    public record Call(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        public GenerationResult succeed() {
            progress.step(request.steps(), request.steps());
            BufferedImage img = new BufferedImage(request.width(), request.height(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(new Color((int) (request.seed() & 0xffffff)));
            g.fillRect(0, 0, request.width(), request.height());
            g.dispose();
            return new GenerationResult.Success(img);
        }

        /** Runs the request's steps, {@code stepMillis} each, stopping at a step boundary when cancelled. */
        public GenerationResult runSlowly(long stepMillis) {
            for (int i = 1; i <= request.steps(); i++) {
                if (cancellation.isCancelled()) {
                    return new GenerationResult.Cancelled(cancellation.reason());
                }
                Api.sleep(stepMillis);
                progress.step(i, request.steps());
            }
            return succeed();
        }
    }

    public ScriptedEngine then(Function<Call, GenerationResult> step) {
        script.add(step);
        return this;
    }

    public ScriptedEngine otherwise(Function<Call, GenerationResult> step) {
        this.fallback = step;
        return this;
    }

    public int calls() {
        return calls.get();
    }

    public List<GenerationRequest> requests() {
        return requests;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public EngineHealth probe() {
        return health.get();
    }

    @Override
    public String describe() {
        return "scripted: a test engine";
    }

    @Override
    public int defaultSteps() {
        return 8;
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        calls.incrementAndGet();
        requests.add(request);
        Function<Call, GenerationResult> next = script.poll();
        return (next != null ? next : fallback).apply(new Call(request, progress, cancellation));
    }
}
