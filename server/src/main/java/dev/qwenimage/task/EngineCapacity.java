package dev.qwenimage.task;

/** One engine as the ETA sees it: its name, the steps it runs when a task names none, and its slots. */
public record EngineCapacity(String engine, int defaultSteps, int slots, java.util.Set<dev.qwenimage.engine.TaskKind> kinds) {

    public EngineCapacity {
        kinds = java.util.Set.copyOf(kinds);
    }

    /** An engine that draws from text only. */
    public EngineCapacity(String engine, int defaultSteps, int slots) {
        this(engine, defaultSteps, slots, dev.qwenimage.engine.TaskKind.TEXT_ONLY);
    }

    /** The same engine at {@code steps} per image. */
    public EngineCapacity withSteps(int steps) {
        return new EngineCapacity(engine, steps, slots, kinds);
    }
}
