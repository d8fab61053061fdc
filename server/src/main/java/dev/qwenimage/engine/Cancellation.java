package dev.qwenimage.engine;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A cancel signal handed to an engine. Engines poll {@link #isCancelled()} at step boundaries;
 * engines that must tell a remote server (interrupt a running job) register a callback.
 */
public final class Cancellation {
    private volatile String reason;
    private final List<Runnable> callbacks = new CopyOnWriteArrayList<>();

    public boolean isCancelled() {
        return reason != null;
    }

    /** Why it was cancelled, or {@code null} while it is not. */
    public String reason() {
        return reason;
    }

    public void cancel(String why) {
        synchronized (this) {
            if (reason != null) {
                return;
            }
            reason = why;
        }
        callbacks.forEach(Runnable::run);
    }

    /** Runs {@code callback} when cancelled (at once if it already is). */
    public void onCancel(Runnable callback) {
        callbacks.add(callback);
        if (isCancelled() && callbacks.remove(callback)) {
            callback.run();
        }
    }
}
