package dev.qwenimage.task;

import java.time.Duration;
import java.time.Instant;
import dev.qwenimage.engine.TaskKind;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import dev.qwenimage.safety.NsfwVerdict;

/**
 * Persistence and queue of tasks. Every method is durable when it returns. Methods that move a
 * task are guarded by {@link TaskState#MOVES} and, for a running task, by the lease owner, so a
 * worker that lost its lease can never finish the task a second time.
 */
public interface TaskStore extends WebhookOutbox, dev.qwenimage.tenant.KeyStore, dev.qwenimage.tenant.UsageStore, AutoCloseable {

    /**
     * Stores a new QUEUED task; on disk before this returns. Its turn is the one after its
     * owner's last queued task, but not before the turn being served now (the highest turn of any
     * task ever claimed): keys are served round-robin.
     */
    default void insert(NewTask task) {
        admit(task, Optional.empty());
    }

    /**
     * Stores a new task as {@link #insert} does, unless {@code key} was used by the same owner
     * within {@link IdempotencyKey#TTL}: then nothing is stored and the earlier task is named
     * (replayed when the body digest matches, refused when it does not); or unless the owner is at
     * one of the task's {@link NewTask.Caps}, counted exactly: with the owner's concurrent submits
     * (on every node) taking turns, so that N concurrent submits against a cap of C < N store C.
     * The checks and the insert are one atomic step, as is the usage count of the new task.
     */
    Admission admit(NewTask task, Optional<IdempotencyKey> key);

    /**
     * What {@link #admit} would answer for {@code key} now, were it a replay or a reused key;
     * empty when the key made no task yet. Read only: a submit whose work before the insert is
     * costly (an edit fetches its image) asks first, so a client's retry costs nothing.
     */
    Optional<Admission> earlier(String owner, IdempotencyKey key, Instant now);

    /**
     * Ends FAILED, with {@code reason}, every QUEUED task created before {@code queuedBefore}:
     * tasks no engine could take in time ({@link NoEngineTimeout}). Returns how many.
     */
    int failWaiting(Instant queuedBefore, String reason, Instant now);

    /**
     * Cancels the task: a QUEUED one ends FAILED ("cancelled") at once; a PROCESSING one is marked,
     * and its worker stops it (see {@link #cancelRequested}).
     */
    CancelOutcome cancel(String id, Instant now);

    /** Which of {@code ids} (tasks this worker runs) have been asked to stop. */
    Set<String> cancelRequested(Collection<String> ids);

    /** Forgets idempotency keys created before {@code cutoff}; returns how many. */
    int forgetIdempotencyKeysBefore(Instant cutoff);

    /** Task {@code id}, whoever owns it (webhooks, tools); the API looks tasks up with {@link #find(String, String)}. */
    Optional<Task> find(String id);

    /**
     * Task {@code id} if {@code owner} owns it. Another owner's task and an unknown id cost the
     * same: one database read, never an answer from the cache, so neither answers sooner and a
     * caller cannot tell whether another key's task exists.
     */
    Optional<Task> find(String owner, String id);

    /** How many task look-ups this store answered from its cache and how many by a database read. */
    Reads reads();

    /** Counts of task look-ups since the store opened. */
    record Reads(long cached, long database) {
        public Reads minus(Reads earlier) {
            return new Reads(cached - earlier.cached, database - earlier.database);
        }
    }

    /**
     * Claims the oldest claimable QUEUED task for {@code worker}: PROCESSING, attempts + 1, a lease
     * until {@code now + lease}. Empty when nothing is claimable.
     */
    default Optional<Task> claim(String worker, String engine, Instant now, Duration lease) {
        return claim(worker, engine, now, lease, Duration.ZERO);
    }

    /**
     * As {@link #claim(String, String, Instant, Duration)}, but a task whose last attempt failed
     * transiently on {@code engine} is left to other engines for {@code othersFirst} after it
     * became claimable again, so a retry goes to another engine when one is free.
     */
    default Optional<Task> claim(String worker, String engine, Instant now, Duration lease, Duration othersFirst) {
        return claim(worker, engine, TaskKind.ALL, now, lease, othersFirst);
    }

    /**
     * As {@link #claim(String, String, Instant, Duration, Duration)}, for an engine that can run
     * tasks of {@code kinds} only: tasks of other kinds are left for engines that can.
     */
    Optional<Task> claim(String worker, String engine, java.util.Set<TaskKind> kinds, Instant now, Duration lease,
                         Duration othersFirst);

