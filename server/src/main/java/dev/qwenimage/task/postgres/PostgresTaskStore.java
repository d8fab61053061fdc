package dev.qwenimage.task.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.qwenimage.config.Redaction;
import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.safety.NsfwVerdict;
import dev.qwenimage.task.LaneRegistry;
import dev.qwenimage.task.LaneReport;
import dev.qwenimage.task.Admission;
import dev.qwenimage.task.CancelOutcome;
import dev.qwenimage.task.IdempotencyKey;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.QueueSignal;
import dev.qwenimage.task.QueueStats;
import dev.qwenimage.task.Rescue;
import dev.qwenimage.task.StoreException;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskRows;
import dev.qwenimage.task.TaskSql;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.tenant.ApiKey;
import dev.qwenimage.tenant.KeyRows;
import dev.qwenimage.tenant.UsageRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import dev.qwenimage.engine.TaskKind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.flywaydb.core.Flyway;

/**
 * The task store shared by many api and worker nodes: PostgreSQL through a HikariCP pool. Claims
 * lock the next task with {@code FOR UPDATE SKIP LOCKED}, so concurrent workers never wait on
 * each other nor take the same task; idle workers on every node are woken through
 * {@code LISTEN/NOTIFY} ({@link PgWakeups}), with the workers' slow poll only as a fallback.
 * Every method is one short autocommit statement or transaction; a node's concurrent submits of
 * one key share one ({@link AdmissionBatcher}), which takes their fair-queueing turns from a
 * per-key counter and checks the key's caps. Reads of tasks are cached: finished tasks, which never
 * change, and the queued and running tasks being polled, read back in bulk a few times a second
 * ({@link LiveTasks}), so that a poll is not a database read.
 */
public final class PostgresTaskStore implements TaskStore, LaneRegistry {
    private static final Pattern SCHEMA = Pattern.compile("[?&]currentSchema=([A-Za-z_][A-Za-z0-9_]*)");
    private final TaskSql sql = new TaskSql(TaskSql.Dialect.POSTGRES);
    private final AdmissionBatcher admissions = new AdmissionBatcher(this::admitAll);

    private final HikariDataSource pool;
    private final PgWakeups wakeups;
    private final QueueSignal signal = new QueueSignal();
    /** Finished tasks: immutable until retention deletes them, so polls of done tasks skip the database. */
    private final Cache<String, Task> finished = Caffeine.newBuilder()
            .maximumSize(50_000).expireAfterWrite(Duration.ofMinutes(1)).build();
    /**
     * Queued and running tasks being polled through this node: read back in bulk every 250 ms, a
     * poll answered from a copy at most a second old (see {@link LiveTasks}).
     */
    private final LiveTasks live = new LiveTasks(this::findAll, t -> finished.put(t.id(), t), 250, 1000, 10_000, 100_000);
    /** ANALYZE after a burst of submits, so that claims keep reading the queue index in order. */
    private final PlannerStatistics statistics = new PlannerStatistics(() -> update("ANALYZE tasks"), 2000, 10_000, System::nanoTime);
    private final java.util.concurrent.atomic.LongAdder cacheHits = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder databaseReads = new java.util.concurrent.atomic.LongAdder();

    private final WriteHealth health;

    private PostgresTaskStore(HikariDataSource pool, PgWakeups.Connector connector, String channel, WriteHealth health) {
        this.pool = pool;
        this.health = health;
        this.wakeups = new PgWakeups(connector, channel, signal);
    }

    /**
     * Connects to {@code jdbcUrl} (a {@code currentSchema=} parameter selects, and creates, the
     * schema), migrates it, and starts listening for wake-ups.
     */
    public static PostgresTaskStore open(String jdbcUrl, String user, String password, int poolSize) {
        return open(jdbcUrl, user, password, poolSize, new WriteHealth("task store", java.time.Clock.systemUTC()));
    }

