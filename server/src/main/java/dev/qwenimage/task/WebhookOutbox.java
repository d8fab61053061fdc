package dev.qwenimage.task;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The durable list of webhook deliveries to make. A row is written by the store in the very
 * transaction that ends a task with a webhook URL, so a crash can lose no delivery; any node then
 * claims due rows (a claim pushes the row's next try out by a lease, so a node that dies while
 * sending leaves it to another) and records the outcome.
 */
public interface WebhookOutbox {

    /** A delivery to make: which task, to which URL, and the how-manieth try this is (1-based). */
    record Delivery(long id, String taskId, String url, int attempt) {
    }

    /** The next due delivery, claimed for {@code lease}; empty when none is due. */
    Optional<Delivery> claimDelivery(Instant now, Duration lease);

    /** The receiver answered 2xx. */
    void delivered(long id, Instant now);

    /** The try failed; try again at {@code retryAt}, or give up when it is empty. */
    void deliveryFailed(long id, String error, Optional<Instant> retryAt, Instant now);

    /** Deletes delivered and given-up rows older than {@code cutoff}; returns how many. */
    int forgetDeliveriesBefore(Instant cutoff);
}
