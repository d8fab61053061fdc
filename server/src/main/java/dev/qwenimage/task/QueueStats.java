package dev.qwenimage.task;

/** Counts used by the ETA and /healthz: tasks waiting, tasks running and their mean progress. */
public record QueueStats(long queued, long processing, double meanProgressPercent) {
    public static final QueueStats EMPTY = new QueueStats(0, 0, 0);
}
