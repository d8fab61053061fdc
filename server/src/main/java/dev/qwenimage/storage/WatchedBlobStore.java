package dev.qwenimage.storage;

import dev.qwenimage.health.WriteHealth;
import java.time.Duration;
import java.util.Optional;

/**
 * A {@link BlobStore} whose writes (images stored and write probes) report to a {@link WriteHealth},
 * so readiness and the worker slots know when the image store stops taking writes, and again when
 * it takes them once more.
 */
public final class WatchedBlobStore implements BlobStore {
    private final BlobStore store;
    private final WriteHealth health;

    public WatchedBlobStore(BlobStore store, WriteHealth health) {
        this.store = store;
        this.health = health;
    }

    public WriteHealth health() {
        return health;
    }

    @Override
    public void put(String key, byte[] bytes, String contentType) {
        watched(() -> store.put(key, bytes, contentType));
    }

    @Override
    public void probeWrite() {
        watched(store::probeWrite);
    }

    private void watched(Runnable write) {
        try {
            write.run();
            health.succeeded();
        } catch (RuntimeException e) {
            health.failed(e.getMessage());
            throw e;
        }
    }

    @Override
    public Optional<Blob> open(String key) {
        return store.open(key);
    }

    @Override
    public void delete(String key) {
        store.delete(key);
    }

    @Override
    public String link(String key, String baseUrl, Duration ttl) {
        return store.link(key, baseUrl, ttl);
    }

    @Override
    public Duration linkTtl(Duration requested) {
        return store.linkTtl(requested);
    }
}
