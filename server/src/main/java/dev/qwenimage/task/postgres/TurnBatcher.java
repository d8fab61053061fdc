package dev.qwenimage.task.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands out fair-queueing turns to the submits of one node, one owner at a time, in batches.
 *
 * <p>Each owner's turns come from its row in {@code owner_turns}, which an upsert row-locks. When
 * many submits of one owner arrive at once, letting each run its own upsert makes them queue on
 * that row lock inside PostgreSQL, where every hand-over costs a wake-up. Instead, the submits of
 * an owner on this node take turns being the <em>leader</em>: the leader reserves as many
 * consecutive turns as there are submits waiting (itself included) with one upsert, and gives
 * them out in arrival order; whoever arrived meanwhile waits for the next batch, led by the first
 * of them. Turns are never reserved for submits that do not exist, so an owner's turns have no
 * gaps beyond those of failed inserts.
 */
final class TurnBatcher {
    /** Reserves {@code count} consecutive turns for an owner and returns the last of them. */
    @FunctionalInterface
    interface Reserve {
        long last(String owner, int count);
    }

    private static final long LEAD = Long.MIN_VALUE;

    private final Reserve reserve;
    private final ConcurrentHashMap<String, Owner> owners = new ConcurrentHashMap<>();

    TurnBatcher(Reserve reserve) {
        this.reserve = reserve;
    }

    /** The next turn of {@code owner}; may wait for another submit's upsert, never for long. */
    long next(String owner) {
        return owners.computeIfAbsent(owner, Owner::new).next();
    }

    private final class Owner {
        private final String owner;
        private List<CompletableFuture<Long>> waiting = new ArrayList<>();
        private boolean leading;

        Owner(String owner) {
            this.owner = owner;
        }

        long next() {
            CompletableFuture<Long> mine = new CompletableFuture<>();
            boolean lead;
            synchronized (this) {
                lead = !leading;
                leading = true;
                if (!lead) {
                    waiting.add(mine);
                }
            }
            if (!lead) {
                long got = join(mine);
                if (got != LEAD) {
                    return got;
                }
                // the previous leader finished its batch and made this submit lead the next one
            }
            List<CompletableFuture<Long>> batch;
            synchronized (this) {
                batch = waiting;
                waiting = new ArrayList<>();
            }
            try {
                int count = batch.size() + 1;
                long last = reserve.last(owner, count);
                long first = last - count + 1;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).complete(first + 1 + i);
                }
                return first;
            } catch (RuntimeException e) {
                batch.forEach(f -> f.completeExceptionally(e));
                throw e;
            } finally {
                handOver();
            }
        }

        /** Makes the first submit that arrived during the batch lead the next one, or ends leading. */
        private void handOver() {
            CompletableFuture<Long> next;
            synchronized (this) {
                if (waiting.isEmpty()) {
                    leading = false;
                    return;
                }
                next = waiting.removeFirst();
            }
            next.complete(LEAD);
        }

        private static long join(CompletableFuture<Long> f) {
            try {
                return f.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }
    }
}
