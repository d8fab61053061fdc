package dev.qwenimage.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files only their owner may read: the data directory (0700) and what in it is secret or holds
 * every task (the URL-signing secret, the generated API key, the task database and its journal:
 * 0600). Anyone else who could read the secret could forge image links and every key's webhook
 * signatures. New files are created with these modes from the start (no window in which they are
 * world-readable); existing ones are corrected at start-up. On a file system without POSIX
 * permissions (Windows) nothing is changed: the folder's own access rules apply.
 */
public final class OwnerOnly {
    private static final Logger log = LoggerFactory.getLogger(OwnerOnly.class);
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> FOLDER = PosixFilePermissions.fromString("rwx------");

    private OwnerOnly() {
    }

    /** Creates {@code dir} (and its parents) if needed and makes it owner-only. */
    public static void folder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
        }
        restrict(dir, FOLDER);
    }

    /** Makes an existing {@code file} owner-only; nothing if it does not exist. */
    public static void file(Path file) throws IOException {
        if (Files.exists(file)) {
            restrict(file, FILE);
        }
    }

    /** Creates an empty owner-only {@code file} unless it exists (then only its mode is corrected). */
    public static void create(Path file) throws IOException {
        try {
            Files.createFile(file, attributes(file, FILE));
        } catch (FileAlreadyExistsException exists) {
            // keep it
        }
        restrict(file, FILE);
    }

    /**
     * Writes {@code text} to {@code file} atomically (a temporary file, owner-only from its
     * creation, renamed over it).
     */
    public static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, attributes(tmp, FILE));
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static FileAttribute<?>[] attributes(Path file, Set<PosixFilePermission> mode) {
        return posix(file) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)} : new FileAttribute<?>[0];
    }

    private static boolean posix(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        return dir != null && dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static void restrict(Path p, Set<PosixFilePermission> mode) throws IOException {
        if (!posix(p)) {
            return;
        }
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(p);
        if (!now.equals(mode)) {
            try {
                Files.setPosixFilePermissions(p, mode);
                log.info("made {} readable by its owner only (it was {})", p, PosixFilePermissions.toString(now));
            } catch (IOException e) {
                // another user's file: say so, and go on; the service can still run
                log.warn("{} is {}, readable by others, and its mode cannot be changed ({}); make it {} yourself", p,
                        PosixFilePermissions.toString(now), e.getMessage(), PosixFilePermissions.toString(mode));
            }
        }
    }
}