    /** Extends the leases {@code worker} holds on {@code ids}; returns the ids it still holds. */
    Set<String> renewLeases(String worker, Collection<String> ids, Instant leaseExpiresAt);

    /** Records progress of a running task; ignored unless {@code worker} holds it. */
    void updateProgress(String id, String worker, int percent);

    /** One running task's progress, as a worker reports it. */
    record Progress(String id, String worker, int percent) {
    }

    /**
     * Records the progress of several running tasks at once (a worker node's coalesced reports);
     * each is ignored unless its worker holds the task. Stores whose writes cost a round trip
     * write them in one statement.
     */
    default void updateProgress(Collection<Progress> updates) {
        for (Progress p : updates) {
            updateProgress(p.id(), p.worker(), p.percent());
        }
    }

    /** PROCESSING -> SUCCEED, with the NSFW verdict on the image if detection ran. False when {@code worker} no longer holds the task. */
    boolean succeed(String id, String worker, String imageKey, Optional<NsfwVerdict> nsfw, long engineMillis, Instant now);

    /** PROCESSING -> SUCCEED with no NSFW verdict. */
    default boolean succeed(String id, String worker, String imageKey, long engineMillis, Instant now) {
        return succeed(id, worker, imageKey, Optional.empty(), engineMillis, now);
    }

    /** PROCESSING -> FAILED. False when {@code worker} no longer holds the task. */
    boolean fail(String id, String worker, String reason, Instant now);

    /**
     * After a transient failure: PROCESSING -> QUEUED, claimable from {@code availableAt} and
     * remembered as failed on its engine (see {@code othersFirst} in {@link #claim}), or
     * FAILED with {@code reason} when no attempts are left. False when {@code worker} no longer
     * holds the task.
     */
    boolean retry(String id, String worker, String reason, Instant availableAt, Instant now);

    /** Gives a task back without spending an attempt (graceful shutdown): PROCESSING -> QUEUED. */
    boolean release(String id, String worker, Instant now);

    /**
     * Returns tasks whose lease expired before {@code cutoff} to the queue, or ends them FAILED when
     * their attempts are spent; {@code why} becomes part of the failure reason.
     */
    Rescue rescueExpired(Instant cutoff, String why, Instant now);

    /** Deletes up to {@code limit} tasks that finished before {@code cutoff}. */
    Purged deleteFinishedBefore(Instant cutoff, int limit);

    /**
     * Gives the space of deleted tasks back to the file system where the store can (the embedded
     * store; PostgreSQL's autovacuum makes the space reusable by itself). Retention calls it after
     * deleting tasks.
     */
    default void reclaimSpace() {
    }

    /** What a retention pass deleted: how many tasks, and the image keys to remove with them. */
    record Purged(int tasks, List<String> imageKeys) {
    }

    /**
     * The queue as a whole and per key. Costs a pass over the queued tasks' index: callers share
     * one snapshot (see TaskService) rather than asking per request.
     */
    QueueStats stats();

    /** QUEUED tasks of {@code owner}, counted up to {@code limit} (enough to enforce a cap of that size). */
    long queuedCount(String owner, long limit);

    /** The earliest time a QUEUED task becomes claimable, if any task is QUEUED. */
    Optional<Instant> nextAvailableAt();

    /**
     * A small durable write that fails when the store does not take writes (disk full, read-only,
     * unreachable): {@code node}'s probe row, stamped {@code now}. Readiness runs it every few seconds.
     */
    void probeWrite(String node, Instant now);

    /** How this store's writes go: told of every write's outcome, real or probe. */
    dev.qwenimage.health.WriteHealth writeHealth();

    /** Raised when work may have become claimable: after inserts and requeues. */
    QueueSignal signal();

    /**
     * Whether this store belongs to this process alone (the embedded store locks its data
     * directory): then a task PROCESSING at start-up was interrupted by a crash and can be
     * re-queued at once, instead of waiting for its lease to expire.
     */
    boolean exclusive();

    /** The fleet registry, when the store is shared by many nodes. */
    default java.util.Optional<LaneRegistry> registry() {
        return java.util.Optional.empty();
    }

    @Override
    void close();
}
