package dev.qwenimage.tenant;

import java.time.Instant;

/**
 * What one owner's tasks used in one period (an hour as stored, or a day once summed).
 *
 * @param pixels       width x height summed over the images made
 * @param engineMillis time worker slots spent on the owner's tasks, every attempt counted
 * @param edits        of those counts, the edits' (the other counts are of every kind of task)
 */
public record UsageRow(String owner, Instant period, long submitted, long succeeded, long failed, long cancelled, long images,
                       long pixels, long engineMillis, long nsfwFlagged, Edits edits) {

    /** A row with no edits among its tasks. */
    public UsageRow(String owner, Instant period, long submitted, long succeeded, long failed, long cancelled, long images,
                    long pixels, long engineMillis, long nsfwFlagged) {
        this(owner, period, submitted, succeeded, failed, cancelled, images, pixels, engineMillis, nsfwFlagged, Edits.NONE);
    }

    /** The edits among a row's tasks: submitted, succeeded (one image each), and the engine time they took. */
    public record Edits(long submitted, long succeeded, long engineMillis) {
        public static final Edits NONE = new Edits(0, 0, 0);

        Edits plus(Edits o) {
            return new Edits(submitted + o.submitted, succeeded + o.succeeded, engineMillis + o.engineMillis);
        }
    }

    /** This row and {@code other} (the same owner) added up, in this row's period. */
    public UsageRow plus(UsageRow other) {
        return new UsageRow(owner, period, submitted + other.submitted, succeeded + other.succeeded, failed + other.failed,
                cancelled + other.cancelled, images + other.images, pixels + other.pixels, engineMillis + other.engineMillis,
                nsfwFlagged + other.nsfwFlagged, edits.plus(other.edits));
    }

    /** This row moved to {@code start} (the period it is summed into). */
    public UsageRow in(Instant start) {
        return new UsageRow(owner, start, submitted, succeeded, failed, cancelled, images, pixels, engineMillis, nsfwFlagged, edits);
    }
}
