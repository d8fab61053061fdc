package dev.qwenimage.task;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import dev.qwenimage.engine.TaskKind;

/**
 * The SQL both task stores run, in one place. The two databases differ in two words only, and
 * those are the {@link Dialect}: how the larger of two values is written, and how a claim skips
 * rows other transactions hold (SQLite has one writer, so it needs no such clause). Each store
 * keeps its own way of executing (SQLite through its single writer, PostgreSQL through a pool);
 * the reads that need nothing but a connection are here as well.
 */
public final class TaskSql {

    /**
     * What differs between the databases. A new task's turn is always a parameter of the insert:
     * SQLite's store tracks turns in memory (its single writer sees every insert and claim), and
     * PostgreSQL's reserves it with {@link #RESERVE_TURNS} first.
     */
    public record Dialect(String greatest, String least, String skipLocked, String position) {
        public static final Dialect SQLITE = new Dialect("MAX", "MIN", "", "instr");
        public static final Dialect POSTGRES = new Dialect("GREATEST", "LEAST", " FOR UPDATE SKIP LOCKED", "strpos");
    }

    public final String insert;
    public final String claim;
    public final String release;
    public final String deleteFinished;
    public final String claimDelivery;
    public final String rescueFail;
    public final String rescueRequeue;

    public TaskSql(Dialect d) {
        insert = """
                INSERT INTO tasks (id, owner, state, prompt, negative_prompt, width, height, watermark, seed, steps,
                                   max_attempts, available_at, created_at, image_type, webhook_url, turn, allowed_engines,
                                   kind, input_key)
                VALUES (?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";
        claim = """
                UPDATE tasks
                   SET state = 'PROCESSING', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                       progress = 0, engine = ?, started_at = COALESCE(started_at, ?), attempt_started_at = ?
                 WHERE seq = (SELECT seq FROM tasks
                               WHERE state = 'QUEUED' AND available_at <= ?
                                 AND (failed_on IS NULL OR failed_on <> ? OR available_at <= ?)
                                 AND (allowed_engines IS NULL OR %4$s(',' || allowed_engines || ',', ',' || ? || ',') > 0)
                                 AND %4$s(?, ',' || kind || ',') > 0
                               ORDER BY turn, seq LIMIT 1%2$s)
                RETURNING %3$s""".formatted(d.greatest(), d.skipLocked(), TaskRows.COLUMNS, d.position());
        release = """
                UPDATE tasks
                   SET state = 'QUEUED', attempts = %1$s(attempts - 1, 0), available_at = ?, progress = 0,
                       lease_owner = NULL, lease_expires_at = NULL, run_millis = run_millis + COALESCE(? - attempt_started_at, 0)
                 WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""".formatted(d.greatest());
        // an attempt whose worker died is counted as spent up to its lease's end (or now, if that is sooner)
        String rescuedRun = "run_millis = run_millis + COALESCE(%s(lease_expires_at, ?) - attempt_started_at, 0)".formatted(d.least());
        rescueFail = """
                UPDATE tasks
                   SET state = 'FAILED', reason = 'gave up after ' || attempts || ' attempts: ' || ?,
                       finished_at = ?, %s, lease_owner = NULL, lease_expires_at = NULL
                 WHERE state = 'PROCESSING' AND lease_expires_at < ? AND attempts >= max_attempts""".formatted(rescuedRun);
        rescueRequeue = """
                UPDATE tasks
                   SET state = 'QUEUED', available_at = ?, progress = 0, %s, lease_owner = NULL, lease_expires_at = NULL
                 WHERE state = 'PROCESSING' AND lease_expires_at < ?""".formatted(rescuedRun);
        deleteFinished = """
                DELETE FROM tasks
                 WHERE seq IN (SELECT seq FROM tasks
                                WHERE state IN ('SUCCEED', 'FAILED') AND finished_at < ?
                                ORDER BY finished_at LIMIT ?%s)
                RETURNING image_key, id, input_key""".formatted(d.skipLocked());
        claimDelivery = """
                UPDATE webhook_outbox SET next_at = ?, attempts = attempts + 1
                 WHERE id = (SELECT id FROM webhook_outbox
                              WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_at <= ?
                              ORDER BY next_at LIMIT 1%s)
                RETURNING id, task_id, url, attempts""".formatted(d.skipLocked());
    }

    /**
     * PostgreSQL: reserves consecutive turns for an owner and returns the last (parameters: the
     * owner, the owner, the count, the count): after its last given turn, not before the turn being
     * served. The owner_turns row lock makes concurrent reservations of one owner take turns; a
     * counter lost in a crash (the table is unlogged) restarts from the owner's queued tasks.
     */
    public static final String RESERVE_TURNS = """
            INSERT INTO owner_turns AS o (owner, last_turn)
            VALUES (?, GREATEST(COALESCE((SELECT turn FROM tasks WHERE owner = ? AND state = 'QUEUED' ORDER BY turn DESC LIMIT 1), 0) + 1,
                                COALESCE((SELECT turn FROM tasks WHERE started_at IS NOT NULL ORDER BY turn DESC LIMIT 1), 0)) + ? - 1)
            ON CONFLICT (owner) DO UPDATE SET last_turn = GREATEST(o.last_turn + ?, EXCLUDED.last_turn)
            RETURNING last_turn""";

    /** A readiness probe's write (parameters: node, time), and the clean-up of nodes long gone (parameter: cutoff). */
    public static final String PROBE_WRITE = """
            INSERT INTO write_probe (node, at) VALUES (?, ?)
            ON CONFLICT (node) DO UPDATE SET at = EXCLUDED.at""";
    public static final String PROBE_FORGET = "DELETE FROM write_probe WHERE at < ?";

    public static final String FIND = "SELECT " + TaskRows.COLUMNS + " FROM tasks WHERE id = ?";
    public static final String FIND_OWNED = "SELECT " + TaskRows.COLUMNS + " FROM tasks WHERE id = ? AND owner = ?";
    public static final String PROGRESS =
            "UPDATE tasks SET progress = ? WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?";
    public static final String SUCCEED = """
            UPDATE tasks
               SET state = 'SUCCEED', progress = 100, image_key = ?, engine_millis = ?, finished_at = ?,
                   run_millis = run_millis + COALESCE(? - attempt_started_at, 0),
                   lease_owner = NULL, lease_expires_at = NULL, reason = '', nsfw_flagged = ?, nsfw_confidence = ?
             WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""";
    public static final String FAIL = """
            UPDATE tasks
               SET state = 'FAILED', reason = ?, finished_at = ?, run_millis = run_millis + COALESCE(? - attempt_started_at, 0),
                   lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""";
    public static final String RETRY = """
            UPDATE tasks
               SET state = CASE WHEN attempts >= max_attempts THEN 'FAILED' ELSE 'QUEUED' END,
                   reason = CASE WHEN attempts >= max_attempts
                                 THEN 'gave up after ' || attempts || ' attempts: ' || ? ELSE '' END,
                   finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END,
                   available_at = ?, run_millis = run_millis + COALESCE(? - attempt_started_at, 0),
                   progress = 0, lease_owner = NULL, lease_expires_at = NULL, failed_on = engine
             WHERE id = ? AND state = 'PROCESSING' AND lease_owner = ?""";
    public static final String CANCEL_QUEUED =
            "UPDATE tasks SET state = 'FAILED', reason = 'cancelled', finished_at = ? WHERE id = ? AND state = 'QUEUED'";
    public static final String FAIL_WAITING =
            "UPDATE tasks SET state = 'FAILED', reason = ?, finished_at = ? WHERE state = 'QUEUED' AND created_at < ?";
    public static final String CANCEL_RUNNING = "UPDATE tasks SET cancel_requested = 1 WHERE id = ? AND state = 'PROCESSING'";
    public static final String EXISTS = "SELECT 1 FROM tasks WHERE id = ?";
    public static final String FIND_IDEMPOTENCY_KEY = "SELECT body_hash, task_id, created_at FROM idempotency_keys WHERE owner = ? AND key = ?";
    public static final String FORGET_IDEMPOTENCY_KEYS = "DELETE FROM idempotency_keys WHERE created_at < ?";
    public static final String DELIVERED = "UPDATE webhook_outbox SET delivered_at = ?, last_error = '' WHERE id = ?";
    public static final String DELIVERY_RETRY = "UPDATE webhook_outbox SET next_at = ?, last_error = ? WHERE id = ?";
    public static final String DELIVERY_GIVE_UP = "UPDATE webhook_outbox SET given_up_at = ?, last_error = ? WHERE id = ?";
    public static final String FORGET_DELIVERIES = "DELETE FROM webhook_outbox WHERE delivered_at < ? OR given_up_at < ?";

    /** The queue per key and the running tasks (see {@link TaskStore#stats()}). */
    public static QueueStats stats(Connection c) throws SQLException {
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
    }

    /** {@code owner}'s QUEUED tasks, counted up to {@code limit}. */
    public static long queuedCount(Connection c, String owner, long limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE owner = ? AND state = 'QUEUED' LIMIT ?) q")) {
            ps.setString(1, owner);
            ps.setLong(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * The cap {@code t} would break if stored now, if any: the owner's queued tasks and those
     * accepted today, counted on {@code c} inside the insert's transaction (with the owner's
     * submits serialised, so the count is exact).
     */
    public static java.util.Optional<Admission> overCap(Connection c, NewTask t) throws SQLException {
        NewTask.Caps caps = t.caps();
        if (caps.maxQueued() > 0 && queuedCount(c, t.owner(), caps.maxQueued()) >= caps.maxQueued()) {
            return java.util.Optional.of(new Admission.QueueCapReached(caps.maxQueued()));
        }
        if (caps.perDay() > 0 && acceptedSince(c, t.owner(), caps.dayStart()) >= caps.perDay()) {
            return java.util.Optional.of(new Admission.DailyCapReached(caps.perDay()));
        }
        return java.util.Optional.empty();
    }

    /** The tasks of {@code owner} accepted since {@code since} (a whole hour), from the usage counts. */
    public static long acceptedSince(Connection c, String owner, Instant since) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COALESCE(sum(submitted), 0) FROM usage_hourly WHERE owner = ? AND hour >= ?")) {
            ps.setString(1, owner);
            ps.setLong(2, since.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * What an {@code Idempotency-Key} sent again now would come to, without storing anything: the
     * task it made within {@link IdempotencyKey#TTL} of {@code now} (a replay, or a key reused with
     * another body), or empty when it made none.
     */
    public static Optional<Admission> earlier(Connection c, String owner, IdempotencyKey key, Instant now) throws SQLException {
        try (PreparedStatement q = c.prepareStatement(FIND_IDEMPOTENCY_KEY)) {
            q.setString(1, owner);
            q.setString(2, key.key());
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next() || rs.getLong(3) < now.minus(IdempotencyKey.TTL).toEpochMilli()) {
                    return Optional.empty();
                }
                return Optional.of(rs.getString(1).equals(key.bodyDigest())
                        ? new Admission.Replayed(rs.getString(2)) : new Admission.KeyReused(rs.getString(2)));
            }
        }
    }

    /** When the earliest QUEUED task becomes claimable. */
    public static Optional<Instant> nextAvailableAt(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT min(available_at) FROM tasks WHERE state = 'QUEUED'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            long v = rs.getLong(1);
            return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
        }
    }

    /** The task {@code id}, or null. */
    public static Task find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FIND)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? TaskRows.toTask(rs) : null;
            }
        }
    }

    /** The task with {@code id} if {@code owner} owns it, else null: the same statement for a foreign and an unknown id. */
    public static Task findOwned(Connection c, String id, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FIND_OWNED)) {
            ps.setString(1, id);
            ps.setString(2, owner);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? TaskRows.toTask(rs) : null;
            }
        }
    }

    /** Binds a new task's values and its fair-queueing turn to {@link #insert}'s parameters. */
    public static void bindInsert(PreparedStatement ps, NewTask t, long turn) throws SQLException {
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
        ps.setLong(15, turn);
        ps.setString(16, t.engines().isEmpty() ? null : String.join(",", t.engines()));
        ps.setString(17, s.kind().code());
        ps.setString(18, s.inputKey().orElse(null));
    }

    /** Binds {@link #claim}'s parameters: a task of one of {@code kinds} for {@code engine}. */
    public static void bindClaim(PreparedStatement ps, String worker, String engine, java.util.Set<TaskKind> kinds, Instant now,
                                 java.time.Duration lease, java.time.Duration othersFirst) throws SQLException {
        ps.setString(1, worker);
        ps.setLong(2, now.plus(lease).toEpochMilli());
        ps.setString(3, engine);
        ps.setLong(4, now.toEpochMilli());
        ps.setLong(5, now.toEpochMilli());
        ps.setLong(6, now.toEpochMilli());
        ps.setString(7, engine);
        ps.setLong(8, now.minus(othersFirst).toEpochMilli());
        ps.setString(9, engine);
        ps.setString(10, TaskKind.codes(kinds));
    }

    /** Reads the rows a {@code deleteFinished} statement returned: their ids, and the blob keys (images and edit inputs) to delete. */
    public static TaskStore.Purged purged(ResultSet rs, List<String> ids) throws SQLException {
        List<String> keys = new ArrayList<>();
        while (rs.next()) {
            ids.add(rs.getString(2));
            if (rs.getString(1) != null) {
                keys.add(rs.getString(1));
            }
            if (rs.getString(3) != null) {
                keys.add(rs.getString(3));
            }
        }
        return new TaskStore.Purged(ids.size(), keys);
    }

    /** The values of {@link #SUCCEED}'s parameters. */
    public static Object[] succeedArgs(String id, String worker, String imageKey, Optional<dev.qwenimage.safety.NsfwVerdict> nsfw,
                                       long engineMillis, Instant now) {
        return new Object[] {imageKey, engineMillis, now.toEpochMilli(), now.toEpochMilli(), nsfw.map(v -> v.flagged() ? 1 : 0).orElse(null),
                nsfw.map(dev.qwenimage.safety.NsfwVerdict::confidence).orElse(null), id, worker};
    }

    /** Reads the delivery a {@code claimDelivery} statement returned, if any. */
    public static Optional<WebhookOutbox.Delivery> delivery(ResultSet rs) throws SQLException {
        return rs.next() ? Optional.of(new WebhookOutbox.Delivery(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4)))
                : Optional.empty();
    }
}
