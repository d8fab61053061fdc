package dev.qwenimage.task.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.task.LaneReport;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.TaskStoreContract;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The PostgreSQL store passes the same contract as the embedded one, plus what only many nodes need. */
class PostgresTaskStoreTest extends TaskStoreContract {
    private final List<LocalPostgres> schemas = new ArrayList<>();
    private final List<TaskStore> extra = new ArrayList<>();

    @Override
    protected TaskStore newStore() {
        LocalPostgres pg = LocalPostgres.freshSchema();
        schemas.add(pg);
        return PostgresTaskStore.open(pg.url(), "", "", 8);
    }

    private TaskStore secondNodeOnTheSameSchema() {
        TaskStore other = PostgresTaskStore.open(schemas.getFirst().url(), "", "", 8);
        extra.add(other);
        return other;
    }

    @AfterEach
    void dropSchemas() {
        extra.forEach(TaskStore::close);
        store.close();
        schemas.forEach(LocalPostgres::close);
    }

    /** The progress a poll through node A shows of a task node B runs, waiting at most {@code millis}. */
    private static int progressSeenWithin(TaskStore node, String id, int expected, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        int seen = -1;
        while (System.nanoTime() < deadline) {
            if (node.find(id).orElseThrow().state() instanceof dev.qwenimage.task.TaskState.Processing p) {
                seen = p.progressPercent();
                if (seen == expected) {
                    return seen;
                }
            }
            Thread.sleep(10);
        }
        return seen;
    }

