package dev.qwenimage.task;

/**
 * A snapshot of the queue for ETAs and /healthz: tasks waiting, tasks running, their mean progress,
 * and the sequence number at the head of the queue (the oldest QUEUED task; 0 when none is queued).
 */
public record QueueStats(long queued, long processing, double meanProgressPercent, long headSeq) {
    public static final QueueStats EMPTY = new QueueStats(0, 0, 0, 0);

    /**
     * QUEUED tasks ahead of the task with sequence number {@code seq}. Tasks are claimed in
     * sequence order, so nearly all tasks between the head and {@code seq} are still queued; a
     * task claimed out of order (one waiting out a retry back-off) makes this a slight over-count.
     */
    public long queuedAhead(long seq) {
        if (queued == 0 || seq <= headSeq) {
            return 0;
        }
        return Math.min(queued - 1, seq - headSeq);
    }
}
