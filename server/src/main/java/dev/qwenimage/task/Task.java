package dev.qwenimage.task;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A task as stored: the client's request, its bookkeeping and its current {@link TaskState}.
 * {@code seq} is the order of arrival; {@code turn} the round in which fair queueing serves it
 * (claims go in (turn, seq) order).
 */
public record Task(
        String id,
        long seq,
        long turn,
        String owner,
        TaskSpec spec,
        TaskState state,
        int attempts,
        int maxAttempts,
        Instant createdAt,
        Optional<Instant> startedAt,
        Optional<Instant> finishedAt,
        OptionalInt engineMillis,
        Optional<String> engine) {
}
