package dev.qwenimage.task;

import java.time.Instant;
import dev.qwenimage.safety.NsfwVerdict;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a task is in its life. The four states are the contract's four statuses; which moves
 * between them are legal is decided here and nowhere else ({@link #MOVES}), and the stores build
 * their SQL guards from it.
 */
public sealed interface TaskState {

    /** Waiting in the queue; claimable from {@code availableAt} on (later than creation after a retry back-off). */
    record Queued(Instant availableAt) implements TaskState {
    }

    /** Held by a worker whose lease runs until {@code leaseExpiresAt}. */
    record Processing(String leaseOwner, Instant leaseExpiresAt, int progressPercent) implements TaskState {
    }

    /** Done; the image is in the blob store under {@code imageKey}, with the NSFW verdict when detection ran. */
    record Succeeded(String imageKey, Optional<NsfwVerdict> nsfw) implements TaskState {
        public Succeeded(String imageKey) {
            this(imageKey, Optional.empty());
        }
    }

    /** Done without an image; {@code reason} is for people and never a stack trace. */
    record Failed(String reason) implements TaskState {
    }

    String QUEUED = "QUEUED";
    String PROCESSING = "PROCESSING";
    String SUCCEED = "SUCCEED";
    String FAILED = "FAILED";

    /** Legal moves: from a state code to the codes it may become. Finished states never move again. */
    Map<String, Set<String>> MOVES = Map.of(
            QUEUED, Set.of(PROCESSING, FAILED),
            PROCESSING, Set.of(SUCCEED, FAILED, QUEUED),
            SUCCEED, Set.of(),
            FAILED, Set.of());

    static boolean canMove(String from, String to) {
        return MOVES.getOrDefault(from, Set.of()).contains(to);
    }

    /** The code stored in the database: QUEUED, PROCESSING, SUCCEED or FAILED. */
    default String code() {
        return switch (this) {
            case Queued q -> QUEUED;
            case Processing p -> PROCESSING;
            case Succeeded s -> SUCCEED;
            case Failed f -> FAILED;
        };
    }

    /** The status as the wire contract spells it, e.g. {@code TASK_STATUS_SUCCEED}. */
    default String wireStatus() {
        return "TASK_STATUS_" + code();
    }

    default boolean isFinished() {
        return this instanceof Succeeded || this instanceof Failed;
    }
}
