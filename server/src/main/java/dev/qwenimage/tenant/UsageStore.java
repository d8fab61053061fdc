package dev.qwenimage.tenant;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Usage per owner per UTC hour, durable. The counts are written by the task store in the same
 * transaction as the task's own change (accepted, finished), so each task is counted exactly once
 * whatever crashes and re-runs happen.
 */
public interface UsageStore {
    /** The hourly rows of {@code owner} (every owner when empty) with an hour in [from, to), by owner then hour. */
    List<UsageRow> usage(Optional<String> owner, Instant from, Instant to);
}
