package dev.qwenimage.task;

/** What a lease sweep did: tasks returned to the queue and tasks that ran out of attempts. */
public record Rescue(int requeued, int failed) {
    public static final Rescue NONE = new Rescue(0, 0);

    public int total() {
        return requeued + failed;
    }
}
