package dev.qwenimage.storage;

import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;

/**
 * Where finished images live, and how clients get a link to one. The embedded store keeps files
 * on local disk and hands out HMAC-signed links served by this service.
 */
public interface BlobStore {

    /** Stores {@code bytes} under {@code key}, replacing any earlier object atomically. */
    void put(String key, byte[] bytes, String contentType);

    /** Opens the object, or empty if it does not exist. */
    Optional<Blob> open(String key);

    /** Removes the object; no error if it does not exist. */
    void delete(String key);

    /**
     * An absolute link to the object valid for {@code ttl} ({@link Duration#ZERO}: no expiry).
     * {@code baseUrl} is this service's public base URL (used by stores that serve through it).
     */
    String link(String key, String baseUrl, Duration ttl);

    /** An open object: its content, size and type. The caller closes the stream. */
    record Blob(InputStream content, long size, String contentType) {
    }
}
