package dev.qwenimage.task.sqlite;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
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
 * to this thread, which runs all units waiting at that moment in one transaction (each in its own
 * savepoint, so one failing unit does not undo the others) and pays for one fsync. A caller's
 * {@link #execute} returns only after the commit that contains its work is on disk.
 */
final class SqliteWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SqliteWriter.class);
    private static final int MAX_BATCH = 256;

    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private record Job<T>(Work<T> work, CompletableFuture<T> result) {
        /** Runs the work; its result is handed over only after the commit. False if it threw. */
        boolean runIn(Connection c, List<Runnable> completions) {
            try {
                T value = work.run(c);
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
    private final BlockingQueue<Job<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    SqliteWriter(Connection connection) throws SQLException {
        this.connection = connection;
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

    private void runBatch(List<Job<?>> batch) {
        List<Runnable> completions = new ArrayList<>(batch.size());
        try {
            if (batch.size() == 1) {
                if (!batch.get(0).runIn(connection, completions)) {
                    connection.rollback();
                }
            } else {
                for (Job<?> job : batch) {
                    Savepoint sp = connection.setSavepoint();
                    // a failed unit is rolled back to its savepoint; the others still commit
                    if (job.runIn(connection, completions)) {
                        connection.releaseSavepoint(sp);
                    } else {
                        connection.rollback(sp);
                    }
                }
            }
            connection.commit();
            completions.forEach(Runnable::run);
        } catch (SQLException e) {
            log.error("task store commit failed; {} writes rolled back", batch.size(), e);
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // the connection is unusable; each caller gets the original error
            }
            for (Job<?> job : batch) {
                job.result().completeExceptionally(new StoreException("task store write failed: " + e.getMessage(), e));
            }
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
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the SQLite writer connection failed", e);
        }
    }
}
