package dev.qwenimage.task;

import dev.qwenimage.storage.BlobStore;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Removes finished tasks and their images once they are older than the retention period. */
public final class Janitor implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Janitor.class);
    private static final int BATCH = 500;

    private final TaskStore store;
    private final BlobStore blobs;
    private final Clock clock;
    private final Duration retention;

    public Janitor(TaskStore store, BlobStore blobs, Clock clock, Duration retention) {
        this.store = store;
        this.blobs = blobs;
        this.clock = clock;
        this.retention = retention;
    }

    @Override
    public void run() {
        try {
            int removed = 0;
            TaskStore.Purged purged;
            do {
                purged = store.deleteFinishedBefore(clock.instant().minus(retention), BATCH);
                for (String key : purged.imageKeys()) {
                    try {
                        blobs.delete(key);
                    } catch (RuntimeException e) {
                        // one image the store would not delete must not keep the others
                        log.warn("retention: could not delete image {} ({}); it stays in the image store", key, e.getMessage());
                    }
                }
                removed += purged.tasks();
            } while (purged.tasks() == BATCH);
            if (removed > 0) {
                store.reclaimSpace();
                log.info("retention: removed {} tasks (and their images) finished more than {} ago", removed, retention);
            }
            store.forgetIdempotencyKeysBefore(clock.instant().minus(IdempotencyKey.TTL));
            store.forgetDeliveriesBefore(clock.instant().minus(retention));
        } catch (RuntimeException e) {
            log.error("retention clean-up failed; will retry", e);
        }
    }
}
