package dev.qwenimage.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.safety.NsfwVerdict;
import dev.qwenimage.support.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link TaskStore} must have. Each store implementation extends this class
 * and supplies a fresh, empty store; the same scenarios then run against it.
 */
public abstract class TaskStoreContract {
    protected static final Duration LEASE = Duration.ofSeconds(30);
    protected final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    protected TaskStore store;

    protected abstract TaskStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected String enqueue(String owner) {
        return enqueue(owner, 3);
    }

    protected String enqueue(String owner, int maxAttempts) {
        String id = UUID.randomUUID().toString();
        store.insert(new NewTask(id, owner, new TaskSpec("a cat", "", 512, 512, false, 42, OptionalInt.empty()),
                maxAttempts, clock.instant()));
        clock.advance(Duration.ofMillis(1));
        return id;
    }

    @Test
    void failWaitingEndsOnlyTheTasksQueuedBeforeTheCutoff() {
        String old = enqueue("a");
        String running = enqueue("a");
        clock.advance(Duration.ofMinutes(5));
        java.time.Instant cutoff = clock.instant();
        String recent = enqueue("a");
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id()).isEqualTo(old);
        // old is now running; only `running` (still queued, and older than the cutoff) fails
        assertThat(store.failWaiting(cutoff, "no engine could take it", clock.instant())).isEqualTo(1);
        assertThat(store.find(running).orElseThrow().state()).isInstanceOf(TaskState.Failed.class);
        assertThat(((TaskState.Failed) store.find(running).orElseThrow().state()).reason()).isEqualTo("no engine could take it");
        assertThat(store.find(old).orElseThrow().state()).isInstanceOf(TaskState.Processing.class);
        assertThat(store.find(recent).orElseThrow().state()).isInstanceOf(TaskState.Queued.class);
    }

    @Test
    void aWriteProbeSucceedsOnAStoreThatTakesWritesAndKeepsItHealthy() {
        store.probeWrite("node-a", clock.instant());
        store.probeWrite("node-a", clock.instant().plusSeconds(5));
        store.probeWrite("node-b", clock.instant());
        assertThat(store.writeHealth().ok()).isTrue();
        assertThat(store.writeHealth().failures()).isZero();
    }

    @Test
    void insertedTaskIsQueuedAndReadsBackAsWritten() {
        String id = enqueue("alice");
        Task t = store.find(id).orElseThrow();
        assertThat(t.owner()).isEqualTo("alice");
        assertThat(t.state()).isInstanceOf(TaskState.Queued.class);
        assertThat(t.spec()).isEqualTo(new TaskSpec("a cat", "", 512, 512, false, 42, OptionalInt.empty()));
        assertThat(t.attempts()).isZero();
        assertThat(t.maxAttempts()).isEqualTo(3);
        assertThat(store.find("missing")).isEmpty();
    }

    @Test
    void claimTakesTheOldestQueuedTaskFirst() {
        String first = enqueue("a");
        String second = enqueue("a");
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id()).isEqualTo(first);
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id()).isEqualTo(second);
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE)).isEmpty();
    }

    @Test
    void claimedTaskIsProcessingWithALeaseAndOneAttempt() {
        String id = enqueue("a");
        Task claimed = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(claimed.attempts()).isEqualTo(1);
        assertThat(claimed.state()).isEqualTo(new TaskState.Processing("w1", clock.instant().plus(LEASE), 0));
        assertThat(claimed.engine()).hasValue("preview");
        assertThat(store.find(id).orElseThrow().startedAt()).hasValue(clock.instant());
    }

    @Test
    void succeedRecordsTheImageAndOnlyTheLeaseHolderCanFinish() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(store.succeed(id, "w2", "k.jpeg", 10, clock.instant())).isFalse();
        assertThat(store.succeed(id, "w1", "k.jpeg", 10, clock.instant())).isTrue();
        Task done = store.find(id).orElseThrow();
        assertThat(done.state()).isEqualTo(new TaskState.Succeeded("k.jpeg"));
        assertThat(done.engineMillis()).hasValue(10);
        assertThat(done.finishedAt()).hasValue(clock.instant());
        // a finished task never moves again
        assertThat(store.succeed(id, "w1", "other.jpeg", 10, clock.instant())).isFalse();
        assertThat(store.fail(id, "w1", "late", clock.instant())).isFalse();
    }

    @Test
    void theNsfwVerdictIsKeptWithTheImage() {
        String checked = enqueue("a");
        String unchecked = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.succeed(checked, "w1", "c.jpeg", Optional.of(new NsfwVerdict(true, 0.93)), 10, clock.instant());
        store.succeed(unchecked, "w1", "u.jpeg", 10, clock.instant());
        assertThat(store.find(checked).orElseThrow().state())
                .isEqualTo(new TaskState.Succeeded("c.jpeg", Optional.of(new NsfwVerdict(true, 0.93))));
        assertThat(store.find(unchecked).orElseThrow().state()).isEqualTo(new TaskState.Succeeded("u.jpeg", Optional.empty()));
    }

    @Test
    void anIdempotencyKeyReplaysItsTaskForTheSameBodyAndRefusesAnother() {
        NewTask first = new NewTask(UUID.randomUUID().toString(), "a", new TaskSpec("k", "", 512, 512, false, 1, OptionalInt.empty()),
                3, clock.instant());
        IdempotencyKey key = new IdempotencyKey("order-1", "digest-1");
        assertThat(store.admit(first, Optional.of(key))).isEqualTo(new Admission.Created(first.id()));
        NewTask retry = new NewTask(UUID.randomUUID().toString(), "a", first.spec(), 3, clock.instant());
        assertThat(store.admit(retry, Optional.of(key))).isEqualTo(new Admission.Replayed(first.id()));
        assertThat(store.find(retry.id())).isEmpty();
        assertThat(store.admit(retry, Optional.of(new IdempotencyKey("order-1", "other")))).isEqualTo(new Admission.KeyReused(first.id()));
        // another owner's key of the same name is another key
        NewTask theirs = new NewTask(UUID.randomUUID().toString(), "b", first.spec(), 3, clock.instant());
        assertThat(store.admit(theirs, Optional.of(key))).isEqualTo(new Admission.Created(theirs.id()));
        // after a day the key is free again
        clock.advance(IdempotencyKey.TTL.plusSeconds(1));
        NewTask later = new NewTask(UUID.randomUUID().toString(), "a", first.spec(), 3, clock.instant());
        assertThat(store.admit(later, Optional.of(key))).isEqualTo(new Admission.Created(later.id()));
        assertThat(store.forgetIdempotencyKeysBefore(clock.instant())).isEqualTo(1);
    }

    /** {@code n} admissions of {@code owner} with {@code caps}, from {@code n} threads at once; their outcomes. */
    private List<Admission> admitAtOnce(String owner, NewTask.Caps caps, int n, java.util.function.IntFunction<Optional<IdempotencyKey>> key)
            throws Exception {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.FutureTask<Admission>> tasks = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            NewTask t = new NewTask(UUID.randomUUID().toString(), owner, new TaskSpec("capped " + i, "", 512, 512, false, i,
                    OptionalInt.empty()), 3, clock.instant(), caps, List.of());
            Optional<IdempotencyKey> k = key.apply(i);
            java.util.concurrent.FutureTask<Admission> task = new java.util.concurrent.FutureTask<>(() -> {
                go.await();
                return store.admit(t, k);
            });
            tasks.add(task);
            Thread.ofPlatform().start(task);
        }
        go.countDown();
        List<Admission> out = new java.util.ArrayList<>();
        for (var t : tasks) {
            out.add(t.get());
        }
        return out;
    }

    @Test
    void theQueueCapAndTheDailyQuotaHoldExactlyUnder64ConcurrentAdmissions() throws Exception {
        List<Admission> queued = admitAtOnce("q", new NewTask.Caps(10, 0, Instant.EPOCH), 64, i -> Optional.empty());
        assertThat(queued.stream().filter(a -> a instanceof Admission.Created)).hasSize(10);
        assertThat(queued.stream().filter(a -> a instanceof Admission.QueueCapReached)).hasSize(54)
                .allSatisfy(a -> assertThat(a).isEqualTo(new Admission.QueueCapReached(10)));
        assertThat(store.queuedCount("q", 100)).isEqualTo(10);

        Instant today = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.DAYS);
        List<Admission> daily = admitAtOnce("d", new NewTask.Caps(0, 10, today), 64, i -> Optional.empty());
        assertThat(daily.stream().filter(a -> a instanceof Admission.Created)).hasSize(10);
        assertThat(daily.stream().filter(a -> a instanceof Admission.DailyCapReached)).hasSize(54);
        // tasks that already ran still count for the day: the quota is of tasks accepted, not waiting
        while (store.claim("w1", "preview", clock.instant(), LEASE).isPresent()) {
            clock.advance(Duration.ofMillis(1));
        }
        assertThat(admitAtOnce("d", new NewTask.Caps(0, 10, today), 4, i -> Optional.empty()))
                .containsOnly(new Admission.DailyCapReached(10));
    }

    @Test
    void anAdmissionRefusedAtACapLeavesItsIdempotencyKeyFree() {
        NewTask.Caps one = new NewTask.Caps(1, 0, Instant.EPOCH);
        TaskSpec spec = new TaskSpec("k", "", 512, 512, false, 1, OptionalInt.empty());
        IdempotencyKey key = new IdempotencyKey("order-2", "digest-2");
        NewTask first = new NewTask(UUID.randomUUID().toString(), "a", spec, 3, clock.instant(), one, List.of());
        assertThat(store.admit(first, Optional.empty())).isEqualTo(new Admission.Created(first.id()));
        NewTask refused = new NewTask(UUID.randomUUID().toString(), "a", spec, 3, clock.instant(), one, List.of());
        assertThat(store.admit(refused, Optional.of(key))).isEqualTo(new Admission.QueueCapReached(1));
        assertThat(store.cancel(first.id(), clock.instant())).isEqualTo(CancelOutcome.CANCELLED);

        NewTask retry = new NewTask(UUID.randomUUID().toString(), "a", spec, 3, clock.instant(), one, List.of());
        assertThat(store.admit(retry, Optional.of(key))).isEqualTo(new Admission.Created(retry.id()));
        NewTask again = new NewTask(UUID.randomUUID().toString(), "a", spec, 3, clock.instant(), one, List.of());
        assertThat(store.admit(again, Optional.of(key))).isEqualTo(new Admission.Replayed(retry.id()));
    }

    @Test
    void concurrentAdmissionsWithOneIdempotencyKeyMakeOneTask() throws Exception {
        IdempotencyKey key = new IdempotencyKey("order-3", "digest-3");
        // every other one carries the key; the rest are tasks of their own, admitted beside them
        List<Admission> out = admitAtOnce("a", NewTask.Caps.NONE, 32, i -> i % 2 == 0 ? Optional.of(key) : Optional.empty());
        List<Admission> keyed = java.util.stream.IntStream.range(0, 32).filter(i -> i % 2 == 0).mapToObj(out::get).toList();
        assertThat(keyed.stream().filter(a -> a instanceof Admission.Created)).hasSize(1);
        String id = ((Admission.Created) keyed.stream().filter(a -> a instanceof Admission.Created).findFirst().orElseThrow()).taskId();
        assertThat(keyed.stream().filter(a -> !(a instanceof Admission.Created))).hasSize(15)
                .containsOnly(new Admission.Replayed(id));
        assertThat(java.util.stream.IntStream.range(0, 32).filter(i -> i % 2 == 1).mapToObj(out::get))
                .allSatisfy(a -> assertThat(a).isInstanceOf(Admission.Created.class));
        assertThat(store.queuedCount("a", 100)).isEqualTo(17);
    }

    @Test
    void cancelFailsAQueuedTaskAndMarksARunningOne() {
        String claimed = enqueue("a");
        String waiting = enqueue("a");
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(claimed);

        assertThat(store.cancel(waiting, clock.instant())).isEqualTo(CancelOutcome.CANCELLED);
        assertThat(store.find(waiting).orElseThrow().state()).isEqualTo(new TaskState.Failed("cancelled"));
        assertThat(store.cancelRequested(List.of(claimed))).isEmpty();
        assertThat(store.cancel(claimed, clock.instant())).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(store.cancelRequested(List.of(claimed, waiting))).containsExactly(claimed);
        assertThat(store.cancel(waiting, clock.instant())).isEqualTo(CancelOutcome.ALREADY_FINISHED);
        assertThat(store.cancel("nope", clock.instant())).isEqualTo(CancelOutcome.NOT_FOUND);
    }

    @Test
    void aTaskWithAWebhookEndingPutsOneDeliveryInTheOutbox() {
        NewTask t = new NewTask(UUID.randomUUID().toString(), "a", new TaskSpec("hook", "", 512, 512, false, 1, OptionalInt.empty(),
                dev.qwenimage.image.ImageType.PNG, Optional.of("https://hooks.example.com/x")), 3, clock.instant());
        store.insert(t);
        String plain = enqueue("a");
        assertThat(store.claimDelivery(clock.instant(), LEASE)).isEmpty();
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.succeed(t.id(), "w1", "k.png", 1, clock.instant());
        store.succeed(plain, "w1", "p.jpeg", 1, clock.instant());

        WebhookOutbox.Delivery d = store.claimDelivery(clock.instant(), Duration.ofMinutes(1)).orElseThrow();
        assertThat(d.taskId()).isEqualTo(t.id());
        assertThat(d.url()).isEqualTo("https://hooks.example.com/x");
        assertThat(d.attempt()).isEqualTo(1);
        assertThat(store.claimDelivery(clock.instant(), Duration.ofMinutes(1))).as("claimed, so not due again").isEmpty();
        store.deliveryFailed(d.id(), "HTTP 500", Optional.of(clock.instant().plusSeconds(30)), clock.instant());
        assertThat(store.claimDelivery(clock.instant(), Duration.ofMinutes(1))).isEmpty();
        clock.advance(Duration.ofSeconds(30));
        WebhookOutbox.Delivery again = store.claimDelivery(clock.instant(), Duration.ofMinutes(1)).orElseThrow();
        assertThat(again.attempt()).isEqualTo(2);
        store.delivered(again.id(), clock.instant());
        clock.advance(Duration.ofMinutes(5));
        assertThat(store.claimDelivery(clock.instant(), Duration.ofMinutes(1))).isEmpty();
        assertThat(store.forgetDeliveriesBefore(clock.instant())).isEqualTo(1);
        // the task kept its format
        assertThat(store.find(t.id()).orElseThrow().spec().imageType()).isEqualTo(dev.qwenimage.image.ImageType.PNG);
    }

    @Test
    void failRecordsTheReason() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        assertThat(store.fail(id, "w1", "bad workflow", clock.instant())).isTrue();
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(new TaskState.Failed("bad workflow"));
    }

    @Test
    void progressIsRecordedForTheLeaseHolderOnly() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.updateProgress(id, "w1", 40);
        store.updateProgress(id, "w2", 90);
        assertThat(((TaskState.Processing) store.find(id).orElseThrow().state()).progressPercent()).isEqualTo(40);
        assertThat(store.stats()).isEqualTo(new QueueStats(0, 1, 40.0, List.of()));
    }

    @Test
    void aWorkerNodesCoalescedProgressIsRecordedInOneCallForTheTasksItsWorkersHold() {
        String a = enqueue("a");
        String b = enqueue("a");
        String c = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        store.claim("w2", "preview", clock.instant(), LEASE).orElseThrow();
        store.updateProgress(List.of(new TaskStore.Progress(a, "w1", 35), new TaskStore.Progress(b, "w2", 70),
                new TaskStore.Progress(c, "w1", 50), new TaskStore.Progress(b, "w9", 99)));
        assertThat(((TaskState.Processing) store.find(a).orElseThrow().state()).progressPercent()).isEqualTo(35);
        assertThat(((TaskState.Processing) store.find(b).orElseThrow().state()).progressPercent())
                .as("w9 does not hold b: only w2's report counts").isEqualTo(70);
        assertThat(store.find(c).orElseThrow().state()).as("c is still queued: no progress").isInstanceOf(TaskState.Queued.class);
        store.updateProgress(List.of());
    }

    @Test
    void expiredLeaseReturnsTaskToQueue() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        assertThat(store.rescueExpired(clock.instant(), "crashed", clock.instant())).isEqualTo(Rescue.NONE);

        clock.advance(LEASE.plusSeconds(1));
        assertThat(store.rescueExpired(clock.instant(), "crashed", clock.instant())).isEqualTo(new Rescue(1, 0));
        assertThat(store.find(id).orElseThrow().state()).isInstanceOf(TaskState.Queued.class);
        // the worker that lost the lease can no longer finish it
        assertThat(store.succeed(id, "w1", "k.jpeg", 1, clock.instant())).isFalse();
        assertThat(store.claim("w2", "preview", clock.instant(), LEASE).orElseThrow().attempts()).isEqualTo(2);
    }

    @Test
    void renewedLeaseIsNotRescued() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        clock.advance(Duration.ofSeconds(20));
        assertThat(store.renewLeases("w1", List.of(id), clock.instant().plus(LEASE))).containsExactly(id);
        clock.advance(Duration.ofSeconds(20));
        assertThat(store.rescueExpired(clock.instant(), "crashed", clock.instant())).isEqualTo(Rescue.NONE);
        assertThat(store.find(id).orElseThrow().state()).isInstanceOf(TaskState.Processing.class);
    }

    @Test
    void renewalReportsLeasesNoLongerHeld() {
        String mine = enqueue("a");
        String lost = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        store.claim("w1", "preview", clock.instant(), LEASE);
        clock.advance(LEASE.plusSeconds(1));
        store.rescueExpired(clock.instant(), "crashed", clock.instant());
        store.claim("w2", "preview", clock.instant(), LEASE); // w2 takes over the first requeued task
        Set<String> held = store.renewLeases("w1", List.of(mine, lost), clock.instant().plus(LEASE));
        assertThat(held).isEmpty();
    }

    @Test
    void expiredLeaseWithNoAttemptsLeftEndsFailedWithAReason() {
        String id = enqueue("a", 2);
        for (int attempt = 1; attempt <= 2; attempt++) {
            assertThat(store.claim("w", "preview", clock.instant(), LEASE)).isPresent();
            clock.advance(LEASE.plusSeconds(1));
            store.rescueExpired(clock.instant(), "its worker stopped renewing the lease", clock.instant());
        }
        Task t = store.find(id).orElseThrow();
        assertThat(t.state()).isInstanceOf(TaskState.Failed.class);
        assertThat(((TaskState.Failed) t.state()).reason()).isEqualTo("gave up after 2 attempts: its worker stopped renewing the lease");
        assertThat(store.claim("w", "preview", clock.instant(), LEASE)).isEmpty();
    }

    @Test
    void retryWaitsForItsBackoffThenRunsAgain() {
        String id = enqueue("a");
        store.claim("w1", "preview", clock.instant(), LEASE);
        assertThat(store.retry(id, "w1", "engine down", clock.instant().plusSeconds(10), clock.instant())).isTrue();
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(new TaskState.Queued(clock.instant().plusSeconds(10)));
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE)).isEmpty();
        assertThat(store.nextAvailableAt()).hasValue(clock.instant().plusSeconds(10));

        clock.advance(Duration.ofSeconds(10));
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(id);
    }

    @Test
    void aRetryIsOfferedToOtherEnginesFirst() {
        String id = enqueue("a");
        String other = enqueue("a");
        Duration othersFirst = Duration.ofSeconds(10);
        store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst);
        store.retry(id, "w1", "engine down", clock.instant(), clock.instant());

        // the engine it failed on passes it over for the next task...
        assertThat(store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst).map(Task::id)).hasValue(other);
        assertThat(store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst)).isEmpty();
        // ...while another engine takes it at once
        assertThat(store.claim("w2", "gpu-b", clock.instant(), LEASE, othersFirst).map(Task::id)).hasValue(id);
    }

    @Test
    void aRetryNoOtherEngineTookReturnsToItsEngineAfterTheGrace() {
        String id = enqueue("a");
        Duration othersFirst = Duration.ofSeconds(10);
        store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst);
        store.retry(id, "w1", "engine down", clock.instant(), clock.instant());
        assertThat(store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst)).isEmpty();
        clock.advance(othersFirst);
        assertThat(store.claim("w1", "gpu-a", clock.instant(), LEASE, othersFirst).map(Task::id)).hasValue(id);
        // with no grace (a single engine) the retry is claimable as soon as its back-off ends
        store.retry(id, "w1", "engine down", clock.instant(), clock.instant());
        assertThat(store.claim("w1", "gpu-a", clock.instant(), LEASE).map(Task::id)).hasValue(id);
    }

    @Test
    void retryWithNoAttemptsLeftEndsFailed() {
        String id = enqueue("a", 1);
        store.claim("w1", "preview", clock.instant(), LEASE);
        assertThat(store.retry(id, "w1", "engine down", clock.instant(), clock.instant())).isTrue();
        assertThat(store.find(id).orElseThrow().state()).isEqualTo(new TaskState.Failed("gave up after 1 attempts: engine down"));
    }

    @Test
    void releaseGivesTheTaskBackWithoutSpendingAnAttempt() {
        String id = enqueue("a", 1);
        store.claim("w1", "preview", clock.instant(), LEASE);
        assertThat(store.release(id, "w1", clock.instant())).isTrue();
        Task t = store.find(id).orElseThrow();
        assertThat(t.state()).isInstanceOf(TaskState.Queued.class);
        assertThat(t.attempts()).isZero();
        assertThat(store.claim("w2", "preview", clock.instant(), LEASE)).isPresent();
    }

    @Test
    void statsCountTheQueuePerKey() {
        assertThat(store.stats()).isEqualTo(QueueStats.EMPTY);
        enqueue("a");
        String a2 = enqueue("a");
        enqueue("a");
        String b1 = enqueue("b");
        store.claim("w1", "preview", clock.instant(), LEASE);
        QueueStats stats = store.stats();
        assertThat(stats.queued()).isEqualTo(3);
        assertThat(stats.processing()).isEqualTo(1);
        assertThat(stats.owners()).containsExactlyInAnyOrder(
                new QueueStats.OwnerQueue("a", 2, store.find(a2).orElseThrow().turn()),
                new QueueStats.OwnerQueue("b", 1, store.find(b1).orElseThrow().turn()));
        assertThat(store.queuedCount("a", 10)).isEqualTo(2);
        assertThat(store.queuedCount("a", 1)).isEqualTo(1);
        assertThat(store.queuedCount("nobody", 10)).isZero();
    }

    @Test
    void keysAreServedInTurnSoABigBacklogDoesNotDelayAnotherKeysTask() {
        List<String> backlog = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            backlog.add(enqueue("heavy"));
        }
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(backlog.get(0));
        String single = enqueue("light");

        // the light key's task joins the turn being served, so it is the very next one claimed
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(single);
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(backlog.get(1));
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(backlog.get(2));
        // and the queue snapshot knows it: one task ahead of a task in the light key's turn
        QueueStats stats = store.stats();
        assertThat(stats.queuedAhead(store.find(backlog.get(3)).orElseThrow().turn())).isZero();
        assertThat(stats.queuedAhead(store.find(backlog.get(40)).orElseThrow().turn())).isEqualTo(37);
    }

    @Test
    void aKeySubmittingOnManyConnectionsAtOnceStillGetsOneTurnPerTask() throws Exception {
        // a heavy client sends in parallel (many api nodes, many connections): each of its tasks
        // must still take a turn of its own, or another key's single task waits behind all of them
        List<String> heavy = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        List<Thread> senders = new java.util.ArrayList<>();
        for (int s = 0; s < 8; s++) {
            senders.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 25; i++) {
                    String id = UUID.randomUUID().toString();
                    store.insert(new NewTask(id, "heavy", new TaskSpec("a cat", "", 512, 512, false, 42,
                            OptionalInt.empty()), 3, clock.instant()));
                    heavy.add(id);
                }
            }));
        }
        for (Thread t : senders) {
            t.join();
        }
        assertThat(heavy.stream().map(id -> store.find(id).orElseThrow().turn()).distinct().count())
                .as("distinct turns among the heavy key's 200 tasks").isEqualTo(200);

        clock.advance(Duration.ofMillis(1));
        String single = enqueue("light");
        List<String> firstTwo = List.of(
                store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id(),
                store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id());
        assertThat(firstTwo).contains(single);
    }

    @Test
    void threeKeysAlternateRoundRobin() {
        for (int i = 0; i < 3; i++) {
            enqueue("a");
        }
        for (int i = 0; i < 3; i++) {
            enqueue("b");
        }
        for (int i = 0; i < 3; i++) {
            enqueue("c");
        }
        List<String> owners = new java.util.ArrayList<>();
        Optional<Task> t;
        while ((t = store.claim("w1", "preview", clock.instant(), LEASE)).isPresent()) {
            owners.add(t.get().owner());
        }
        assertThat(owners).containsExactly("a", "b", "c", "a", "b", "c", "a", "b", "c");
    }

    @Test
    void aKeyReturningAfterABigBatchIsNotPenalisedForItsPast() {
        for (int i = 0; i < 20; i++) {
            enqueue("old");
        }
        while (store.claim("w1", "preview", clock.instant(), LEASE).isPresent()) {
            // drain
        }
        String fresh = enqueue("new");
        String back = enqueue("old");
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(fresh);
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE).map(Task::id)).hasValue(back);
    }

    @Test
    void finishedTasksPastRetentionAreDeletedWithTheirImageKeys() {
        String old = enqueue("a");
        store.claim("w", "preview", clock.instant(), LEASE);
        store.succeed(old, "w", old + ".jpeg", 1, clock.instant());
        String oldFailed = enqueue("a");
        store.claim("w", "preview", clock.instant(), LEASE);
        store.fail(oldFailed, "w", "nope", clock.instant());
        clock.advance(Duration.ofHours(25));
        String recent = enqueue("a");
        store.claim("w", "preview", clock.instant(), LEASE);
        store.succeed(recent, "w", recent + ".jpeg", 1, clock.instant());
        String queued = enqueue("a");

        TaskStore.Purged purged = store.deleteFinishedBefore(clock.instant().minus(Duration.ofHours(24)), 100);
        assertThat(purged.tasks()).isEqualTo(2);
        assertThat(purged.imageKeys()).containsExactly(old + ".jpeg");
        assertThat(store.find(old)).isEmpty();
        assertThat(store.find(oldFailed)).isEmpty();
        assertThat(store.find(recent)).isPresent();
        assertThat(store.find(queued)).isPresent();
    }

    @Test
    void insertRaisesTheQueueSignal() {
        long before = store.signal().generation();
        enqueue("a");
        assertThat(store.signal().generation()).isGreaterThan(before);
    }

    @Test
    void concurrentClaimsNeverHandOutATaskTwice() throws Exception {
        for (int i = 0; i < 50; i++) {
            enqueue("a");
        }
        java.util.Set<String> claimed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger duplicates = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int w = 0; w < 8; w++) {
            String worker = "w" + w;
            threads.add(Thread.ofPlatform().start(() -> {
                Optional<Task> t;
                while ((t = store.claim(worker, "preview", clock.instant(), LEASE)).isPresent()) {
                    if (!claimed.add(t.get().id())) {
                        duplicates.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(duplicates.get()).isZero();
        assertThat(claimed).hasSize(50);
    }

    @Test
    void anotherOwnersTaskIsLookedUpExactlyLikeAnUnknownId() {
        // a finished task, read by its owner: where the store caches tasks, it is cached now
        String id = enqueue("alice");
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(store.succeed(id, "w1", "k.jpeg", 10, clock.instant())).isTrue();
        assertThat(store.find("alice", id)).isPresent();
        TaskStore.Reads start = store.reads();
        assertThat(store.find("alice", id)).isPresent();
        TaskStore.Reads afterOwner = store.reads();

        assertThat(store.find("bob", id)).isEmpty();
        TaskStore.Reads afterForeign = store.reads();
        assertThat(store.find("bob", UUID.randomUUID().toString())).isEmpty();
        TaskStore.Reads afterUnknown = store.reads();

        // the same work for both misses (one database read, nothing from the cache), so neither
        // answers sooner: a caller cannot tell another key's task from no task at all
        assertThat(afterForeign.minus(afterOwner)).isEqualTo(new TaskStore.Reads(0, 1));
        assertThat(afterUnknown.minus(afterForeign)).isEqualTo(new TaskStore.Reads(0, 1));
        assertThat(afterOwner.minus(start).cached() + afterOwner.minus(start).database()).isEqualTo(1);
    }

    /** Look-ups of one id by two owners at the same moment each get their own answer, however they interleave. */
    @Test
    void concurrentLookUpsOfOneTaskByTwoOwnersNeverSeeTheOthersAnswer() throws Exception {
        String id = enqueue("alice");
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int p = 1; !stop.get(); p = p % 99 + 1) {
                store.updateProgress(id, "w1", p); // every write drops the cached task
            }
        });
        List<Thread> readers = new java.util.ArrayList<>();
        for (String owner : List.of("alice", "bob", "alice", "bob")) {
            readers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 2000; i++) {
                    boolean found = store.find(owner, id).isPresent();
                    if (found != owner.equals("alice")) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : readers) {
            t.join();
        }
        stop.set(true);
        writer.join();
        assertThat(wrong.get()).as("look-ups answered with the other owner's result").isZero();
    }

    // ---- keys, caps and usage (issue 11) ---------------------------------------------------------

    private static dev.qwenimage.tenant.ApiKey managedKey(String id, Instant at) {
        return new dev.qwenimage.tenant.ApiKey(id, id, "name of " + id, "qwen-abcd", "sha-" + id, Optional.empty(), Optional.empty(),
                at, Optional.empty(), Optional.empty(), new dev.qwenimage.tenant.KeyLimits(10L, null, 500L, null, List.of("comfyui")),
                java.util.Map.of("team", "growth"), false);
    }

    @Test
    void keysAreStoredReadBackAndChangedOnlyWhereAChangeMayWin() {
        Instant at = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        dev.qwenimage.tenant.ApiKey first = managedKey("key_one", at);
        store.createKey(first);
        store.createKey(managedKey("key_two", at.plusSeconds(1)));
        assertThat(store.keys()).extracting(dev.qwenimage.tenant.ApiKey::id).containsExactly("key_one", "key_two");
        assertThat(store.key("key_one")).hasValue(first);
        assertThat(store.key("key_nope")).isEmpty();

        dev.qwenimage.tenant.ApiKey edited = first.withName("renamed").withLimits(dev.qwenimage.tenant.KeyLimits.DEFAULTS)
                .withLabels(java.util.Map.of()).withExpiry(Optional.of(at.plusSeconds(3600)));
        assertThat(store.updateKeySettings(edited)).isTrue();
        assertThat(store.key("key_one")).hasValue(edited);
        assertThat(store.updateKeySettings(managedKey("key_nope", at))).isFalse();

        // a rotation wins only over the secret it replaces
        dev.qwenimage.tenant.ApiKey rotated = edited.rotated("sha-new", "qwen-efgh", at, at.plusSeconds(60));
        assertThat(store.rotateKey(rotated, "sha-key_one")).isTrue();
        assertThat(store.key("key_one")).hasValue(rotated);
        assertThat(store.rotateKey(edited.rotated("sha-other", "qwen-ijkl", at, at), "sha-key_one")).isFalse();

        // an edit from an older copy changes the settings, never the secrets or a revocation
        assertThat(store.revokeKey("key_one", at.plusSeconds(5))).isTrue();
        assertThat(store.revokeKey("key_one", at.plusSeconds(9))).isFalse();
        assertThat(store.updateKeySettings(first)).isTrue();
        dev.qwenimage.tenant.ApiKey now = store.key("key_one").orElseThrow();
        assertThat(now.name()).isEqualTo(first.name());
        assertThat(now.secretSha256()).isEqualTo("sha-new");
        assertThat(now.revokedAt()).hasValue(at.plusSeconds(5));
        assertThat(now.previousSha256()).isEmpty();
        assertThat(store.rotateKey(now.rotated("sha-late", "qwen-mnop", at, at), "sha-new")).as("a revoked key is not rotated").isFalse();
    }

    @Test
    void aKeyWhoseIdOrSecretIsTakenIsRefused() {
        Instant at = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        store.createKey(managedKey("key_one", at));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.createKey(managedKey("key_one", at)))
                .isInstanceOf(dev.qwenimage.tenant.KeyStore.KeyConflict.class);
        dev.qwenimage.tenant.ApiKey sameSecret = new dev.qwenimage.tenant.ApiKey("key_other", "key_other", "n", "p", "sha-key_one",
                Optional.empty(), Optional.empty(), at, Optional.empty(), Optional.empty(), dev.qwenimage.tenant.KeyLimits.DEFAULTS,
                java.util.Map.of(), false);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.createKey(sameSecret))
                .isInstanceOf(dev.qwenimage.tenant.KeyStore.KeyConflict.class);
        assertThat(store.keys()).hasSize(1);
    }

    @Test
    void keyListenersHearOfChanges() throws Exception {
        // notices may be coalesced (several changes, one call), but each change is followed by a call
        java.util.concurrent.Semaphore heard = new java.util.concurrent.Semaphore(0);
        store.onKeysChanged(heard::release);
        Instant at = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        heard.drainPermits();
        store.createKey(managedKey("key_one", at));
        assertThat(heard.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS)).as("told of the new key").isTrue();
        heard.drainPermits();
        store.revokeKey("key_one", at);
        assertThat(heard.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS)).as("told of the revocation").isTrue();
    }

    private NewTask capped(String owner, long maxQueued, long perDay) {
        return new NewTask(UUID.randomUUID().toString(), owner, new TaskSpec("a cat", "", 512, 512, false, 42, OptionalInt.empty()),
                3, clock.instant(), new NewTask.Caps(maxQueued, perDay, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.DAYS)),
                List.of());
    }

    @Test
    void theQueueCapIsExactUnderConcurrentSubmitsOfOneOwner() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(32);
        try {
            List<java.util.concurrent.Future<Admission>> outcomes = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                outcomes.add(pool.submit(() -> store.admit(capped("alice", 10, 0), Optional.empty())));
            }
            long created = 0;
            for (var f : outcomes) {
                Admission a = f.get();
                if (a instanceof Admission.Created) {
                    created++;
                } else {
                    assertThat(a).isEqualTo(new Admission.QueueCapReached(10));
                }
            }
            assertThat(created).isEqualTo(10);
            assertThat(store.queuedCount("alice", 100)).isEqualTo(10);
        } finally {
            pool.shutdownNow();
        }
        // a task that starts frees its place; another owner has its own cap
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(store.admit(capped("alice", 10, 0), Optional.empty())).isInstanceOf(Admission.Created.class);
        assertThat(store.admit(capped("alice", 10, 0), Optional.empty())).isEqualTo(new Admission.QueueCapReached(10));
        assertThat(store.admit(capped("bob", 10, 0), Optional.empty())).isInstanceOf(Admission.Created.class);
    }

    @Test
    void theDailyCapCountsTheDaysAcceptedTasksWhateverBecameOfThem() {
        clock.advance(Duration.ofHours(20));
        assertThat(store.admit(capped("alice", 0, 2), Optional.empty())).isInstanceOf(Admission.Created.class);
        Task first = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        store.fail(first.id(), "w1", "engine error", clock.instant());
        clock.advance(Duration.ofHours(1));
        assertThat(store.admit(capped("alice", 0, 2), Optional.empty())).isInstanceOf(Admission.Created.class);
        assertThat(store.admit(capped("alice", 0, 2), Optional.empty())).isEqualTo(new Admission.DailyCapReached(2));
        clock.advance(Duration.ofHours(3)); // the next UTC day
        assertThat(store.admit(capped("alice", 0, 2), Optional.empty())).isInstanceOf(Admission.Created.class);
    }

    @Test
    void anIdempotentReplayIsAnsweredEvenAtTheCap() {
        IdempotencyKey key = new IdempotencyKey("order-1", "body");
        NewTask first = capped("alice", 1, 0);
        assertThat(store.admit(first, Optional.of(key))).isEqualTo(new Admission.Created(first.id()));
        assertThat(store.admit(capped("alice", 1, 0), Optional.of(key))).isEqualTo(new Admission.Replayed(first.id()));
    }

    @Test
    void aSubmitRefusedAtItsCapLeavesNoIdempotencyRecordBehind() {
        IdempotencyKey key = new IdempotencyKey("order-2", "body");
        NewTask waiting = capped("alice", 1, 0);
        assertThat(store.admit(waiting, Optional.empty())).isInstanceOf(Admission.Created.class);
        assertThat(store.admit(capped("alice", 1, 0), Optional.of(key))).isEqualTo(new Admission.QueueCapReached(1));
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow(); // a place frees up
        NewTask retried = capped("alice", 1, 0);
        assertThat(store.admit(retried, Optional.of(key))).isEqualTo(new Admission.Created(retried.id()));
        assertThat(store.find(retried.id())).isPresent();
    }

    @Test
    void aTaskMayBeClaimedOnlyByAnEngineItIsAllowed() {
        String id = UUID.randomUUID().toString();
        store.insert(new NewTask(id, "alice", new TaskSpec("a cat", "", 512, 512, false, 42, OptionalInt.empty()), 3,
                clock.instant(), NewTask.Caps.NONE, List.of("gpu-a", "gpu-b")));
        assertThat(store.claim("w1", "preview", clock.instant(), LEASE)).isEmpty();
        assertThat(store.claim("w1", "gpu", clock.instant(), LEASE)).isEmpty(); // a name is matched whole
        assertThat(store.claim("w1", "gpu-b", clock.instant(), LEASE).orElseThrow().id()).isEqualTo(id);
    }

    private String enqueueEdit(String owner) {
        String id = UUID.randomUUID().toString();
        store.insert(new NewTask(id, owner, new TaskSpec("make the sky purple", "", 1184, 880, false, 7, OptionalInt.empty(),
                dev.qwenimage.image.ImageType.PNG, Optional.empty(), dev.qwenimage.engine.TaskKind.EDIT,
                Optional.of(TaskService.inputKey(id))), 3, clock.instant()));
        clock.advance(Duration.ofMillis(1));
        return id;
    }

    @Test
    void anEditIsStoredWithItsKindAndInputAndClaimedOnlyByAnEngineThatEdits() {
        String edit = enqueueEdit("alice");

        // the edit is read back as it was made
        Task stored = store.find(edit).orElseThrow();
        assertThat(stored.spec().kind()).isEqualTo(dev.qwenimage.engine.TaskKind.EDIT);
        assertThat(stored.spec().inputKey()).contains(edit + ".input.png");
        assertThat(stored.spec().imageType()).isEqualTo(dev.qwenimage.image.ImageType.PNG);

        // an engine that draws from text only is not given it, even as the only task waiting
        assertThat(store.claim("w1", "gpu-text", dev.qwenimage.engine.TaskKind.TEXT_ONLY, clock.instant(), LEASE, Duration.ZERO))
                .isEmpty();
        String text = enqueue("bob");
        assertThat(store.claim("w1", "gpu-text", dev.qwenimage.engine.TaskKind.TEXT_ONLY, clock.instant(), LEASE, Duration.ZERO)
                .orElseThrow().id()).isEqualTo(text);
        // an engine that edits is
        assertThat(store.claim("w2", "gpu-edit", java.util.EnumSet.of(dev.qwenimage.engine.TaskKind.EDIT), clock.instant(), LEASE,
                Duration.ZERO).orElseThrow().id()).isEqualTo(edit);
    }

    @Test
    void usageCountsEditsApartAndRetentionDeletesAnEditsInputWithItsImage() {
        String edit = enqueueEdit("alice");
        enqueue("alice");
        String first = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow().id();
        assertThat(first).as("claimed in the order of arrival, whatever the kind").isEqualTo(edit);
        clock.advance(Duration.ofSeconds(3));
        assertThat(store.succeed(first, "w1", first + ".jpeg", Optional.empty(), 3000, clock.instant())).isTrue();
        Task second = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        clock.advance(Duration.ofSeconds(2));
        assertThat(store.succeed(second.id(), "w1", second.id() + ".png", Optional.empty(), 2000, clock.instant())).isTrue();

        dev.qwenimage.tenant.UsageRow usage = usageOf("alice");
        assertThat(usage.submitted()).isEqualTo(2);
        assertThat(usage.images()).isEqualTo(2);
        assertThat(usage.engineMillis()).isEqualTo(5000);
        assertThat(usage.edits()).isEqualTo(new dev.qwenimage.tenant.UsageRow.Edits(1, 1, 3000));

        clock.advance(Duration.ofDays(2));
        TaskStore.Purged purged = store.deleteFinishedBefore(clock.instant(), 100);
        assertThat(purged.tasks()).isEqualTo(2);
        assertThat(purged.imageKeys()).containsExactlyInAnyOrder(edit + ".input.png", edit + ".jpeg", second.id() + ".png");
    }

    private dev.qwenimage.tenant.UsageRow usageOf(String owner) {
        List<dev.qwenimage.tenant.UsageRow> rows = store.usage(Optional.of(owner), Instant.EPOCH, clock.instant().plusSeconds(86_400));
        return rows.stream().reduce(dev.qwenimage.tenant.UsageRow::plus)
                .orElse(new dev.qwenimage.tenant.UsageRow(owner, Instant.EPOCH, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    void usageCountsEachTaskOnceWhateverRetriesAndRescuesItWentThrough() {
        String ok = enqueue("alice");
        String retried = enqueue("alice");
        String cancelled = enqueue("alice");
        String rescued = enqueue("alice", 1);
        enqueue("bob");

        // ok: runs 2 s and succeeds, flagged NSFW
        Task t = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(t.id()).isEqualTo(ok);
        clock.advance(Duration.ofSeconds(2));
        store.succeed(ok, "w1", "k1", Optional.of(new NsfwVerdict(true, 0.9)), 1500, clock.instant());
        store.succeed(ok, "w1", "k1", Optional.empty(), 1500, clock.instant()); // a second finish changes nothing

        // bob's one task has the same turn as alice's first: it comes next, and fails at once
        Task bob = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(bob.owner()).isEqualTo("bob");
        store.fail(bob.id(), "w1", "bad prompt", clock.instant());

        // retried: fails transiently after 1 s, runs again 3 s and succeeds: 4 s of engine time, one task
        Task r = store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(r.id()).isEqualTo(retried);
        clock.advance(Duration.ofSeconds(1));
        store.retry(retried, "w1", "engine hiccup", clock.instant(), clock.instant());
        Task again = store.claim("w2", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(again.id()).isEqualTo(retried);
        clock.advance(Duration.ofSeconds(3));
        store.succeed(retried, "w2", "k2", Optional.empty(), 3000, clock.instant());

        // cancelled while waiting
        assertThat(store.cancel(cancelled, clock.instant())).isEqualTo(CancelOutcome.CANCELLED);

        // rescued: its worker dies 5 s in; the lease (30 s) runs out and, with no attempts left, it fails
        Task dying = store.claim("w3", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(dying.id()).isEqualTo(rescued);
        clock.advance(LEASE.plusSeconds(10));
        store.rescueExpired(clock.instant(), "worker lost", clock.instant());
        store.rescueExpired(clock.instant(), "worker lost", clock.instant());

        dev.qwenimage.tenant.UsageRow alice = usageOf("alice");
        assertThat(alice.submitted()).isEqualTo(4);
        assertThat(alice.succeeded()).isEqualTo(2);
        assertThat(alice.images()).isEqualTo(2);
        assertThat(alice.pixels()).isEqualTo(2L * 512 * 512);
        assertThat(alice.cancelled()).isEqualTo(1);
        assertThat(alice.failed()).isEqualTo(1);
        assertThat(alice.nsfwFlagged()).isEqualTo(1);
        // 2 s + 1 s + 3 s run, and the rescued attempt up to its lease's end: 30 s
        assertThat(alice.engineMillis()).isEqualTo(36_000);

        dev.qwenimage.tenant.UsageRow bobs = usageOf("bob");
        assertThat(bobs.submitted()).isEqualTo(1);
        assertThat(bobs.failed()).isEqualTo(1);
        assertThat(bobs.succeeded()).isZero();
    }

    @Test
    void usageIsKeptPerHourAndAskedForByRange() {
        String a = enqueue("alice");
        clock.advance(Duration.ofHours(1));
        String b = enqueue("alice");
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        List<dev.qwenimage.tenant.UsageRow> rows = store.usage(Optional.empty(), start, start.plus(Duration.ofDays(1)));
        assertThat(rows).extracting(dev.qwenimage.tenant.UsageRow::period)
                .containsExactly(start, start.plus(Duration.ofHours(1)));
        assertThat(store.usage(Optional.of("alice"), start.plus(Duration.ofHours(1)), start.plus(Duration.ofHours(2))))
                .extracting(dev.qwenimage.tenant.UsageRow::submitted).containsExactly(1L);
        assertThat(store.usage(Optional.of("bob"), start, start.plus(Duration.ofDays(1)))).isEmpty();
        assertThat(a).isNotEqualTo(b);
    }
}
