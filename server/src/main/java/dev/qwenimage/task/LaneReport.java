package dev.qwenimage.task;

import dev.qwenimage.engine.TaskKind;
import java.time.Instant;
import java.util.Set;

/**
 * One engine lane of one worker node as it publishes itself to the fleet: what api nodes show in
 * /healthz and base ETAs on (slots, state, measured pace at 1024x1024, post-processing time).
 * {@code busy} counts slots whose engine is working on a task (never more than {@code slots});
 * {@code finishing} counts tasks the engine is done with that are being post-processed and stored;
 * {@code kinds} what its engine can run.
 */
public record LaneReport(String workerId, String engine, String state, int slots, int busy, int finishing, int defaultSteps,
                         double secondsPerStep, double postSeconds, String description, String lastError,
                         Instant updatedAt, Set<TaskKind> kinds) {

    public LaneReport {
        kinds = Set.copyOf(kinds);
    }

    /** A lane whose engine draws from text only. */
    public LaneReport(String workerId, String engine, String state, int slots, int busy, int finishing, int defaultSteps,
                      double secondsPerStep, double postSeconds, String description, String lastError, Instant updatedAt) {
        this(workerId, engine, state, slots, busy, finishing, defaultSteps, secondsPerStep, postSeconds, description, lastError,
                updatedAt, TaskKind.TEXT_ONLY);
    }

    public boolean up() {
        return state.equals("up");
    }
}