    /** As {@link #open(String, String, String, int)}, telling {@code health} how every write went. */
    public static PostgresTaskStore open(String jdbcUrl, String user, String password, int poolSize, WriteHealth health) {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(jdbcUrl);
        if (!user.isBlank()) {
            cfg.setUsername(user);
        }
        if (!password.isBlank()) {
            cfg.setPassword(password);
        }
        cfg.setPoolName("postgres-tasks");
        cfg.setMaximumPoolSize(poolSize);
        cfg.setMinimumIdle(Math.min(2, poolSize));
        cfg.setAutoCommit(true);
        cfg.setConnectionTimeout(10_000);
        cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(cfg);
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to PostgreSQL at " + Redaction.text(jdbcUrl) + ": " + rootMessage(e), e);
        }
        try {
            Matcher m = SCHEMA.matcher(jdbcUrl);
            var flyway = Flyway.configure().dataSource(pool).locations("classpath:db/postgres");
            if (m.find()) {
                flyway.schemas(m.group(1)).createSchemas(true);
            }
            flyway.load().migrate();
            // one channel per schema, so that stores in other schemas of the same database stay apart
            String channel = "qwen_image_tasks" + (m.find(0) ? "_" + m.group(1).toLowerCase(java.util.Locale.ROOT) : "");
            return new PostgresTaskStore(pool, () -> {
                java.util.Properties p = new java.util.Properties();
                if (!user.isBlank()) {
                    p.setProperty("user", user);
                }
                if (!password.isBlank()) {
                    p.setProperty("password", password);
                }
                return java.sql.DriverManager.getConnection(jdbcUrl, p);
            }, channel, health);
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot prepare the task tables in PostgreSQL at " + Redaction.text(jdbcUrl) + ": "
                    + rootMessage(e), e);
        }
    }

    @Override
    public Admission admit(NewTask t, Optional<IdempotencyKey> key) {
        return admissions.admit(new AdmissionBatcher.Submit(t, key));
    }

    /**
     * Admits submits of one owner (no idempotency key twice) in one transaction: their keys'
     * rows, the owner's advisory lock when one of them is capped (every node's submits of the
     * owner take turns on it until commit, so the counts are exact), the counts, once, then the
     * turns and the inserts of those under their caps, in order.
     */
    private List<Admission> admitAll(List<AdmissionBatcher.Submit> batch) {
        String owner = batch.getFirst().task().owner();
        List<Admission> outcomes = transaction(c -> {
            Admission[] out = new Admission[batch.size()];
            // the keys' rows first, in key order: a concurrent submit with the same key (on any node) waits on
            // its row, then sees it; two batches never wait on each other's rows, and never for a key while
            // holding the lock below
            List<Integer> keyed = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                if (batch.get(i).key().isPresent()) {
                    keyed.add(i);
                }
            }
            keyed.sort(java.util.Comparator.comparing(i -> batch.get(i).key().get().key()));
            for (int i : keyed) {
                out[i] = claimKey(c, batch.get(i).task(), batch.get(i).key().get()).orElse(null);
            }
            Counts counts = Counts.count(c, owner, batch, out);
            List<Integer> accepted = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                if (out[i] == null) {
                    NewTask t = batch.get(i).task();
                    out[i] = counts.refusal(t).orElseGet(() -> new Admission.Created(t.id()));
                    if (out[i] instanceof Admission.Created) {
                        counts.accepted(t);
                        accepted.add(i);
                    }
                }
            }
            // a refused submit leaves its key free for the retry, as if it had never come
            for (int i : keyed) {
                if (out[i] instanceof Admission.QueueCapReached || out[i] instanceof Admission.DailyCapReached) {
                    update(c, "DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND task_id = ?", owner,
                            batch.get(i).key().get().key(), batch.get(i).task().id());
                }
            }
            if (!accepted.isEmpty()) {
                long turn = reserveTurns(c, owner, accepted.size()) - accepted.size() + 1;
                try (PreparedStatement ps = c.prepareStatement(sql.insert)) {
                    for (int i : accepted) {
                        TaskSql.bindInsert(ps, batch.get(i).task(), turn++);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            return List.of(out);
        });
        int created = (int) outcomes.stream().filter(a -> a instanceof Admission.Created).count();
        if (created > 0) {
            workAvailable();
            statistics.admitted(created);
        }
        return outcomes;
    }

    /**
     * Takes {@code key} for {@code t}: empty when it is new (or its record expired), else what the
     * earlier submit with it says: the same body replays its task, another is refused.
     */
    private static Optional<Admission> claimKey(Connection c, NewTask t, IdempotencyKey key) throws SQLException {
        try (PreparedStatement k = c.prepareStatement("""
                INSERT INTO idempotency_keys (owner, key, body_hash, task_id, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (owner, key) DO UPDATE
                    SET body_hash = EXCLUDED.body_hash, task_id = EXCLUDED.task_id, created_at = EXCLUDED.created_at
                    WHERE idempotency_keys.created_at < ?
                RETURNING task_id""")) {
            k.setString(1, t.owner());
            k.setString(2, key.key());
            k.setString(3, key.bodyDigest());
            k.setString(4, t.id());
            k.setLong(5, t.createdAt().toEpochMilli());
            k.setLong(6, t.createdAt().minus(IdempotencyKey.TTL).toEpochMilli());
            try (ResultSet rs = k.executeQuery()) {
                if (rs.next()) {
                    return Optional.empty();
                }
            }
        }
        try (PreparedStatement q = c.prepareStatement(TaskSql.FIND_IDEMPOTENCY_KEY)) {
            q.setString(1, t.owner());
            q.setString(2, key.key());
            try (ResultSet e = q.executeQuery()) {
                e.next();
                return Optional.of(e.getString(1).equals(key.bodyDigest())
                        ? new Admission.Replayed(e.getString(2)) : new Admission.KeyReused(e.getString(2)));
            }
        }
    }

    /** Reserves {@code count} consecutive fair-queueing turns of {@code owner}; the last of them. */
    private static long reserveTurns(Connection c, String owner, int count) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(TaskSql.RESERVE_TURNS)) {
            ps.setString(1, owner);
            ps.setString(2, owner);
            ps.setInt(3, count);
            ps.setInt(4, count);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * An owner's queued tasks and tasks accepted per day, counted once for a batch under the
     * owner's advisory lock and kept up to date as the batch's submits are accepted.
     */
    private static final class Counts {
        private long queued;
        /** Tasks accepted since each day start a capped submit of the batch asks about. */
        private final java.util.Map<Instant, Long> since = new java.util.HashMap<>();

        static Counts count(Connection c, String owner, List<AdmissionBatcher.Submit> batch, Admission[] decided) throws SQLException {
            Counts caps = new Counts();
            long maxQueued = 0;
            boolean capped = false;
            for (int i = 0; i < batch.size(); i++) {
                NewTask.Caps k = batch.get(i).task().caps();
                if (decided[i] == null && (k.maxQueued() > 0 || k.perDay() > 0)) {
                    capped = true;
                    maxQueued = Math.max(maxQueued, k.maxQueued());
                    if (k.perDay() > 0) {
                        caps.since.put(k.dayStart(), 0L);
                    }
                }
            }
            if (!capped) {
                return caps;
            }
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 1107))")) {
                lock.setString(1, owner);
                lock.execute();
            }
            // counted at most up to the largest cap asked about: a count that reaches it refuses every capped submit
            if (maxQueued > 0) {
                caps.queued = TaskSql.queuedCount(c, owner, maxQueued);
            }
            for (Instant dayStart : List.copyOf(caps.since.keySet())) {
                caps.since.put(dayStart, TaskSql.acceptedSince(c, owner, dayStart));
            }
            return caps;
        }

        Optional<Admission> refusal(NewTask t) {
            NewTask.Caps k = t.caps();
            if (k.maxQueued() > 0 && queued >= k.maxQueued()) {
                return Optional.of(new Admission.QueueCapReached(k.maxQueued()));
            }
            if (k.perDay() > 0 && since.get(k.dayStart()) >= k.perDay()) {
                return Optional.of(new Admission.DailyCapReached(k.perDay()));
            }
            return Optional.empty();
        }

        void accepted(NewTask t) {
            queued++;
            since.replaceAll((dayStart, n) -> t.createdAt().isBefore(dayStart) ? n : n + 1);
        }
    }

    // ---- keys and usage -------------------------------------------------------------------------

    @Override
    public void createKey(ApiKey key) {
        try {
            transaction(c -> {
                try (PreparedStatement ps = c.prepareStatement(KeyRows.INSERT)) {
                    KeyRows.bindInsert(ps, key);
                    ps.executeUpdate();
                }
                return announceKeys(c);
            });
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException se && "23505".equals(se.getSQLState())) {
                throw new KeyConflict("an API key with id " + key.id() + " or the same secret exists already", e);
            }
            throw e;
        }
    }

    @Override
    public List<ApiKey> keys() {
        return read(KeyRows::all);
    }

    @Override
    public Optional<ApiKey> key(String id) {
        return read(c -> KeyRows.one(c, id));
    }

    @Override
    public boolean updateKeySettings(ApiKey key) {
        return keyWrite(KeyRows.UPDATE_SETTINGS, ps -> KeyRows.bindSettings(ps, key));
    }

    @Override
    public boolean revokeKey(String id, Instant at) {
        return keyWrite(KeyRows.REVOKE, ps -> KeyRows.bindRevoke(ps, id, at));
    }

    @Override
    public boolean rotateKey(ApiKey rotated, String expectedSha256) {
        return keyWrite(KeyRows.ROTATE, ps -> KeyRows.bindRotation(ps, rotated, expectedSha256));
    }

    /** One UPDATE of a key, announced to every node when it changed a row. */
    private boolean keyWrite(String sql, KeyRows.Binder bind) {
        return transaction(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                bind.bind(ps);
                n = ps.executeUpdate();
            }
            if (n > 0) {
                announceKeys(c);
            }
            return n == 1;
        });
    }

    /** Every node, this one included, reloads its keys when the transaction commits (LISTEN/NOTIFY). */
    private int announceKeys(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
            ps.setString(1, wakeups.keysChannel());
            ps.execute();
        }
        return 1;
    }

    @Override
    public void onKeysChanged(Runnable listener) {
        wakeups.onKeysChanged(listener);
    }

    @Override
    public List<UsageRow> usage(Optional<String> owner, Instant from, Instant to) {
        return read(c -> KeyRows.usage(c, owner, from, to));
    }

    @Override
    public CancelOutcome cancel(String id, Instant now) {
        try {
            return cancelNow(id, now);
        } finally {
            live.forget(id); // after the commit: a read begun before it cannot put back what it saw
        }
    }

    private CancelOutcome cancelNow(String id, Instant now) {
        return transaction(c -> {
            if (update(c, TaskSql.CANCEL_QUEUED, now.toEpochMilli(), id) == 1) {
                return CancelOutcome.CANCELLED;
            }
            if (update(c, TaskSql.CANCEL_RUNNING, id) == 1) {
                return CancelOutcome.REQUESTED;
            }
            try (PreparedStatement q = c.prepareStatement(TaskSql.EXISTS)) {
                q.setString(1, id);
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() ? CancelOutcome.ALREADY_FINISHED : CancelOutcome.NOT_FOUND;
                }
            }
        });
    }

    @Override
    public int failWaiting(Instant queuedBefore, String reason, Instant now) {
        int failed = update(TaskSql.FAIL_WAITING, reason, now.toEpochMilli(), queuedBefore.toEpochMilli());
        if (failed > 0) {
            live.forgetAll();
        }
        return failed;
    }

    @Override
    public Set<String> cancelRequested(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM tasks WHERE cancel_requested = 1 AND state = 'PROCESSING' AND id = ANY (?)")) {
                ps.setArray(1, c.createArrayOf("text", ids.toArray()));
                Set<String> out = new HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public int forgetIdempotencyKeysBefore(Instant cutoff) {
        return update(TaskSql.FORGET_IDEMPOTENCY_KEYS, cutoff.toEpochMilli());
    }

    // ---- webhook outbox -----------------------------------------------------------------------

    @Override
    public Optional<Delivery> claimDelivery(Instant now, Duration lease) {
        return write(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.claimDelivery)) {
                ps.setLong(1, now.plus(lease).toEpochMilli());
                ps.setLong(2, now.toEpochMilli());
                try (ResultSet rs = ps.executeQuery()) {
                    return TaskSql.delivery(rs);
                }
            }
        });
    }

    @Override
    public void delivered(long id, Instant now) {
        update(TaskSql.DELIVERED, now.toEpochMilli(), id);
    }

    @Override
    public void deliveryFailed(long id, String error, Optional<Instant> retryAt, Instant now) {
        if (retryAt.isPresent()) {
            update(TaskSql.DELIVERY_RETRY, retryAt.get().toEpochMilli(), error, id);
        } else {
            update(TaskSql.DELIVERY_GIVE_UP, now.toEpochMilli(), error, id);
        }
    }

    @Override
    public int forgetDeliveriesBefore(Instant cutoff) {
        return update(TaskSql.FORGET_DELIVERIES, cutoff.toEpochMilli(), cutoff.toEpochMilli());
    }

    @Override
    public Optional<Task> find(String id) {
        Task cached = finished.getIfPresent(id);
        if (cached == null) {
            cached = live.get(id).orElse(null);
        }
        if (cached != null) {
            cacheHits.increment();
            return Optional.of(cached);
        }
        databaseReads.increment();
        long readAt = live.now();
        Optional<Task> task = Optional.ofNullable(read(c -> TaskSql.find(c, id)));
        task.ifPresent(t -> keep(t, readAt));
        return task;
    }

    /** A task just read, for the polls to come: finished ones for good, others as a live copy. */
    private void keep(Task t, long readAt) {
        if (t.state().isFinished()) {
            finished.put(t.id(), t);
        } else {
            live.put(t, readAt);
        }
    }

    /** The rows of those of {@code ids} that exist (the live copies' refresh). */
    private List<Task> findAll(Collection<String> ids) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + TaskRows.COLUMNS + " FROM tasks WHERE id = ANY (?)")) {
                ps.setArray(1, c.createArrayOf("text", ids.toArray()));
                List<Task> out = new ArrayList<>(ids.size());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(TaskRows.toTask(rs));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<Task> find(String owner, String id) {
        Task cached = finished.getIfPresent(id);
        if (cached == null) {
            cached = live.get(id).orElse(null);
        }
        if (cached != null && cached.owner().equals(owner)) {
            cacheHits.increment();
            return Optional.of(cached);
        }
        // another owner's task, cached or not, gets the read an unknown id gets: one that finds no row
        databaseReads.increment();
        long readAt = live.now();
        Optional<Task> task = Optional.ofNullable(read(c -> TaskSql.findOwned(c, id, owner)));
        task.ifPresent(t -> keep(t, readAt));
        return task;
    }

    @Override
    public Optional<Admission> earlier(String owner, IdempotencyKey key, Instant now) {
        return read(c -> TaskSql.earlier(c, owner, key, now));
    }

    @Override
    public Reads reads() {
        return new Reads(cacheHits.sum(), databaseReads.sum());
    }

    @Override
    public Optional<Task> claim(String worker, String engine, Set<TaskKind> kinds, Instant now, Duration lease,
                                Duration othersFirst) {
        Optional<Task> claimed = write(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.claim)) {
                TaskSql.bindClaim(ps, worker, engine, kinds, now, lease, othersFirst);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(TaskRows.toTask(rs)) : Optional.<Task>empty();
                }
            }
        });
        claimed.ifPresent(t -> live.forget(t.id()));
        return claimed;
    }

    @Override
    public Set<String> renewLeases(String worker, Collection<String> ids, Instant leaseExpiresAt) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return write(c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE tasks SET lease_expires_at = ?
                     WHERE id = ANY (?) AND state = 'PROCESSING' AND lease_owner = ?
                    RETURNING id""")) {
                ps.setLong(1, leaseExpiresAt.toEpochMilli());
                ps.setArray(2, c.createArrayOf("text", ids.toArray()));
                ps.setString(3, worker);
                Set<String> held = new HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        held.add(rs.getString(1));
                    }
                }
                return held;
            }
        });
    }

    @Override
    public void updateProgress(String id, String worker, int percent) {
        update(TaskSql.PROGRESS, percent, id, worker);
        live.forget(id);
    }

    @Override
    public void updateProgress(Collection<Progress> updates) {
        if (updates.isEmpty()) {
            return;
        }
        write(c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE tasks SET progress = u.percent
                      FROM unnest(?::text[], ?::text[], ?::int[]) AS u(id, worker, percent)
                     WHERE tasks.id = u.id AND tasks.state = 'PROCESSING' AND tasks.lease_owner = u.worker""")) {
                ps.setArray(1, c.createArrayOf("text", updates.stream().map(Progress::id).toArray()));
                ps.setArray(2, c.createArrayOf("text", updates.stream().map(Progress::worker).toArray()));
                ps.setArray(3, c.createArrayOf("integer", updates.stream().map(Progress::percent).toArray()));
                return ps.executeUpdate();
            }
        });
        updates.forEach(p -> live.forget(p.id()));
    }

    @Override
    public boolean succeed(String id, String worker, String imageKey, Optional<NsfwVerdict> nsfw, long engineMillis,
                           Instant now) {
        boolean done = update(TaskSql.SUCCEED, TaskSql.succeedArgs(id, worker, imageKey, nsfw, engineMillis, now)) == 1;
        live.forget(id);
        return done;
    }

    @Override
    public boolean fail(String id, String worker, String reason, Instant now) {
        boolean done = update(TaskSql.FAIL, reason, now.toEpochMilli(), now.toEpochMilli(), id, worker) == 1;
        live.forget(id);
        return done;
    }

    @Override
    public boolean retry(String id, String worker, String reason, Instant availableAt, Instant now) {
        int n = update(TaskSql.RETRY, reason, now.toEpochMilli(), availableAt.toEpochMilli(), now.toEpochMilli(), id, worker);
        live.forget(id);
        if (n == 1) {
            workAvailable();
        }
        return n == 1;
    }

    @Override
    public boolean release(String id, String worker, Instant now) {
        int n = update(sql.release, now.toEpochMilli(), now.toEpochMilli(), id, worker);
        live.forget(id);
        if (n == 1) {
            workAvailable();
        }
        return n == 1;
    }

    @Override
    public Rescue rescueExpired(Instant cutoff, String why, Instant now) {
        Rescue rescue = transaction(c -> {
            int failed = update(c, sql.rescueFail, why, now.toEpochMilli(), now.toEpochMilli(), cutoff.toEpochMilli());
            int requeued = update(c, sql.rescueRequeue, now.toEpochMilli(), now.toEpochMilli(), cutoff.toEpochMilli());
            return new Rescue(requeued, failed);
        });
        if (rescue.requeued() + rescue.failed() > 0) {
            live.forgetAll();
        }
        if (rescue.requeued() > 0) {
            workAvailable();
        }
        return rescue;
    }

    @Override
    public Purged deleteFinishedBefore(Instant cutoff, int limit) {
        Purged purged = write(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.deleteFinished)) {
                ps.setLong(1, cutoff.toEpochMilli());
                ps.setInt(2, limit);
                List<String> ids = new ArrayList<>();
                Purged p;
                try (ResultSet rs = ps.executeQuery()) {
                    p = TaskSql.purged(rs, ids);
                }
                finished.invalidateAll(ids);
                return p;
            }
        });
        return purged;
    }

    @Override
    public QueueStats stats() {
        return read(TaskSql::stats);
    }

    @Override
    public long queuedCount(String owner, long limit) {
        return read(c -> TaskSql.queuedCount(c, owner, limit));
    }

    @Override
    public Optional<Instant> nextAvailableAt() {
        return read(TaskSql::nextAvailableAt);
    }

    @Override
    public void probeWrite(String node, Instant now) {
        write(c -> {
            update(c, TaskSql.PROBE_WRITE, node, now.toEpochMilli());
            return update(c, TaskSql.PROBE_FORGET, now.minus(Duration.ofDays(1)).toEpochMilli());
        });
    }

    @Override
    public WriteHealth writeHealth() {
        return health;
    }

    @Override
    public QueueSignal signal() {
        return signal;
    }

    @Override
    public boolean exclusive() {
        return false;
    }

    @Override
    public Optional<LaneRegistry> registry() {
        return Optional.of(this);
    }

    // ---- fleet registry -------------------------------------------------------------------------

    @Override
    public void publish(String workerId, List<LaneReport> lanes) {
        transaction(c -> {
            update(c, "DELETE FROM worker_lanes WHERE worker_id = ?", workerId);
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO worker_lanes (worker_id, engine, state, slots, busy, default_steps, seconds_per_step,
                                              post_seconds, description, last_error, updated_at, finishing, kinds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
                for (LaneReport l : lanes) {
                    ps.setString(1, workerId);
                    ps.setString(2, l.engine());
                    ps.setString(3, l.state());
                    ps.setInt(4, l.slots());
                    ps.setInt(5, l.busy());
                    ps.setInt(6, l.defaultSteps());
                    ps.setDouble(7, l.secondsPerStep());
                    ps.setDouble(8, l.postSeconds());
                    ps.setString(9, l.description());
                    ps.setString(10, l.lastError());
                    ps.setLong(11, l.updatedAt().toEpochMilli());
                    ps.setInt(12, l.finishing());
                    ps.setString(13, TaskKind.codes(l.kinds()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public List<LaneReport> lanes(Instant since) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT worker_id, engine, state, slots, busy, default_steps, seconds_per_step, post_seconds,
                           description, last_error, updated_at, finishing, kinds
                      FROM worker_lanes WHERE updated_at >= ? ORDER BY engine, worker_id""")) {
                ps.setLong(1, since.toEpochMilli());
                List<LaneReport> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LaneReport(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                                rs.getInt(5), rs.getInt(12), rs.getInt(6), rs.getDouble(7), rs.getDouble(8), rs.getString(9),
                                rs.getString(10), Instant.ofEpochMilli(rs.getLong(11)), TaskKind.parseCodes(rs.getString(13))));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public void withdraw(String workerId) {
        update("DELETE FROM worker_lanes WHERE worker_id = ?", workerId);
    }

    @Override
    public void close() {
        live.close();
        wakeups.close();
        pool.close();
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Raised locally at once, and on every other node through NOTIFY (coalesced). */
    private void workAvailable() {
        signal.raise();
        wakeups.notifyOthers();
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T read(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException("task store read failed: " + e.getMessage(), e, isFault(e) || isPoolTimeout(e));
        }
    }

    private <T> T write(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            T result = work.run(c);
            health.succeeded();
            return result;
        } catch (SQLException e) {
            throw writeFailed(e);
        }
    }

    private <T> T transaction(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                health.succeeded();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw writeFailed(e);
        }
    }

    private StoreException writeFailed(SQLException e) {
        boolean fault = isFault(e);
        if (fault) {
            health.failed(e.getMessage());
        }
        return new StoreException("task store write failed: " + e.getMessage(), e, fault || isPoolTimeout(e));
    }

    /**
     * Whether {@code e} is the database's failure rather than the statement's: no connection (or
     * none free in time), the server out of disk or memory, shutting down, read-only (a standby
     * after a fail-over), an I/O or internal error.
     */
    static boolean isFault(SQLException e) {
        if (isPoolTimeout(e)) {
            return false; // every connection busy: the node is loaded, the database is fine
        }
        if (e instanceof java.sql.SQLTransientConnectionException || e instanceof java.sql.SQLNonTransientConnectionException
                || e instanceof java.sql.SQLRecoverableException) {
            return true;
        }
        String state = e.getSQLState();
        if (state == null || state.length() < 2) {
            return true;
        }
        return switch (state.substring(0, 2)) {
            case "08", "53", "57", "58", "XX" -> true;
            case "25" -> state.equals("25006"); // read_only_sql_transaction
            default -> false;
        };
    }

    private int update(String sql, Object... args) {
        return write(c -> update(c, sql, args));
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }

    /**
     * The pool gave no connection in time while the database answers: every connection is busy
     * (HikariCP's timeout with no cause; when the database cannot be reached, the cause says so).
     */
    static boolean isPoolTimeout(SQLException e) {
        return e instanceof java.sql.SQLTransientConnectionException && e.getCause() == null && e.getNextException() == null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : Redaction.text(t.getMessage());
    }
}
