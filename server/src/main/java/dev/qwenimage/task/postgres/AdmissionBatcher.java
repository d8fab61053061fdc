package dev.qwenimage.task.postgres;

import dev.qwenimage.task.Admission;
import dev.qwenimage.task.IdempotencyKey;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.StoreException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admits the submits of one node, one owner at a time, in batches.
 *
 * <p>Everything a submit writes for its owner is held until its transaction commits: the
 * owner's advisory lock (its caps are counted under it), its fair-queueing counter in
 * {@code owner_turns} and its row of {@code usage_hourly} (the insert trigger's upsert). One
 * transaction per submit would make an owner's submits take turns on those locks, each waiting
 * for the previous one's commit to reach the disk. Instead, the submits of an owner on this node
 * take turns being the <em>leader</em>: the leader admits every submit of that owner waiting at
 * that moment (itself first, then in arrival order, at most {@value #MAX_BATCH}) in one
 * transaction, which takes the lock once, counts once, and inserts the ones under the caps;
 * whoever arrived meanwhile waits for the next batch, led by the first of them.
 *
 * <p>A batch never holds one idempotency key twice: a later submit with a key already in the
 * batch waits for the next one, so it sees what the first made of the key, as if they had come
 * one after the other. When a batch fails for a reason of its own (a statement PostgreSQL
 * refused, not a database that cannot be reached), its submits are admitted again one by one,
 * so that only the one at fault fails.
 */
final class AdmissionBatcher {
    static final int MAX_BATCH = 256;

    /** One submit: the task and its idempotency key, if any. */
    record Submit(NewTask task, Optional<IdempotencyKey> key) {
    }

    /** Admits the submits of one owner, no idempotency key twice, in one transaction; their outcomes in the same order. */
    @FunctionalInterface
    interface Admit {
        List<Admission> all(List<Submit> batch);
    }

    private final Admit admit;
    private final ConcurrentHashMap<String, Owner> owners = new ConcurrentHashMap<>();

    AdmissionBatcher(Admit admit) {
        this.admit = admit;
    }

    /** What became of {@code submit}; may wait for the batch in progress, never for long. */
    Admission admit(Submit submit) {
        return owners.computeIfAbsent(submit.task().owner(), o -> new Owner()).admit(submit);
    }

    private static final class Pending {
        final Submit submit;
        /** The outcome, or empty: "lead the next batch". */
        final CompletableFuture<Optional<Admission>> done = new CompletableFuture<>();

        Pending(Submit submit) {
            this.submit = submit;
        }
    }

    private final class Owner {
        private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
        private boolean leading;

        Admission admit(Submit submit) {
            Pending mine = new Pending(submit);
            boolean lead;
            synchronized (this) {
                lead = !leading;
                leading = true;
                if (!lead) {
                    waiting.add(mine);
                }
            }
            if (!lead) {
                Optional<Admission> got = join(mine.done);
                if (got.isPresent()) {
                    return got.get();
                }
                // the previous leader finished its batch and made this submit lead the next one
                mine = new Pending(submit);
            }
            List<Pending> batch = new ArrayList<>();
            batch.add(mine);
            synchronized (this) {
                take(batch);
            }
            try {
                run(batch);
            } finally {
                handOver();
            }
            return join(mine.done).orElseThrow();
        }

        /** Moves the waiting submits into {@code batch}, in order, except those whose idempotency key is in it already. */
        private void take(List<Pending> batch) {
            Set<String> keys = new HashSet<>();
            batch.getFirst().submit.key().ifPresent(k -> keys.add(k.key()));
            for (Iterator<Pending> it = waiting.iterator(); it.hasNext() && batch.size() < MAX_BATCH; ) {
                Pending p = it.next();
                if (p.submit.key().isEmpty() || keys.add(p.submit.key().get().key())) {
                    it.remove();
                    batch.add(p);
                }
            }
        }

        private void run(List<Pending> batch) {
            List<Admission> outcomes;
            try {
                outcomes = admit.all(batch.stream().map(p -> p.submit).toList());
            } catch (RuntimeException e) {
                // its transaction rolled back; when the database could not be reached (or was lost at the commit)
                // every submit of it fails, as a lone one would, and none is tried again here
                if (batch.size() == 1 || e instanceof StoreException s && s.unavailable()) {
                    batch.forEach(p -> p.done.completeExceptionally(e));
                } else {
                    alone(batch);
                }
                return;
            } catch (Error e) {
                batch.forEach(p -> p.done.completeExceptionally(e));
                throw e;
            }
            complete(batch, outcomes);
        }

        /** Each submit of a failed batch in a transaction of its own: only the one at fault fails again. */
        private void alone(List<Pending> batch) {
            for (Pending p : batch) {
                List<Admission> outcome;
                try {
                    outcome = admit.all(List.of(p.submit));
                } catch (RuntimeException e) {
                    p.done.completeExceptionally(e);
                    continue;
                } catch (Error e) {
                    batch.forEach(q -> q.done.completeExceptionally(e));
                    throw e;
                }
                complete(List.of(p), outcome);
            }
        }

        private static void complete(List<Pending> batch, List<Admission> outcomes) {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done.complete(Optional.of(outcomes.get(i)));
            }
        }

        /** Makes the first submit still waiting lead the next batch, or ends leading. */
        private void handOver() {
            Pending next;
            synchronized (this) {
                next = waiting.pollFirst();
                if (next == null) {
                    leading = false;
                    return;
                }
            }
            next.done.complete(Optional.empty());
        }

        private static Optional<Admission> join(CompletableFuture<Optional<Admission>> f) {
            try {
                return f.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error r) {
                    throw r;
                }
                throw e;
            }
        }
    }
}
