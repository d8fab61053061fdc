package dev.qwenimage.engine.http;

import dev.qwenimage.engine.Cancellation;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Aborts the HTTP call a generation has in flight when its {@link Cancellation} fires, so that a
 * cancelled or timed-out task lets go of a long call (a synchronous OpenAI-style generation, a hung
 * poll) at once rather than when the call's own timeout passes. Make one per generate call and pass
 * it to {@link EngineHttp#send(java.net.http.HttpRequest.Builder, CallAborter)}; it registers a
 * single callback however many calls it serves.
 */
public final class CallAborter {
    private final AtomicReference<CompletableFuture<?>> inFlight = new AtomicReference<>();
    private volatile boolean aborted;

    private CallAborter() {
    }

    public static CallAborter on(Cancellation cancellation) {
        CallAborter aborter = new CallAborter();
        cancellation.onCancel(aborter::abort);
        return aborter;
    }

    public boolean aborted() {
        return aborted;
    }

    private void abort() {
        aborted = true;
        CompletableFuture<?> call = inFlight.getAndSet(null);
        if (call != null) {
            call.cancel(true);
        }
    }

    void track(CompletableFuture<?> call) {
        inFlight.set(call);
        if (aborted) {
            call.cancel(true);
        }
    }

    void done(CompletableFuture<?> call) {
        inFlight.compareAndSet(call, null);
    }
}
