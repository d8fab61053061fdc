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

    /** Replaces the stored key with the same id; false when there is none. */
    boolean updateKey(ApiKey key);

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
