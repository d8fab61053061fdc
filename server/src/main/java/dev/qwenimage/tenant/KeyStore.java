package dev.qwenimage.tenant;

import java.util.List;
import java.util.Optional;

/**
 * The managed API keys, durable in the task store's database (both stores implement this
 * interface; one contract suite tests both). Bootstrap keys are not stored.
 */
public interface KeyStore {
    /** Stores a new key; {@link KeyConflict} when its id or secret digest is taken. */
    void createKey(ApiKey key);

    /** Every managed key, revoked ones included, oldest first. */
    List<ApiKey> keys();

    Optional<ApiKey> key(String id);

    /**
     * Changes what an admin edits (name, expiry, limits, labels) of the stored key with the same id,
     * never its secrets or revocation, so an edit made from an older copy of the key cannot undo a
     * rotation or a revocation made meanwhile. False when there is no such key.
     */
    boolean updateKeySettings(ApiKey key);

    /** Revokes key {@code id} at {@code at} unless it is revoked already; false when it was (or does not exist). */
    boolean revokeKey(String id, java.time.Instant at);

    /**
     * Gives the key {@code rotated}'s secret and previous secret, if its secret is still
     * {@code expectedSha256} and it is not revoked (so two rotations or a rotation and a revocation
     * never both win); false otherwise.
     */
    boolean rotateKey(ApiKey rotated, String expectedSha256);

    /**
     * Calls {@code listener} whenever keys may have changed on any node sharing this store (after
     * this process's own writes as well), within a second of the change.
     */
    void onKeysChanged(Runnable listener);

    /** A key's id or secret digest is already taken. */
    final class KeyConflict extends RuntimeException {
        public KeyConflict(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
