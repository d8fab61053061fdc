package dev.qwenimage.task;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The engines as the queue sees them: which can take work, for ETAs, and, when none can, why, so
 * a waiting task says what it waits for instead of promising an ETA nobody can keep.
 */
public interface EngineAvailability {
    /** The engines that can take work now, or all configured ones when none can (they are expected back). */
    List<EngineCapacity> capacity();

    /**
     * As {@link #capacity()}, among the engines that can run tasks of {@code kind}: those of them
     * that can take work now, or all of them when none can. Implementations that know every lane
     * (not only those up) override this; the default filters {@link #capacity()}.
     */
    default List<EngineCapacity> capacity(dev.qwenimage.engine.TaskKind kind) {
        return capacity().stream().filter(c -> c.kinds().contains(kind)).toList();
    }

    /** Why no queued task can start now (no engine up, none reported), or empty when one can. */
    Optional<String> nothingRunsBecause();

    /**
     * Asked while {@link #nothingRunsBecause} says no engine is up: when a task queued at
     * {@code queuedAt} will be given up if none comes back (see {@link NoEngineTimeout}); empty when
     * tasks wait however long.
     */
    default Optional<Instant> givesUpAt(Instant queuedAt) {
        return Optional.empty();
    }
}
