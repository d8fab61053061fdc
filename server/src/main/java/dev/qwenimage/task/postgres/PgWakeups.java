package dev.qwenimage.task.postgres;

import dev.qwenimage.task.QueueSignal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wake-ups between nodes over PostgreSQL's LISTEN/NOTIFY. One connection LISTENs and raises the
 * local {@link QueueSignal} on every notification (and after a reconnect, since notifications may
 * have been missed); another sends NOTIFY when this node made work claimable. Sends are coalesced
 * (one in flight, at most one every {@value #MIN_INTERVAL_MILLIS} ms) and run on their own
 * connection, outside the inserting transactions: a NOTIFY inside every submit would serialise
 * the commits of all nodes on the notification queue's lock.
 */
final class PgWakeups implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgWakeups.class);
    private static final long MIN_INTERVAL_MILLIS = 2;
    private static final long POLL_MILLIS = 500;

    /** Opens a dedicated connection (never one from the pool: these are held for good). */
    @FunctionalInterface
    interface Connector {
        Connection open() throws SQLException;
    }

    private final Connector connector;
    private final String channel;
    private final QueueSignal signal;
    /** The channel on which key changes are announced, and who hears of them on this node. */
    private final String keysChannel;
    private final java.util.List<Runnable> keyListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread listener;
    private final Thread notifier;
    private volatile boolean pending;
    private volatile boolean closed;

    PgWakeups(Connector connector, String channel, QueueSignal signal) {
        this.connector = connector;
        this.channel = channel;
        this.keysChannel = channel + "_keys";
        this.signal = signal;
        this.listener = Thread.ofPlatform().name("pg-listen").daemon(true).start(this::listen);
        this.notifier = Thread.ofPlatform().name("pg-notify").daemon(true).start(this::notifyLoop);
    }

    /** Asks the other nodes to look for work; returns at once. */
    void notifyOthers() {
        pending = true;
        LockSupport.unpark(notifier);
    }

    private void listen() {
        long backoff = 500;
        while (!closed) {
            try (Connection c = connector.open(); Statement st = c.createStatement()) {
                st.execute("LISTEN " + channel);
                st.execute("LISTEN " + keysChannel);
                PGConnection pg = c.unwrap(PGConnection.class);
                backoff = 500;
                signal.raise(); // anything NOTIFYed while we were not listening
                keysChanged();
                while (!closed) {
                    PGNotification[] got = pg.getNotifications((int) POLL_MILLIS);
                    if (got != null && got.length > 0) {
                        boolean keys = false;
                        boolean work = false;
                        for (PGNotification n : got) {
                            keys |= n.getName().equals(keysChannel);
                            work |= !n.getName().equals(keysChannel);
                        }
                        if (work) {
                            signal.raise();
                        }
                        if (keys) {
                            keysChanged();
                        }
                    }
                }
            } catch (SQLException e) {
                if (!closed) {
                    log.warn("LISTEN connection to PostgreSQL lost ({}); reconnecting in {} ms", e.getMessage(), backoff);
                    sleep(backoff);
                    backoff = Math.min(backoff * 2, 10_000);
                }
            }
        }
    }

    /** The channel a transaction that changes keys NOTIFYs (with pg_notify, so the notice goes out on commit). */
    String keysChannel() {
        return keysChannel;
    }

    void onKeysChanged(Runnable listener) {
        keyListeners.add(listener);
    }

    private void keysChanged() {
        for (Runnable l : keyListeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                log.warn("a listener of API key changes failed: {}", e.getMessage());
            }
        }
    }

    private void notifyLoop() {
        long backoff = 500;
        while (!closed) {
            try (Connection c = connector.open(); Statement st = c.createStatement()) {
                backoff = 500;
                while (!closed) {
                    while (!pending && !closed) {
                        LockSupport.park(this);
                    }
                    pending = false;
                    st.execute("NOTIFY " + channel);
                    sleep(MIN_INTERVAL_MILLIS);
                }
            } catch (SQLException e) {
                if (!closed) {
                    log.warn("NOTIFY connection to PostgreSQL lost ({}); other nodes fall back to polling meanwhile",
                            e.getMessage());
                    sleep(backoff);
                    backoff = Math.min(backoff * 2, 10_000);
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(notifier);
        notifier.interrupt();
        listener.interrupt();
        try {
            listener.join(2_000);
            notifier.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
