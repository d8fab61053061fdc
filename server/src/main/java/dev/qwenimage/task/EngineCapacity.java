package dev.qwenimage.task;

/** One engine as the ETA sees it: its name, the steps it runs when a task names none, and its slots. */
public record EngineCapacity(String engine, int defaultSteps, int slots) {
}
