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
import dev.qwenimage.task.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of an SQLite database, with group commit. SQLite allows one writer at a time;
 * rather than have threads fight over the write lock, every write is a small unit of work handed
 * to this thread, which runs all units waiting at that moment in one transaction and pays for one
 * fsync ({@link #runBatch} keeps one failing unit from failing the others). A caller's
 * {@link #execute} returns only after the commit that contains its work is on disk.
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
                ps.close();
            }
            connection.close();
        }
    }

    private record Job<T>(Work<T> work, CompletableFuture<T> result) {
        /** Runs the work; its result is handed over only after the commit. False if it threw. */
        boolean runIn(Session s, List<Runnable> completions) {
            try {
                T value = work.run(s);
                completions.add(() -> result.complete(value));
                return true;
            } catch (Exception e) {
                completions.add(() -> result.completeExceptionally(e));
                return false;
            }
        }
    }

    private static final Job<Void> POISON = new Job<>(c -> null, new CompletableFuture<>());

    private final Connection connection;
    private final Session session;
    private final BlockingQueue<Job<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    SqliteWriter(Connection connection) throws SQLException {
        this.connection = connection;
        this.session = new Session(connection);
        connection.setAutoCommit(false);
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
     * Runs the batch in one transaction. If any unit fails, the transaction is rolled back and
     * every unit of the batch runs again in a transaction of its own, so one bad unit fails alone.
     */
    private void runBatch(List<Job<?>> batch) {
        List<Runnable> completions = new ArrayList<>(batch.size());
        boolean allOk = true;
        try {
            for (Job<?> job : batch) {
                allOk &= job.runIn(session, completions);
            }
            if (allOk) {
                connection.commit();
                completions.forEach(Runnable::run);
                return;
            }
            connection.rollback();
        } catch (SQLException e) {
            rollbackQuietly();
            if (batch.size() == 1) {
                fail(batch, e);
                return;
            }
        }
        if (batch.size() == 1 && !allOk) {
            completions.forEach(Runnable::run); // the single unit's own error
            return;
        }
        for (Job<?> job : batch) {
            List<Runnable> one = new ArrayList<>(1);
            try {
                if (job.runIn(session, one)) {
                    connection.commit();
                } else {
                    connection.rollback();
                }
                one.forEach(Runnable::run);
            } catch (SQLException e) {
                rollbackQuietly();
                fail(List.of(job), e);
            }
        }
    }

    private void fail(List<Job<?>> jobs, SQLException e) {
        log.error("task store commit failed; {} writes rolled back", jobs.size(), e);
        for (Job<?> job : jobs) {
            job.result().completeExceptionally(new StoreException("task store write failed: " + e.getMessage(), e));
        }
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is unusable; callers get the original error
        }
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
        try {
            session.close();
        } catch (SQLException e) {
            log.warn("closing the SQLite writer connection failed", e);
        }
    }
}
