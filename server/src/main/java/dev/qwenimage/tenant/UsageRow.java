package dev.qwenimage.tenant;

import java.time.Instant;

/**
 * What one owner's tasks used in one period (an hour as stored, or a day once summed).
 *
 * @param pixels       width x height summed over the images made
 * @param engineMillis time worker slots spent on the owner's tasks, every attempt counted
 */
public record UsageRow(String owner, Instant period, long submitted, long succeeded, long failed, long cancelled, long images,
                       long pixels, long engineMillis, long nsfwFlagged) {

    /** This row and {@code other} (the same owner) added up, in this row's period. */
    public UsageRow plus(UsageRow other) {
        return new UsageRow(owner, period, submitted + other.submitted, succeeded + other.succeeded, failed + other.failed,
                cancelled + other.cancelled, images + other.images, pixels + other.pixels, engineMillis + other.engineMillis,
                nsfwFlagged + other.nsfwFlagged);
    }
}
