package dev.qwenimage.task.sqlite;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.PreparedStatement;
import java.util.HashMap;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.task.StoreException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of an SQLite database, with group commit. SQLite allows one writer at a time;
 * rather than have threads fight over the write lock, every write is a small unit of work handed
 * to this thread, which runs all units waiting at that moment in one transaction and pays for one
 * fsync ({@link #runBatch} keeps one failing unit from failing the others, and a failing database
 * from breaking the writer). A caller's {@link #execute} returns only after the commit that
 * contains its work is on disk.
 */
final class SqliteWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SqliteWriter.class);
    private static final int MAX_BATCH = 256;

    @FunctionalInterface
    interface Work<T> {
        T run(Session session) throws SQLException;
    }

    /**
     * The writer's connection with a cache of prepared statements (parsing SQL costs more than
     * running these small statements). Statements from {@link #prepare} must not be closed.
     */
    static final class Session {
        private final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();

        Session(Connection connection) {
            this.connection = connection;
        }

        Connection connection() {
            return connection;
        }

        PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                statements.put(sql, ps);
            } else {
                ps.clearParameters();
            }
            return ps;
        }

        void close() throws SQLException {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    // the connection is closed next, which releases whatever the statement held
                }
            }
            statements.clear();
            connection.close();
        }
    }

    private record Job<T>(Work<T> work, CompletableFuture<T> result) {
        /** Runs the work; its result is handed over only after the commit. The error it threw, or null. */
        Exception runIn(Session s, List<Runnable> completions) {
            try {
                T value = work.run(s);
                completions.add(() -> result.complete(value));
                return null;
            } catch (Exception e) {
                completions.add(() -> result.completeExceptionally(e));
                return e;
            }
        }
    }

    private static final Job<Void> POISON = new Job<>(c -> null, new CompletableFuture<>());

    private final ConnectionSource source;
    private final WriteHealth health;
    private final Runnable onRollback;
    /** The writer's connection; null after a failure until the next batch opens a fresh one. */
    private Session session;
    private final BlockingQueue<Job<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    /** Opens a connection to the database (the writer opens a fresh one after any failure). */
    @FunctionalInterface
    interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /**
     * @param health     told of every commit and of every write that failed for the database's sake
     * @param onRollback run on the writer thread after any rollback: state kept beside the database
     *                   (the store's fair-queueing turns) may have run ahead of what was committed
     */
    SqliteWriter(ConnectionSource source, WriteHealth health, Runnable onRollback) throws SQLException {
        this.source = source;
        this.health = health;
        this.onRollback = onRollback;
        this.session = openSession();
        this.thread = Thread.ofPlatform().name("sqlite-writer").daemon(true).start(this::loop);
    }

    <T> T execute(Work<T> work) {
        if (closed) {
            throw new IllegalStateException("task store is closed");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        queue.add(new Job<>(work, result));
        // The write is queued and will run whatever the caller does, so wait for its outcome
        // even if interrupted (writes take milliseconds), then restore the interrupt flag.
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new StoreException("task store write failed: " + cause.getMessage(), cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        List<Job<?>> batch = new ArrayList<>(MAX_BATCH);
        while (true) {
            batch.clear();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            boolean stop = batch.remove(POISON);
            if (!batch.isEmpty()) {
                runBatch(batch);
            }
            if (stop) {
                return;
            }
        }
    }

    /**
     * Runs the batch in one transaction. When the database fails (disk full, read-only, I/O error,
     * a commit refused), the whole batch fails with that error, the connection is closed, and the
     * next batch starts on a fresh one: one failed write never leaves the writer broken. When a
     * unit fails for its own reasons, the transaction is rolled back and every unit runs again in a
     * transaction of its own, so the bad unit fails alone.
     */
    private void runBatch(List<Job<?>> batch) {
        Session s;
        try {
            s = session();
        } catch (SQLException e) {
            failed(batch, e);
            return;
        }
        List<Runnable> completions = new ArrayList<>(batch.size());
        Exception own = null;
        Exception fault = null;
        for (Job<?> job : batch) {
            Exception e = job.runIn(s, completions);
            if (e != null && isFault(e)) {
                fault = e;
                break;
            }
            own = own == null ? e : own;
        }
        if (fault == null && own == null) {
            try {
                s.connection().commit();
                health.succeeded();
                completions.forEach(Runnable::run);
                return;
            } catch (SQLException e) {
                fault = e;
            }
        }
        rollback(fault != null);
        if (fault != null) {
            failed(batch, fault);
            return;
        }
        if (batch.size() == 1) {
            completions.forEach(Runnable::run); // the single unit's own error
            return;
        }
        for (Job<?> job : batch) {
            runAlone(job);
        }
    }

    private void runAlone(Job<?> job) {
        List<Runnable> one = new ArrayList<>(1);
        try {
            Exception e = job.runIn(session(), one);
            if (e != null && isFault(e)) {
                rollback(true);
                failed(List.of(job), e);
                return;
            }
            if (e == null) {
                session.connection().commit();
                health.succeeded();
            } else {
                rollback(false);
            }
            one.forEach(Runnable::run);
        } catch (SQLException e) {
            rollback(true);
            failed(List.of(job), e);
        }
    }

    /**
     * Undoes the open transaction. After a database failure the connection is dropped instead of
     * trusted: the driver may have lost track of the transaction (a failed COMMIT leaves no BEGIN
     * behind it), and every later write would fail with "cannot rollback - no transaction is active".
     */
    private void rollback(boolean dropConnection) {
        if (session != null) {
            try {
                session.connection().rollback();
            } catch (SQLException e) {
                dropConnection = true;
            }
            if (dropConnection) {
                closeSession();
            }
        }
        onRollback.run();
    }

    private void failed(List<Job<?>> jobs, Exception e) {
        health.failed(e.getMessage());
        log.error("task store write failed; {} write(s) rolled back, the next ones start on a fresh connection: {}",
                jobs.size(), e.getMessage());
        for (Job<?> job : jobs) {
            job.result().completeExceptionally(new StoreException("task store write failed: " + e.getMessage(), e, true));
        }
    }

    private Session session() throws SQLException {
        if (session == null) {
            session = openSession();
        }
        return session;
    }

    private Session openSession() throws SQLException {
        Connection c = source.open();
        try {
            c.setAutoCommit(false);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new Session(c);
    }

    private void closeSession() {
        try {
            session.close();
        } catch (SQLException e) {
            log.debug("closing a failed SQLite connection: {}", e.getMessage());
        }
        session = null;
    }

    /**
     * Whether {@code e} is the database's failure rather than the unit's: the disk is full or
     * read-only, the file cannot be opened or is damaged, an I/O error, a lock that never came
     * free; or a driver error on a connection that is closed. Other driver errors (a bad parameter,
     * a bug in the unit) are the unit's own: it fails alone and the writer goes on.
     */
    private boolean isFault(Exception e) {
        if (e instanceof SQLiteException se) {
            return isFaultCode(se);
        }
        if (!(e instanceof SQLException)) {
            return false;
        }
        try {
            return session == null || session.connection().isClosed();
        } catch (SQLException closed) {
            return true;
        }
    }

    /** An SQLite result code that says the database, not the statement, failed. */
    static boolean isFaultCode(SQLiteException e) {
        return switch (SQLiteErrorCode.getErrorCode(e.getResultCode().code & 0xff)) {
            case SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_PERM,
                 SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_PROTOCOL, SQLITE_NOLFS, SQLITE_AUTH -> true;
            default -> false;
        };
    }

    @Override
    public void close() {
        closed = true;
        queue.add(POISON);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (session != null) {
            try {
                session.close();
            } catch (SQLException e) {
                log.warn("closing the SQLite writer connection failed", e);
            }
        }
    }
}
