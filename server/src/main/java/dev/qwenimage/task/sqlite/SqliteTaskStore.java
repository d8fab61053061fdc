package dev.qwenimage.task.sqlite;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskRows;
import dev.qwenimage.task.TaskState;
import dev.qwenimage.task.TaskStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
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

    private static final String COLUMNS = TaskRows.COLUMNS;

    private final SqliteWriter writer;
    private final HikariDataSource readers;
    private final QueueSignal signal = new QueueSignal();
    /**
     * Recently read tasks. This process holds the data directory's lock, so every write to the
     * file goes through this store and invalidates what it changed: polls are answered from
     * memory without going stale.
     */
    private final Cache<String, Task> cache = Caffeine.newBuilder().maximumSize(100_000).build();

    private SqliteTaskStore(SqliteWriter writer, HikariDataSource readers) {
        this.writer = writer;
        this.readers = readers;
    }

    /** Opens (creating and migrating if needed) the database file {@code file}. */
    public static SqliteTaskStore open(Path file) {
        try {
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            config.setBusyTimeout(10_000);
            config.setTempStore(SQLiteConfig.TempStore.MEMORY);
            SQLiteDataSource ds = new SQLiteDataSource(config);
            ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());

            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/sqlite")
                    .mixed(true)
                    .load()
                    .migrate();

            SqliteWriter writer = new SqliteWriter(ds.getConnection());

            HikariConfig pool = new HikariConfig();
            pool.setDataSource(ds);
            pool.setPoolName("sqlite-readers");
            pool.setMaximumPoolSize(Math.max(4, Runtime.getRuntime().availableProcessors() * 2));
            pool.setMinimumIdle(1);
            pool.setAutoCommit(true);
            return new SqliteTaskStore(writer, new HikariDataSource(pool));
        } catch (SQLException e) {
            throw new StoreException("cannot open the task database " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Admission admit(NewTask t, Optional<IdempotencyKey> key) {
        Admission admission = writer.execute(session -> {
            if (key.isPresent()) {
                PreparedStatement q = session.prepare(
                        "SELECT body_hash, task_id, created_at FROM idempotency_keys WHERE owner = ? AND key = ?");
                q.setString(1, t.owner());
                q.setString(2, key.get().key());
                try (ResultSet rs = q.executeQuery()) {
                    if (rs.next() && rs.getLong(3) >= t.createdAt().minus(IdempotencyKey.TTL).toEpochMilli()) {
                        return rs.getString(1).equals(key.get().bodyDigest())
                                ? new Admission.Replayed(rs.getString(2)) : new Admission.KeyReused(rs.getString(2));
                    }
                }
            }
            PreparedStatement ps = session.prepare("""
                    INSERT INTO tasks (id, owner, state, prompt, negative_prompt, width, height, watermark, seed, steps,
                                       max_attempts, available_at, created_at, image_type, webhook_url, turn)
                    VALUES (?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                            MAX(COALESCE((SELECT MAX(turn) FROM tasks WHERE owner = ?2 AND state = 'QUEUED'), 0) + 1,
                                COALESCE((SELECT MAX(turn) FROM tasks WHERE started_at IS NOT NULL), 0)))""");
            {
                TaskSpec s = t.spec();
                ps.setString(1, t.id());
                ps.setString(2, t.owner());
                ps.setString(3, s.prompt());
                ps.setString(4, s.negativePrompt());
                ps.setInt(5, s.width());
                ps.setInt(6, s.height());
                ps.setInt(7, s.watermark() ? 1 : 0);
                ps.setLong(8, s.seed());
                if (s.steps().isPresent()) {
                    ps.setInt(9, s.steps().getAsInt());
                } else {
                    ps.setNull(9, java.sql.Types.INTEGER);
                }
                ps.setInt(10, t.maxAttempts());
                ps.setLong(11, t.createdAt().toEpochMilli());
                ps.setLong(12, t.createdAt().toEpochMilli());
                ps.setString(13, s.imageType().wireName());
                ps.setString(14, s.webhookUrl().orElse(null));
                ps.executeUpdate();
            }
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

    @Override
    public CancelOutcome cancel(String id, Instant now) {
        CancelOutcome outcome = writer.execute(session -> {
            if (update(session, "UPDATE tasks SET state = 'FAILED', reason = 'cancelled', finished_at = ? WHERE id = ? AND state = 'QUEUED'",
                    now.toEpochMilli(), id) == 1) {
                return CancelOutcome.CANCELLED;
            }
            if (update(session, "UPDATE tasks SET cancel_requested = 1 WHERE id = ? AND state = 'PROCESSING'", id) == 1) {
                return CancelOutcome.REQUESTED;
            }
            PreparedStatement q = session.prepare("SELECT 1 FROM tasks WHERE id = ?");
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? CancelOutcome.ALREADY_FINISHED : CancelOutcome.NOT_FOUND;
            }
        });
        cache.invalidate(id);
        return outcome;
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
        return writer.execute(session -> update(session, "DELETE FROM idempotency_keys WHERE created_at < ?", cutoff.toEpochMilli()));
    }

    // ---- webhook outbox -----------------------------------------------------------------------

    @Override
    public Optional<Delivery> claimDelivery(Instant now, Duration lease) {
        return writer.execute(session -> {
            PreparedStatement ps = session.prepare("""
                    UPDATE webhook_outbox SET next_at = ?, attempts = attempts + 1
                     WHERE id = (SELECT id FROM webhook_outbox
                                  WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_at <= ?
                                  ORDER BY next_at LIMIT 1)
                    RETURNING id, task_id, url, attempts""");
            ps.setLong(1, now.plus(lease).toEpochMilli());
            ps.setLong(2, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Delivery(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4)))
                        : Optional.<Delivery>empty();
            }
        });
    }

    @Override
    public void delivered(long id, Instant now) {
        writer.execute(session -> update(session, "UPDATE webhook_outbox SET delivered_at = ?, last_error = '' WHERE id = ?",
                now.toEpochMilli(), id));
    }

    @Override
    public void deliveryFailed(long id, String error, Optional<Instant> retryAt, Instant now) {
        writer.execute(session -> retryAt.isPresent()
                ? update(session, "UPDATE webhook_outbox SET next_at = ?, last_error = ? WHERE id = ?",
                        retryAt.get().toEpochMilli(), error, id)
                : update(session, "UPDATE webhook_outbox SET given_up_at = ?, last_error = ? WHERE id = ?",
                        now.toEpochMilli(), error, id));
    }

    @Override
    public int forgetDeliveriesBefore(Instant cutoff) {
        return writer.execute(session -> update(session,
                "DELETE FROM webhook_outbox WHERE delivered_at < ? OR given_up_at < ?", cutoff.toEpochMilli(), cutoff.toEpochMilli()));
    }

    @Override
    public Optional<Task> find(String id) {
        // Loading through the cache is atomic per id, and every write invalidates its ids after
        // its commit, so a value loaded from before a commit never outlives that commit.
        return Optional.ofNullable(cache.get(id, this::load));
    }

    private Task load(String id) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tasks WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? TaskRows.toTask(rs) : null;
                }
            }
        });
    }

    @Override
    public Optional<Task> claim(String worker, String engine, Instant now, Duration lease, Duration othersFirst) {
        Optional<Task> claimed = writer.execute(session -> {
            PreparedStatement ps = session.prepare("""
                    UPDATE tasks
                       SET state = 'PROCESSING', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                           progress = 0, engine = ?, started_at = COALESCE(started_at, ?)
                     WHERE seq = (SELECT seq FROM tasks
                                   WHERE state = 'QUEUED' AND available_at <= ?
                                     AND (failed_on IS NULL OR failed_on <> ? OR available_at <= ?)
                                   ORDER BY turn, seq LIMIT 1)
                    RETURNING\s""" + COLUMNS);
            ps.setString(1, worker);
            ps.setLong(2, now.plus(lease).toEpochMilli());
            ps.setString(3, engine);
            ps.setLong(4, now.toEpochMilli());
            ps.setLong(5, now.toEpochMilli());
            ps.setString(6, engine);
            ps.setLong(7, now.minus(othersFirst).toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(TaskRows.toTask(rs)) : Optional.<Task>empty();
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
        writer.execute(session -> update(session, """
                UPDATE tasks SET progress = ? WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""",
                percent, id, worker));
        cache.invalidate(id);
    }

    @Override
    public boolean succeed(String id, String worker, String imageKey, Optional<NsfwVerdict> nsfw, long engineMillis,
                           Instant now) {
        return move(id, TaskState.SUCCEED, """
                UPDATE tasks
                   SET state = 'SUCCEED', progress = 100, image_key = ?, engine_millis = ?, finished_at = ?,
                       lease_owner = NULL, lease_expires_at = NULL, reason = '', nsfw_flagged = ?, nsfw_confidence = ?
                 WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""",
                imageKey, engineMillis, now.toEpochMilli(), nsfw.map(v -> v.flagged() ? 1 : 0).orElse(null),
                nsfw.map(NsfwVerdict::confidence).orElse(null), id, worker) == 1;
    }

    @Override
    public boolean fail(String id, String worker, String reason, Instant now) {
        return move(id, TaskState.FAILED, """
                UPDATE tasks
                   SET state = 'FAILED', reason = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""",
                reason, now.toEpochMilli(), id, worker) == 1;
    }

    @Override
    public boolean retry(String id, String worker, String reason, Instant availableAt, Instant now) {
        int n = move(id, TaskState.QUEUED, """
                UPDATE tasks
                   SET state = CASE WHEN attempts >= max_attempts THEN 'FAILED' ELSE 'QUEUED' END,
                       reason = CASE WHEN attempts >= max_attempts
                                     THEN 'gave up after ' || attempts || ' attempts: ' || ? ELSE '' END,
                       finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END,
                       available_at = ?, progress = 0, lease_owner = NULL, lease_expires_at = NULL, failed_on = engine
                 WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""",
                reason, now.toEpochMilli(), availableAt.toEpochMilli(), id, worker);
        if (n == 1) {
            signal.raise();
        }
        return n == 1;
    }

    @Override
    public boolean release(String id, String worker, Instant now) {
        int n = move(id, TaskState.QUEUED, """
                UPDATE tasks
                   SET state = 'QUEUED', attempts = MAX(attempts - 1, 0), available_at = ?, progress = 0,
                       lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""",
                now.toEpochMilli(), id, worker);
        if (n == 1) {
            signal.raise();
        }
        return n == 1;
    }

    @Override
    public Rescue rescueExpired(Instant cutoff, String why, Instant now) {
        Rescue rescue = writer.execute(session -> {
            int failed = update(session, """
                    UPDATE tasks
                       SET state = 'FAILED', reason = 'gave up after ' || attempts || ' attempts: ' || ?,
                           finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                     WHERE state = 'PROCESSING' AND lease_expires_at < ? AND attempts >= max_attempts""",
                    why, now.toEpochMilli(), cutoff.toEpochMilli());
            int requeued = update(session, """
                    UPDATE tasks
                       SET state = 'QUEUED', available_at = ?, progress = 0, lease_owner = NULL, lease_expires_at = NULL
                     WHERE state = 'PROCESSING' AND lease_expires_at < ?""",
                    now.toEpochMilli(), cutoff.toEpochMilli());
            return new Rescue(requeued, failed);
        });
        if (rescue.total() > 0) {
            cache.invalidateAll();
        }
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
            List<String> keys = new ArrayList<>();
            int tasks = 0;
            PreparedStatement ps = session.prepare("""
                    DELETE FROM tasks
                     WHERE seq IN (SELECT seq FROM tasks
                                    WHERE state IN ('SUCCEED', 'FAILED') AND finished_at < ?
                                    ORDER BY finished_at LIMIT ?)
                    RETURNING image_key, id""");
            {
                ps.setLong(1, cutoff.toEpochMilli());
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tasks++;
                        ids.add(rs.getString(2));
                        String key = rs.getString(1);
                        if (key != null) {
                            keys.add(key);
                        }
                    }
                }
            }
            return new Purged(tasks, keys);
        });
        cache.invalidateAll(ids);
        return purged;
    }

    @Override
    public QueueStats stats() {
        return read(c -> {
            long processing;
            double progress;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*), COALESCE(avg(progress), 0) FROM tasks WHERE state = 'PROCESSING'");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                processing = rs.getLong(1);
                progress = rs.getDouble(2);
            }
            List<QueueStats.OwnerQueue> owners = new ArrayList<>();
            long queued = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT owner, count(*), min(turn) FROM tasks WHERE state = 'QUEUED' GROUP BY owner");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    owners.add(new QueueStats.OwnerQueue(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                    queued += rs.getLong(2);
                }
            }
            return new QueueStats(queued, processing, progress, owners);
        });
    }

    @Override
    public long queuedCount(String owner, long limit) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE owner = ? AND state = 'QUEUED' LIMIT ?)")) {
                ps.setString(1, owner);
                ps.setLong(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    @Override
    public Optional<Instant> nextAvailableAt() {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT min(available_at) FROM tasks WHERE state = 'QUEUED'");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? Optional.<Instant>empty() : Optional.of(Instant.ofEpochMilli(v));
            }
        });
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
            throw new StoreException("task store read failed: " + e.getMessage(), e);
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

    private static int update(SqliteWriter.Session session, String sql, Object... args) throws SQLException {
        PreparedStatement ps = session.prepare(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
    }

}
