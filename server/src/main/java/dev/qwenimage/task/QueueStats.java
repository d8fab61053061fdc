package dev.qwenimage.task;

import java.util.List;

/**
 * A snapshot of the queue for ETAs and /healthz: tasks waiting, tasks running and their mean
 * progress, and for each API key with queued tasks how many it has and the turn of its first.
 */
public record QueueStats(long queued, long processing, double meanProgressPercent, List<OwnerQueue> owners) {
    public static final QueueStats EMPTY = new QueueStats(0, 0, 0, List.of());

    public QueueStats {
        owners = List.copyOf(owners);
    }

    /** One key's part of the queue: its queued tasks, whose turns run from {@code firstTurn} upwards. */
    public record OwnerQueue(String owner, long queued, long firstTurn) {
    }

    /**
     * QUEUED tasks that will be claimed before a task queued in turn {@code turn}. The queue is
     * served in turn order and a key's queued tasks take consecutive turns from its first, so
     * each key has about {@code turn - firstTurn} of its tasks ahead (at most all it has queued).
     * Tasks of other keys in the very same turn are not counted: at most one per key.
     */
    public long queuedAhead(long turn) {
        long ahead = 0;
        for (OwnerQueue o : owners) {
            ahead += Math.min(o.queued(), Math.max(0, turn - o.firstTurn()));
        }
        return Math.min(ahead, Math.max(0, queued - 1));
    }
}
