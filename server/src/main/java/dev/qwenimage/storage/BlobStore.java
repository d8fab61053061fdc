package dev.qwenimage.storage;

import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;

/**
 * Where finished images live, and how clients get a link to one. The embedded store keeps files
 * on local disk and hands out HMAC-signed links served by this service; {@link S3BlobStore} keeps
 * them in an S3-compatible bucket and hands out presigned links the bucket serves itself.
 */
public interface BlobStore {

    /** Stores {@code bytes} under {@code key}, replacing any earlier object atomically. */
    void put(String key, byte[] bytes, String contentType);

    /** Opens the object, or empty if it does not exist. */
    Optional<Blob> open(String key);

    /**
     * Checks that the store takes writes now, the way {@link #put} writes, leaving nothing behind;
     * throws (as put would) when it does not. Readiness probes call it every few seconds.
     */
    void probeWrite();

    /** Removes the object; no error if it does not exist. */
    void delete(String key);

    /**
     * An absolute link to the object valid for {@code ttl} ({@link Duration#ZERO}: no expiry).
     * {@code baseUrl} is this service's public base URL (used by stores that serve through it).
     */
    String link(String key, String baseUrl, Duration ttl);

    /**
     * How long a link asked for with {@code requested} really stays valid ({@link Duration#ZERO}: no
     * expiry). Stores whose links cannot live that long say so here, and clients are told this.
     */
    default Duration linkTtl(Duration requested) {
        return requested;
    }

    /** An open object: its content, size and type. The caller closes the stream. */
    record Blob(InputStream content, long size, String contentType) {
    }
}
