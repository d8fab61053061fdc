package dev.qwenimage.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Images on local disk under {@code <data>/images}, sharded by the first two characters of the
 * key, served by this service at {@code /files/<key>} with a signed expiry. Writes go to a temporary
 * file that is synced and then renamed, so a crash never leaves half an image under a real key.
 */
public final class LocalBlobStore implements BlobStore {
    /** Keys are file names we create ourselves: task ids plus an extension. */
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{2,127}");

    private final Path root;
    private final UrlSigner signer;

    public LocalBlobStore(Path root, UrlSigner signer) {
        this.root = root;
        this.signer = signer;
        try {
            Files.createDirectories(root);
            removeAbandonedUploads();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create image directory " + root, e);
        }
    }

    /**
     * Deletes temporary files of uploads a crash interrupted. Safe at start-up only: the data
     * directory is locked by this process, so no upload is in flight.
     */
    private void removeAbandonedUploads() throws IOException {
        try (var files = Files.walk(root, 2)) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith(".upload-")).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    public static boolean isValidKey(String key) {
        return key != null && KEY.matcher(key).matches() && !key.contains("..");
    }

    private Path pathOf(String key) {
        if (!isValidKey(key)) {
            throw new IllegalArgumentException("invalid object key: " + key);
        }
        return root.resolve(key.substring(0, 2)).resolve(key);
    }

    @Override
    public void put(String key, byte[] bytes, String contentType) {
        Path target = pathOf(key);
        try {
            Files.createDirectories(target.getParent());
            Path tmp = writeSynced(target.getParent(), bytes);
            try {
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store image " + key + ": " + describe(e), e);
        }
    }

    /**
     * Writes a 64 KB probe the way {@link #put} writes an image (a temporary file in the image
     * folder, synced), then removes it: a full or read-only disk fails it. (Free space short of a
     * whole image is {@code DiskSpace}'s to catch.)
     */
    @Override
    public void probeWrite() {
        try {
            Files.delete(writeSynced(root, PROBE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the image folder " + root + ": " + describe(e), e);
        }
    }

    /** Random bytes, so that a compressing file system (ZFS, btrfs) must really store them. */
    private static final byte[] PROBE = new byte[64 * 1024];

    static {
        new java.util.Random(1).nextBytes(PROBE);
    }

    /**
     * {@code bytes} in a new temporary file in {@code dir}, forced to disk. A failed write removes
     * its temporary file: a full disk never collects half-written uploads.
     */
    private static Path writeSynced(Path dir, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(dir, ".upload-", ".tmp");
        try (var ch = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            var buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return tmp;
    }

    /** The message of an I/O error, or its kind when it has none (AccessDeniedException has only the path). */
    private static String describe(IOException e) {
        String kind = e.getClass().getSimpleName().replace("Exception", "");
        return e.getMessage() == null ? kind : e instanceof java.nio.file.FileSystemException ? kind + ": " + e.getMessage()
                : e.getMessage();
    }

    @Override
    public Optional<Blob> open(String key) {
        if (!isValidKey(key)) {
            return Optional.empty();
        }
        Path p = pathOf(key);
        try {
            long size = Files.size(p);
            return Optional.of(new Blob(Files.newInputStream(p), size, contentTypeOf(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + key, e);
        }
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(pathOf(key));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete image " + key, e);
        }
    }

    @Override
    public String link(String key, String baseUrl, Duration ttl) {
        long expires = ttl.isZero() ? 0 : signer.clock().instant().plus(ttl).getEpochSecond();
        return baseUrl + "/files/" + URLEncoder.encode(key, StandardCharsets.UTF_8)
                + "?expires=" + expires + "&signature=" + signer.sign(key, expires);
    }

    public UrlSigner signer() {
        return signer;
    }

    /** Number of stored objects (all shards); for tests and health output. */
    public long count() {
        try (var shards = Files.list(root)) {
            return shards.filter(Files::isDirectory).mapToLong(d -> {
                try (var files = Files.list(d)) {
                    return files.filter(f -> !f.getFileName().toString().startsWith(".")).count();
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    private static String contentTypeOf(String key) {
        if (key.endsWith(".png")) {
            return "image/png";
        }
        if (key.endsWith(".webp")) {
            return "image/webp";
        }
        return "image/jpeg";
    }
}
