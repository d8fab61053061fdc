package dev.qwenimage.task;

import java.time.Instant;
import java.util.List;

/**
 * Where worker nodes publish their engine lanes and api nodes read them, when the service runs as
 * many nodes over one shared store. Reports older than a few heartbeats belong to a node that
 * died and are ignored.
 */
public interface LaneRegistry {

    /** Replaces {@code workerId}'s lanes with {@code lanes}. */
    void publish(String workerId, List<LaneReport> lanes);

    /** Every lane reported at or after {@code since}. */
    List<LaneReport> lanes(Instant since);

    /** Removes {@code workerId}'s lanes (a graceful stop). */
    void withdraw(String workerId);
}
