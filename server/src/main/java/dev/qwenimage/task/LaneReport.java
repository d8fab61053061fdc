package dev.qwenimage.task;

import java.time.Instant;

/**
 * One engine lane of one worker node as it publishes itself to the fleet: what api nodes show in
 * /healthz and base ETAs on (slots, state, measured pace at 1024x1024, post-processing time).
 * {@code busy} counts slots whose engine is working on a task (never more than {@code slots});
 * {@code finishing} counts tasks the engine is done with that are being post-processed and stored.
 */
public record LaneReport(String workerId, String engine, String state, int slots, int busy, int finishing, int defaultSteps,
                         double secondsPerStep, double postSeconds, String description, String lastError,
                         Instant updatedAt) {

    public boolean up() {
        return state.equals("up");
    }
}