    @Test
    void pollsOfARunningTaskComeFromMemoryAndShowAnotherNodesProgressWithinASecond() throws Exception {
        TaskStore worker = secondNodeOnTheSameSchema();
        String id = enqueue("alice");
        worker.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(store.find("alice", id)).isPresent(); // the first poll reads the row
        TaskStore.Reads start = store.reads();
        for (int i = 0; i < 50; i++) {
            assertThat(store.find("alice", id)).isPresent();
        }
        TaskStore.Reads polls = store.reads().minus(start);
        assertThat(polls).as("50 polls of a running task, none a database read").isEqualTo(new TaskStore.Reads(50, 0));

        worker.updateProgress(id, "w1", 40);
        assertThat(progressSeenWithin(store, id, 40, 1000)).as("the other node's progress, within a second").isEqualTo(40);
        worker.updateProgress(id, "w1", 85);
        assertThat(progressSeenWithin(store, id, 85, 1000)).isEqualTo(85);
        assertThat(store.reads().minus(start).database()).as("the copies were refreshed in bulk, not read per poll").isZero();

        assertThat(worker.succeed(id, "w1", "k.jpeg", 10, clock.instant())).isTrue();
        long deadline = System.nanoTime() + 1_000_000_000L;
        while (!store.find(id).orElseThrow().state().isFinished() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(store.find(id).orElseThrow().state()).isInstanceOf(dev.qwenimage.task.TaskState.Succeeded.class);
    }

    @Test
    void aNodesOwnChangesShowAtOnceThoughItsPollsComeFromMemory() {
        String id = enqueue("alice");
        assertThat(store.find("alice", id).orElseThrow().state()).isInstanceOf(dev.qwenimage.task.TaskState.Queued.class);
        assertThat(store.find("alice", id).orElseThrow().state()).isInstanceOf(dev.qwenimage.task.TaskState.Queued.class);
        store.claim("w1", "preview", clock.instant(), LEASE).orElseThrow();
        assertThat(store.find("alice", id).orElseThrow().state()).isInstanceOf(dev.qwenimage.task.TaskState.Processing.class);
        store.updateProgress(id, "w1", 30);
        assertThat(((dev.qwenimage.task.TaskState.Processing) store.find("alice", id).orElseThrow().state()).progressPercent())
                .isEqualTo(30);

        String queued = enqueue("alice");
        assertThat(store.find("alice", queued)).isPresent();
        store.cancel(queued, clock.instant());
        assertThat(store.find("alice", queued).orElseThrow().state().isFinished()).as("cancelled here: seen at once").isTrue();
    }

    @Test
    void aCopyInMemoryIsNeverShownToAnotherKey() {
        String id = enqueue("alice");
        assertThat(store.find("alice", id)).isPresent();
        TaskStore.Reads start = store.reads();
        assertThat(store.find("bob", id)).isEmpty();
        assertThat(store.reads().minus(start)).as("the read an unknown id gets").isEqualTo(new TaskStore.Reads(0, 1));
    }

    /** PostgreSQL's plan for the claim's choice of task, as EXPLAIN prints it. */
    private String claimPlan() throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(schemas.getFirst().url());
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("""
                     EXPLAIN SELECT seq FROM tasks WHERE state = 'QUEUED' AND available_at <= 9999999999999
                       AND (allowed_engines IS NULL OR position(',gpu,' in ',' || allowed_engines || ',') > 0)
                       AND position(',' || kind || ',' in ',txt2img,edit,') > 0
                     ORDER BY turn, seq LIMIT 1 FOR UPDATE SKIP LOCKED""")) {
            StringBuilder plan = new StringBuilder();
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
            return plan.toString();
        }
    }

    @Test
    void afterABurstOfSubmitsClaimsTakeTheHeadOfTheQueueIndexInsteadOfSortingTheQueue() throws Exception {
        // statistics taken while the queue was empty: left alone, the planner sorts every queued row per claim
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(schemas.getFirst().url());
             java.sql.Statement st = c.createStatement()) {
            st.execute("ANALYZE tasks");
        }
        for (int i = 0; i < 2500; i++) {
            enqueue("key-" + (i % 3));
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        String plan = claimPlan();
        while (!plan.contains("Index Scan using tasks_queue") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            plan = claimPlan();
        }
        assertThat(plan).as("the claim's plan once 2,500 tasks wait").contains("Index Scan using tasks_queue").doesNotContain("Sort");
    }

    @Test
    void oneKeySubmittingThroughTwoNodesAtOnceGetsADistinctTurnForEveryTask() throws Exception {
        TaskStore nodeB = secondNodeOnTheSameSchema();
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> senders = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            TaskStore node = s % 2 == 0 ? store : nodeB;
            senders.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 25; i++) {
                    String id = java.util.UUID.randomUUID().toString();
                    node.insert(new dev.qwenimage.task.NewTask(id, "heavy", new dev.qwenimage.task.TaskSpec("a cat", "", 512, 512,
                            false, 42, java.util.OptionalInt.empty()), 3, clock.instant()));
                    ids.add(id);
                }
            }));
        }
        for (Thread t : senders) {
            t.join();
        }
        List<Long> turns = ids.stream().map(id -> store.find(id).orElseThrow().turn()).sorted().toList();
        assertThat(turns).as("one turn each, none skipped").isEqualTo(java.util.stream.LongStream.rangeClosed(1, 300).boxed().toList());
    }

    @Test
    void aSubmitPostgreSqlRefusesFailsAloneAndTheSubmitsAdmittedBesideItAreStored() throws Exception {
        // a NUL character is text PostgreSQL cannot store: that submit's statement fails, and with it
        // the transaction of any batch it joined; the others of that batch must still be stored
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.FutureTask<dev.qwenimage.task.Admission>> submits = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            String prompt = i == 7 ? "a cat\u0000" : "a cat " + i;
            NewTask t = new NewTask(UUID.randomUUID().toString(), "mixed", new TaskSpec(prompt, "", 512, 512, false, i,
                    OptionalInt.empty()), 3, clock.instant());
            var f = new java.util.concurrent.FutureTask<>(() -> {
                go.await();
                return store.admit(t, java.util.Optional.empty());
            });
            submits.add(f);
            Thread.ofPlatform().start(f);
        }
        go.countDown();
        int failed = 0;
        for (int i = 0; i < submits.size(); i++) {
            try {
                assertThat(submits.get(i).get()).isInstanceOf(dev.qwenimage.task.Admission.Created.class);
                assertThat(i).isNotEqualTo(7);
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(i).as("the submit that failed").isEqualTo(7);
                assertThat(e.getCause()).isInstanceOf(dev.qwenimage.task.StoreException.class);
                assertThat(((dev.qwenimage.task.StoreException) e.getCause()).unavailable()).isFalse();
                failed++;
            }
        }
        assertThat(failed).isEqualTo(1);
        assertThat(store.queuedCount("mixed", 100)).isEqualTo(31);
        // and the turns of the stored ones have no gap
        List<Long> turns = new ArrayList<>();
        while (true) {
            var t = store.claim("w", "preview", clock.instant(), LEASE);
            if (t.isEmpty()) {
                break;
            }
            turns.add(t.get().turn());
        }
        assertThat(turns).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 31).boxed().toList());
    }

    @Test
    void capsHoldExactlyWhenTwoNodesAdmitOneOwnersSubmitsAtOnce() throws Exception {
        TaskStore nodeB = secondNodeOnTheSameSchema();
        NewTask.Caps caps = new NewTask.Caps(10, 12, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.DAYS));
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.FutureTask<dev.qwenimage.task.Admission>> submits = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            TaskStore node = i % 2 == 0 ? store : nodeB;
            NewTask t = new NewTask(UUID.randomUUID().toString(), "capped", new TaskSpec("a cat " + i, "", 512, 512, false, i,
                    OptionalInt.empty()), 3, clock.instant(), caps, List.of());
            var f = new java.util.concurrent.FutureTask<>(() -> {
                go.await();
                return node.admit(t, java.util.Optional.empty());
            });
            submits.add(f);
            Thread.ofPlatform().start(f);
        }
        go.countDown();
        List<dev.qwenimage.task.Admission> out = new ArrayList<>();
        for (var f : submits) {
            out.add(f.get());
        }
        assertThat(out.stream().filter(a -> a instanceof dev.qwenimage.task.Admission.Created)).hasSize(10);
        assertThat(out.stream().filter(a -> !(a instanceof dev.qwenimage.task.Admission.Created)))
                .containsOnly(new dev.qwenimage.task.Admission.QueueCapReached(10));
        // three start (seven wait); of three more submits, two fit in the daily quota of 12, the third does not
        store.claim("w", "preview", clock.instant(), LEASE).orElseThrow();
        store.claim("w", "preview", clock.instant(), LEASE).orElseThrow();
        store.claim("w", "preview", clock.instant(), LEASE).orElseThrow();
        List<dev.qwenimage.task.Admission> later = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            later.add((i % 2 == 0 ? store : nodeB).admit(new NewTask(UUID.randomUUID().toString(), "capped", new TaskSpec("late",
                    "", 512, 512, false, i, OptionalInt.empty()), 3, clock.instant(), caps, List.of()), java.util.Optional.empty()));
        }
        assertThat(later.subList(0, 2)).allSatisfy(a -> assertThat(a).isInstanceOf(dev.qwenimage.task.Admission.Created.class));
        assertThat(later.get(2)).isEqualTo(new dev.qwenimage.task.Admission.DailyCapReached(12));
    }

    @Test
    void turnCountersLostInACrashAreRebuiltFromTheQueuedTasks() throws Exception {
        for (int i = 0; i < 5; i++) {
            enqueue("heavy");
        }
        // owner_turns is UNLOGGED: PostgreSQL empties it after a crash
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(schemas.getFirst().url());
             java.sql.Statement st = c.createStatement()) {
            st.execute("TRUNCATE owner_turns");
        }
        String sixth = enqueue("heavy");
        String light = enqueue("light");

        assertThat(store.find(sixth).orElseThrow().turn()).as("after the five queued, not beside the first").isEqualTo(6);
        assertThat(store.claim("w", "gpu", clock.instant(), LEASE).orElseThrow().owner()).isEqualTo("heavy");
        assertThat(store.claim("w", "gpu", clock.instant(), LEASE).map(t -> t.id())).hasValue(light);
    }

    @Test
    void concurrentClaimsFromManyNodesNeverTakeTheSameTask() throws Exception {
        for (int i = 0; i < 200; i++) {
            enqueue("k" + (i % 3));
        }
        TaskStore nodeB = secondNodeOnTheSameSchema();
        Set<String> claimed = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            TaskStore s = w % 2 == 0 ? store : nodeB;
            String worker = "w" + w;
            workers.add(Thread.ofVirtual().start(() -> {
                while (true) {
                    var t = s.claim(worker, "gpu", clock.instant(), LEASE);
                    if (t.isEmpty()) {
                        return;
                    }
                    if (!claimed.add(t.get().id())) {
                        duplicates.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        assertThat(duplicates).hasValue(0);
        assertThat(claimed).hasSize(200);
    }

    @Test
    void anInsertOnOneNodeWakesIdleWorkersOnAnother() throws Exception {
        TaskStore nodeB = secondNodeOnTheSameSchema();
        long seen = nodeB.signal().generation();
        store.insert(new NewTask(UUID.randomUUID().toString(), "a",
                new TaskSpec("wake", "", 512, 512, false, 1, OptionalInt.empty()), 3, clock.instant()));
        // LISTEN/NOTIFY: node B's signal changes well before its fallback poll would have found the task
        nodeB.signal().awaitChange(seen, Duration.ofSeconds(5));
        assertThat(nodeB.signal().generation()).isNotEqualTo(seen);
        assertThat(nodeB.claim("wB", "gpu", clock.instant(), LEASE).map(Task::owner)).hasValue("a");
    }

    @Test
    void workerNodesPublishTheirLanesAndStaleReportsAreIgnored() {
        PostgresTaskStore pg = (PostgresTaskStore) store;
        Instant now = Instant.now();
        pg.publish("node-1", List.of(new LaneReport("node-1", "comfyui", "up", 2, 1, 0, 20, 1.5, 0.2, "ComfyUI", "", now)));
        pg.publish("node-2", List.of(new LaneReport("node-2", "sdcpp", "down", 1, 0, 0, 20, 3.0, 0.2, "sd-server",
                "connection refused", now.minusSeconds(120))));
        assertThat(pg.lanes(now.minusSeconds(30))).extracting(LaneReport::workerId, LaneReport::engine)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("node-1", "comfyui"));
        pg.publish("node-1", List.of());
        assertThat(pg.lanes(now.minusSeconds(30))).isEmpty();
    }

    /**
     * A database that turns read-only under the store (a fail-over to a standby, simulated with a
     * role whose sessions are read-only and its connections cut) marks writes failing; once it takes
     * writes again, the next write succeeds and the store reports healthy again, with no restart.
     */
    @Test
    void writesToADatabaseThatTurnedReadOnlyFailUntilItTakesWritesAgain() throws Exception {
        String role = "qwen_ro_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String app = "qwen-fault-" + role;
        LocalPostgres pg = LocalPostgres.freshSchema();
        schemas.add(pg);
        admin("CREATE ROLE " + role + " LOGIN", "GRANT CREATE ON DATABASE test TO " + role);
        try {
            String url = pg.url().replace("user=postgres", "user=" + role) + "&ApplicationName=" + app;
            try (TaskStore s = PostgresTaskStore.open(url, "", "", 4)) {
                insertInto(s);
                assertThat(s.writeHealth().ok()).isTrue();

                admin("ALTER ROLE " + role + " SET default_transaction_read_only = on", cut(app));
                for (int i = 0; i < 5; i++) {
                    try {
                        insertInto(s);
                    } catch (dev.qwenimage.task.StoreException expected) {
                        // a cut connection, then read-only sessions
                    }
                }
                assertThat(s.writeHealth().ok()).isFalse();
                assertThat(s.writeHealth().status().lastError()).contains("read-only");

                admin("ALTER ROLE " + role + " RESET default_transaction_read_only", cut(app));
                String after = null;
                for (int i = 0; i < 5 && after == null; i++) {
                    try {
                        after = insertInto(s);
                    } catch (dev.qwenimage.task.StoreException cutConnection) {
                        // a pooled connection cut above; the pool replaces it
                    }
                }
                assertThat(after).isNotNull();
                assertThat(s.find(after)).isPresent();
                assertThat(s.writeHealth().ok()).isTrue();
            }
        } finally {
            pg.close();
            admin("DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    private static String cut(String applicationName) {
        return "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + applicationName + "'";
    }

    private static void admin(String... statements) throws java.sql.SQLException {
        try (var c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
             var st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    private String insertInto(TaskStore s) {
        String id = UUID.randomUUID().toString();
        s.insert(new NewTask(id, "a", new TaskSpec("a cat", "", 256, 256, false, 7, OptionalInt.empty()), 3, clock.instant()));
        return id;
    }
}
