package dev.qwenimage.task;

import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns tasks whose worker stopped renewing its lease (crashed, hung, cut off) to the queue,
 * or ends them FAILED once their attempts are spent. Run periodically.
 */
public final class Rescuer implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);
    static final String WHY = "its worker stopped renewing the lease (crashed or stalled)";

    private final TaskStore store;
    private final Clock clock;

    public Rescuer(TaskStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void run() {
        try {
            Rescue r = store.rescueExpired(clock.instant(), WHY, clock.instant());
            if (r.total() > 0) {
                log.warn("rescued tasks with expired leases: {} back in the queue, {} failed (no attempts left)",
                        r.requeued(), r.failed());
            }
        } catch (RuntimeException e) {
            log.error("lease sweep failed; will retry", e);
        }
    }
}
