package dev.qwenimage.ops;

import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The {@code key} label of per-key metrics, with bounded cardinality: at most {@code max} keys get
 * a label of their own, every other key counts as {@code other}. A key keeps its label once it has
 * one (counters must only go up, so a series never moves); free labels go, at each scrape, to the
 * keys that counted the most under {@code other} since the last one, so the busiest keys get
 * theirs first.
 */
final class KeyLabels {
    static final String OTHER = "other";

    private final int max;
    private final Function<String, Optional<String>> nameOf;
    private final ConcurrentHashMap<String, String> labels = new ConcurrentHashMap<>();
    private final Set<String> taken = ConcurrentHashMap.newKeySet();
    /** Events of keys without a label since the last promotion, per owner. */
    private final ConcurrentHashMap<String, LongAdder> unlabelled = new ConcurrentHashMap<>();

    /** @param nameOf a key's name for people, from its owner id; empty for an owner no key has (it stays under other) */
    KeyLabels(int max, Function<String, Optional<String>> nameOf) {
        this.max = max;
        this.nameOf = nameOf;
        taken.add(OTHER);
    }

    /** The label for an event of {@code owner}'s key. */
    String label(String owner) {
        String label = labels.get(owner);
        if (label != null) {
            return label;
        }
        if (unlabelled.size() < 10_000 || unlabelled.containsKey(owner)) {
            unlabelled.computeIfAbsent(owner, o -> new LongAdder()).increment();
        }
        return OTHER;
    }

    /** Gives free labels to the keys that counted most under {@code other}; called before each scrape. */
    synchronized void promote() {
        if (labels.size() >= max || unlabelled.isEmpty()) {
            unlabelled.clear();
            return;
        }
        var busiest = unlabelled.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> e.getValue().sum()).reversed())
                .limit(max - labels.size()).map(Map.Entry::getKey).toList();
        unlabelled.clear();
        for (String owner : busiest) {
            Optional<String> name = nameOf.apply(owner);
            if (name.isEmpty()) {
                continue;
            }
            // two keys of one name (or a key named "other") get "name #2", "name #3": never anything of the owner id
            String label = name.get();
            for (int n = 2; taken.contains(label); n++) {
                label = name.get() + " #" + n;
            }
            taken.add(label);
            labels.put(owner, label);
        }
    }

    /** The labels given so far (for tests and /healthz). */
    Set<String> given() {
        return new HashSet<>(labels.values());
    }
}
