package dev.qwenimage.task.sqlite;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.qwenimage.fs.OwnerOnly;
import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.safety.NsfwVerdict;
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
import dev.qwenimage.task.TaskState;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.tenant.ApiKey;
import dev.qwenimage.tenant.KeyRows;
import dev.qwenimage.tenant.UsageRow;
import java.nio.file.Path;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The embedded task store: one SQLite file in the data directory, in WAL mode with
 * {@code synchronous=FULL} so that a committed task survives a crash or power loss. Writes go
 * through one {@link SqliteWriter} (group commit); reads use a small pool of connections that
 * WAL lets run beside the writer.
 */
public final class SqliteTaskStore implements TaskStore {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SqliteTaskStore.class);

    private final TaskSql sql = new TaskSql(TaskSql.Dialect.SQLITE);
    /**
     * Fair-queueing state, touched only on the writer thread: the highest turn ever claimed, and
     * each owner's last queued turn (an owner whose queued tasks have all started keeps its last
     * one, so its next task waits for the next round, as round-robin wants).
     */
    private long servedTurn;
    private final Map<String, Long> lastQueuedTurn = new HashMap<>();
    /** Set on the writer thread after a rollback: the turns above may count work that was undone. */
    private boolean turnsStale;
    private final WriteHealth health;

    private final SqliteWriter writer;
    private final HikariDataSource readers;
    private final QueueSignal signal = new QueueSignal();
    /**
     * Recently read tasks. This process holds the data directory's lock, so every write to the
     * file goes through this store and invalidates what it changed: polls are answered from
     * memory without going stale.
     */
    private final Cache<String, Task> cache = Caffeine.newBuilder().maximumSize(100_000).build();
    private final java.util.concurrent.atomic.LongAdder cacheHits = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder databaseReads = new java.util.concurrent.atomic.LongAdder();

    private SqliteTaskStore(SqliteWriter.ConnectionSource connections, HikariDataSource readers, WriteHealth health)
            throws SQLException {
        this.health = health;
        this.writer = new SqliteWriter(connections, health, () -> turnsStale = true);
        this.readers = readers;
        try {
            writer.execute(session -> {
                loadTurns(session);
                return null;
            });
        } catch (RuntimeException e) {
            writer.close();
            throw e;
        }
    }

    /**
     * Reads the fair-queueing state from the tasks (at start, and after a rollback, which may have
     * undone inserts and claims this state had already counted).
     */
    private void loadTurns(SqliteWriter.Session session) throws SQLException {
        try (var st = session.connection().createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT COALESCE(max(turn), 0) FROM tasks WHERE started_at IS NOT NULL")) {
                rs.next();
                servedTurn = rs.getLong(1);
            }
            lastQueuedTurn.clear();
            try (ResultSet rs = st.executeQuery("SELECT owner, max(turn) FROM tasks WHERE state = 'QUEUED' GROUP BY owner")) {
                while (rs.next()) {
                    lastQueuedTurn.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        turnsStale = false;
    }

    /** The turn state, reloaded first if a rollback may have left it ahead of the database. */
    private void freshTurns(SqliteWriter.Session session) throws SQLException {
        if (turnsStale) {
            loadTurns(session);
        }
    }

    /** Opens (creating and migrating if needed) the database file {@code file}. */
    public static SqliteTaskStore open(Path file) {
        return open(file, new WriteHealth("task store", java.time.Clock.systemUTC()));
    }

    /** As {@link #open(Path)}, telling {@code health} how every write went. */
    public static SqliteTaskStore open(Path file, WriteHealth health) {
        try {
            // created owner-only before SQLite opens it; SQLite gives its journal files the same mode
            OwnerOnly.create(file);
            OwnerOnly.file(Path.of(file + "-wal"));
            OwnerOnly.file(Path.of(file + "-shm"));
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create the task database " + file + ": " + e.getMessage(), e);
        }
        try {
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            config.setBusyTimeout(BUSY_TIMEOUT_MS);
            config.setTempStore(SQLiteConfig.TempStore.MEMORY);
            config.setCacheSize(-16_384); // 16 MiB of page cache per connection: the hot index pages of a deep queue stay in memory
            config.setJournalSizeLimit(JOURNAL_SIZE_LIMIT);
            SQLiteDataSource ds = new SQLiteDataSource(config);
            ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
            enableCompaction(ds, file);

            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/sqlite")
                    .mixed(true)
                    .load()
                    .migrate();

            HikariConfig pool = new HikariConfig();
            pool.setDataSource(ds);
            pool.setPoolName("sqlite-readers");
            pool.setMaximumPoolSize(Math.max(4, Runtime.getRuntime().availableProcessors() * 2));
            pool.setMinimumIdle(1);
            pool.setAutoCommit(true);
            HikariDataSource readers = new HikariDataSource(pool);
            try {
                return new SqliteTaskStore(ds::getConnection, readers, health);
            } catch (SQLException | RuntimeException e) {
                readers.close();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot open the task database " + file + ": " + e.getMessage(), e);
        }
    }

    private static final int BUSY_TIMEOUT_MS = 10_000;
    /** Databases up to this size are converted to incremental auto-vacuum at start-up by themselves (a VACUUM of seconds). */
    private static final long AUTO_CONVERT_LIMIT = 1L << 30;

    /** The write-ahead log is cut back to this size after each checkpoint, so a burst does not leave a large file. */
    private static final int JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

    /**
     * Lets retention give disk space back: SQLite keeps the pages of deleted rows for reuse but never
     * shrinks the file, unless the database is in incremental auto-vacuum mode, where
     * {@link #reclaimSpace} returns them. The mode is set by a VACUUM (in WAL mode even an empty
     * database needs one): at once for a new database, once at start-up for one made by an earlier
     * version of up to 1 GB, when the disk has room for the copy VACUUM makes (otherwise it keeps
     * working as before, reusing its free pages, and the log says how to convert it by hand).
     */
    private static void enableCompaction(SQLiteDataSource ds, Path file) throws SQLException {
        try (Connection c = ds.getConnection(); var st = c.createStatement()) {
            if (intPragma(st, "PRAGMA auto_vacuum") == 2) {
                return;
            }
            st.execute("PRAGMA auto_vacuum = INCREMENTAL");
            boolean existing = intPragma(st, "SELECT count(*) FROM sqlite_master") > 0;
            long size = intPragma(st, "PRAGMA page_count") * intPragma(st, "PRAGMA page_size");
            long free;
            try {
                free = java.nio.file.Files.getFileStore(file).getUsableSpace();
            } catch (java.io.IOException e) {
                free = 0;
            }
            if (existing && size > AUTO_CONVERT_LIMIT) {
                LOG.warn("the task database {} ({} MB) does not give deleted space back to the disk (it reuses it). Converting "
                        + "it takes a VACUUM that copies the whole file, too long to do at start-up; to convert it, stop the "
                        + "service and run: sqlite3 {} 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM'", file, size >> 20, file);
                return;
            }
            if (free < 2 * size + JOURNAL_SIZE_LIMIT) {
                LOG.warn("the task database {} ({} MB) cannot be converted to give deleted space back now: that needs about "
                        + "{} MB free, and the disk has {} MB. It keeps working and reuses the space; to convert it, free disk "
                        + "space and restart, or stop the service and run: sqlite3 {} 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM'",
                        file, size >> 20, (2 * size + JOURNAL_SIZE_LIMIT) >> 20, free >> 20, file);
                return;
            }
            long t0 = System.nanoTime();
            st.execute("PRAGMA temp_store = FILE"); // VACUUM's copy goes to a temporary file, not to memory
            st.execute("VACUUM");
            if (existing) {
                LOG.info("converted the task database {} ({} MB) to give deleted space back (a one-time VACUUM, {} ms)", file,
                        size >> 20, (System.nanoTime() - t0) / 1_000_000);
            }
        }
    }

    private static long intPragma(java.sql.Statement st, String pragma) throws SQLException {
        try (ResultSet rs = st.executeQuery(pragma)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Pages given back per write unit: the writer is never held long by one (8 MB of 4 KB pages). */
    private static final int RECLAIM_CHUNK = 2048;

    /**
     * Gives the pages of deleted tasks back to the file system, a chunk per write unit so that
     * submits and claims go on in between, then cuts the write-ahead log back if no reader holds it
     * (waiting for readers at most a tenth of a second: a checkpoint that truncates blocks new
     * writes while it waits).
     */
    @Override
    public void reclaimSpace() {
        long freed;
        do {
            freed = writer.execute(session -> {
                try (var st = session.connection().createStatement()) {
                    long free = intPragma(st, "PRAGMA freelist_count");
                    if (free == 0) {
                        return 0L;
                    }
                    // each step of this pragma frees one page: executeUpdate steps it to its end (execute stops after one)
                    st.executeUpdate("PRAGMA incremental_vacuum(" + RECLAIM_CHUNK + ")");
                    return Math.min(free, RECLAIM_CHUNK);
                }
            });
        } while (freed == RECLAIM_CHUNK);
        read(c -> {
            try (var st = c.createStatement()) {
                st.execute("PRAGMA busy_timeout = 100");
                try {
                    st.execute("PRAGMA wal_checkpoint(TRUNCATE)");
                } catch (SQLException busy) {
                    LOG.debug("write-ahead log not truncated now (readers hold it): {}", busy.getMessage());
                } finally {
                    st.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MS);
                }
            }
            return null;
        });
    }

    @Override
    public Admission admit(NewTask t, Optional<IdempotencyKey> key) {
        Admission admission = writer.execute(session -> {
            if (key.isPresent()) {
                Optional<Admission> earlier = TaskSql.earlier(session.connection(), t.owner(), key.get(), t.createdAt());
                if (earlier.isPresent()) {
                    return earlier.get();
                }
            }
            // the caps, counted by the single writer: nothing else is inserted meanwhile
            Optional<Admission> over = TaskSql.overCap(session.connection(), t);
            if (over.isPresent()) {
                return over.get();
            }
            freshTurns(session);
            // fair queueing: after the owner's last queued turn, not before the turn being served
            long turn = Math.max(lastQueuedTurn.getOrDefault(t.owner(), 0L) + 1, servedTurn);
            PreparedStatement ps = session.prepare(sql.insert);
            TaskSql.bindInsert(ps, t, turn);
            ps.executeUpdate();
            lastQueuedTurn.put(t.owner(), turn);
            if (key.isPresent()) {
                PreparedStatement k = session.prepare("""
                        INSERT OR REPLACE INTO idempotency_keys (owner, key, body_hash, task_id, created_at)
                        VALUES (?, ?, ?, ?, ?)""");
                k.setString(1, t.owner());
                k.setString(2, key.get().key());
                k.setString(3, key.get().bodyDigest());
                k.setString(4, t.id());
                k.setLong(5, t.createdAt().toEpochMilli());
                k.executeUpdate();
            }
            return new Admission.Created(t.id());
        });
        if (admission instanceof Admission.Created) {
            signal.raise();
        }
        return admission;
    }

    // ---- keys and usage -------------------------------------------------------------------------

    @Override
    public void createKey(ApiKey key) {
        try {
            writer.execute(session -> {
                PreparedStatement ps = session.prepare(KeyRows.INSERT);
                KeyRows.bindInsert(ps, key);
                return ps.executeUpdate();
            });
        } catch (StoreException e) {
            if (e.getCause() instanceof org.sqlite.SQLiteException se
                    && se.getResultCode() == org.sqlite.SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY
                    || e.getCause() instanceof org.sqlite.SQLiteException ue
                    && ue.getResultCode() == org.sqlite.SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE) {
                throw new KeyConflict("an API key with id " + key.id() + " or the same secret exists already", e);
            }
            throw e;
        }
        keysChanged();
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

    /** One UPDATE of a key; listeners are told when it changed a row. */
    private boolean keyWrite(String sql, KeyRows.Binder bind) {
        int n = writer.execute(session -> {
            PreparedStatement ps = session.prepare(sql);
            bind.bind(ps);
            return ps.executeUpdate();
        });
        if (n > 0) {
            keysChanged();
        }
        return n == 1;
    }

    /** This process holds the data directory, so every change of keys is its own: listeners hear of it at once. */
    @Override
    public void onKeysChanged(Runnable listener) {
        keyListeners.add(listener);
    }

    private final List<Runnable> keyListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    private void keysChanged() {
        keyListeners.forEach(Runnable::run);
    }

    @Override
    public List<UsageRow> usage(Optional<String> owner, Instant from, Instant to) {
        return read(c -> KeyRows.usage(c, owner, from, to));
    }

    @Override
    public CancelOutcome cancel(String id, Instant now) {
        CancelOutcome outcome = writer.execute(session -> {
            if (update(session, TaskSql.CANCEL_QUEUED, now.toEpochMilli(), id) == 1) {
                return CancelOutcome.CANCELLED;
            }
            if (update(session, TaskSql.CANCEL_RUNNING, id) == 1) {
                return CancelOutcome.REQUESTED;
            }
            PreparedStatement q = session.prepare(TaskSql.EXISTS);
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? CancelOutcome.ALREADY_FINISHED : CancelOutcome.NOT_FOUND;
            }
        });
        cache.invalidate(id);
        return outcome;
    }

    @Override
    public int failWaiting(Instant queuedBefore, String reason, Instant now) {
        if (!TaskState.canMove(TaskState.QUEUED, TaskState.FAILED)) {
            throw new IllegalStateException("illegal move QUEUED -> FAILED");
        }
        List<String> failed = writer.execute(session -> {
            List<String> ids = updatedIds(session, TaskSql.FAIL_WAITING, reason, now.toEpochMilli(), queuedBefore.toEpochMilli());
            turnsStale |= !ids.isEmpty(); // their turns no longer hold anyone's place
            return ids;
        });
        cache.invalidateAll(failed);
        return failed.size();
    }

    @Override
    public Set<String> cancelRequested(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return read(c -> {
            String marks = String.join(",", java.util.Collections.nCopies(ids.size(), "?"));
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM tasks WHERE cancel_requested = 1 AND state = 'PROCESSING' AND id IN ("
                    + marks + ")")) {
                int i = 1;
                for (String id : ids) {
                    ps.setString(i++, id);
                }
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
        return writer.execute(session -> update(session, TaskSql.FORGET_IDEMPOTENCY_KEYS, cutoff.toEpochMilli()));
    }

    // ---- webhook outbox -----------------------------------------------------------------------

    @Override
    public Optional<Delivery> claimDelivery(Instant now, Duration lease) {
        return writer.execute(session -> {
            PreparedStatement ps = session.prepare(sql.claimDelivery);
            ps.setLong(1, now.plus(lease).toEpochMilli());
            ps.setLong(2, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                return TaskSql.delivery(rs);
            }
        });
    }

    @Override
    public void delivered(long id, Instant now) {
        writer.execute(session -> update(session, TaskSql.DELIVERED, now.toEpochMilli(), id));
    }

    @Override
    public void deliveryFailed(long id, String error, Optional<Instant> retryAt, Instant now) {
        writer.execute(session -> retryAt.isPresent()
                ? update(session, TaskSql.DELIVERY_RETRY, retryAt.get().toEpochMilli(), error, id)
                : update(session, TaskSql.DELIVERY_GIVE_UP, now.toEpochMilli(), error, id));
    }

    @Override
    public int forgetDeliveriesBefore(Instant cutoff) {
        return writer.execute(session -> update(session, TaskSql.FORGET_DELIVERIES, cutoff.toEpochMilli(), cutoff.toEpochMilli()));
    }

    @Override
    public Optional<Task> find(String id) {
        Task cached = cache.getIfPresent(id);
        if (cached != null) {
            cacheHits.increment();
            return Optional.of(cached);
        }
        // Loading through the cache is atomic per id, and every write invalidates its ids after
        // its commit, so a value loaded from before a commit never outlives that commit.
        return Optional.ofNullable(cache.get(id, this::load));
    }

    private Task load(String id) {
        databaseReads.increment();
        return read(c -> TaskSql.find(c, id));
    }

    @Override
    public Optional<Task> find(String owner, String id) {
        Task cached = cache.getIfPresent(id);
        if (cached != null && cached.owner().equals(owner)) {
            cacheHits.increment();
            return Optional.of(cached);
        }
        if (cached != null) {
            // another owner's task: the read an unknown id gets (it finds no row, so nothing is cached)
            return Optional.ofNullable(loadOwned(id, owner));
        }
        // one read by id, shared with whoever asks for the same id meanwhile (Caffeine runs one
        // load per id), so its result is filtered by each caller's owner, never handed over as is
        Task loaded = cache.get(id, this::load);
        return Optional.ofNullable(loaded).filter(t -> t.owner().equals(owner));
    }

    private Task loadOwned(String id, String owner) {
        databaseReads.increment();
        return read(c -> TaskSql.findOwned(c, id, owner));
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
        Optional<Task> claimed = writer.execute(session -> {
            freshTurns(session);
            PreparedStatement ps = session.prepare(sql.claim);
            TaskSql.bindClaim(ps, worker, engine, kinds, now, lease, othersFirst);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.<Task>empty();
                }
                Task task = TaskRows.toTask(rs);
                servedTurn = Math.max(servedTurn, task.turn());
                return Optional.of(task);
            }
        });
        claimed.ifPresent(task -> cache.invalidate(task.id()));
        return claimed;
    }

    @Override
    public Set<String> renewLeases(String worker, Collection<String> ids, Instant leaseExpiresAt) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        Set<String> renewed = writer.execute(session -> {
            Set<String> held = new HashSet<>();
            PreparedStatement ps = session.prepare("""
                    UPDATE tasks SET lease_expires_at = ?
                     WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""");
            {
                for (String id : ids) {
                    ps.setLong(1, leaseExpiresAt.toEpochMilli());
                    ps.setString(2, id);
                    ps.setString(3, worker);
                    if (ps.executeUpdate() == 1) {
                        held.add(id);
                    }
                }
            }
            return held;
        });
        renewed.forEach(cache::invalidate);
        return renewed;
    }

    @Override
    public void updateProgress(String id, String worker, int percent) {
        writer.execute(session -> update(session, TaskSql.PROGRESS, percent, id, worker));
        cache.invalidate(id);
    }

    @Override
    public boolean succeed(String id, String worker, String imageKey, Optional<NsfwVerdict> nsfw, long engineMillis,
                           Instant now) {
        return move(id, TaskState.SUCCEED, TaskSql.SUCCEED, TaskSql.succeedArgs(id, worker, imageKey, nsfw, engineMillis, now)) == 1;
    }

    @Override
    public boolean fail(String id, String worker, String reason, Instant now) {
        return move(id, TaskState.FAILED, TaskSql.FAIL, reason, now.toEpochMilli(), now.toEpochMilli(), id, worker) == 1;
    }

    @Override
    public boolean retry(String id, String worker, String reason, Instant availableAt, Instant now) {
        int n = move(id, TaskState.QUEUED, TaskSql.RETRY, reason, now.toEpochMilli(), availableAt.toEpochMilli(), now.toEpochMilli(), id, worker);
        if (n == 1) {
            signal.raise();
        }
        return n == 1;
    }

    @Override
    public boolean release(String id, String worker, Instant now) {
        int n = move(id, TaskState.QUEUED, sql.release, now.toEpochMilli(), now.toEpochMilli(), id, worker);
        if (n == 1) {
            signal.raise();
        }
        return n == 1;
    }

    @Override
    public Rescue rescueExpired(Instant cutoff, String why, Instant now) {
        List<String> ids = new ArrayList<>();
        Rescue rescue = writer.execute(session -> {
            ids.clear();
            List<String> failed = updatedIds(session, sql.rescueFail, why, now.toEpochMilli(), now.toEpochMilli(), cutoff.toEpochMilli());
            List<String> requeued = updatedIds(session, sql.rescueRequeue, now.toEpochMilli(), now.toEpochMilli(), cutoff.toEpochMilli());
            ids.addAll(failed);
            ids.addAll(requeued);
            return new Rescue(requeued.size(), failed.size());
        });
        // by id: invalidating an id waits for a load of it in flight, clearing the whole cache does
        // not, and a poll's read from before the commit would then stay cached for good
        cache.invalidateAll(ids);
        if (rescue.requeued() > 0) {
            signal.raise();
        }
        return rescue;
    }

    @Override
    public Purged deleteFinishedBefore(Instant cutoff, int limit) {
        List<String> ids = new ArrayList<>();
        Purged purged = writer.execute(session -> {
            ids.clear();
            PreparedStatement ps = session.prepare(sql.deleteFinished);
            ps.setLong(1, cutoff.toEpochMilli());
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                return TaskSql.purged(rs, ids);
            }
        });
        cache.invalidateAll(ids);
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
        writer.execute(session -> {
            update(session, TaskSql.PROBE_WRITE, node, now.toEpochMilli());
            return update(session, TaskSql.PROBE_FORGET, now.minus(Duration.ofDays(1)).toEpochMilli());
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
        return true;
    }

    @Override
    public void close() {
        writer.close();
        readers.close();
    }

    // ---- helpers -------------------------------------------------------------------------

    @FunctionalInterface
    private interface Read<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T read(Read<T> work) {
        try (Connection c = readers.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            // a database the reader cannot use (I/O, locked, damaged) or a pool that gave no connection
            boolean unavailable = !(e instanceof org.sqlite.SQLiteException se) || SqliteWriter.isFaultCode(se);
            throw new StoreException("task store read failed: " + e.getMessage(), e, unavailable);
        }
    }

    /** A guarded transition of one running task; asserts the move is legal per {@link TaskState#MOVES}. */
    private int move(String id, String to, String sql, Object... args) {
        if (!TaskState.canMove(TaskState.PROCESSING, to)) {
            throw new IllegalStateException("illegal move PROCESSING -> " + to);
        }
        int n = writer.execute(session -> update(session, sql, args));
        cache.invalidate(id);
        return n;
    }

    /** Runs an UPDATE of tasks and returns the ids of the rows it changed. */
    private static List<String> updatedIds(SqliteWriter.Session session, String sql, Object... args) throws SQLException {
        PreparedStatement ps = session.prepare(sql + " RETURNING id");
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        List<String> ids = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    private static int update(SqliteWriter.Session session, String sql, Object... args) throws SQLException {
        PreparedStatement ps = session.prepare(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
    }

}
