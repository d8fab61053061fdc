package dev.qwenimage.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, small file system for fault tests: a tmpfs of a few megabytes mounted on a fresh folder,
 * which a test can fill to the last byte ({@link #fill}) and free again ({@link #free}), or whose
 * files it can make immutable ({@link #immutable}). Mounting needs root (CI runs as root on these
 * machines); elsewhere the tests skip with a loud message, except under CI=true, where not being
 * able to mount is a failure.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path mountPoint;
    private Path filler;

    private SmallDisk(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of {@code megabytes} MiB on a new temporary folder. */
    public static SmallDisk mount(int megabytes) {
        Path dir;
        try {
            dir = Files.createTempDirectory("qwen-image-small-disk-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String problem = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m,mode=0755", "tmpfs", dir.toString()));
        if (problem != null) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a temporary folder; the OS cleans it
            }
            String message = "cannot mount a small tmpfs for the disk-fault tests (" + problem + "); they need root";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + ": CI must run them");
            }
            System.err.println("\n!!! SKIPPING disk-fault tests: " + message + " !!!\n");
            Assumptions.abort(message);
        }
        return new SmallDisk(dir);
    }

    public Path root() {
        return mountPoint;
    }

    /** Writes a filler file until the file system has no byte left. */
    public void fill() {
        filler = mountPoint.resolve("filler-" + System.nanoTime());
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // ENOSPC: the disk is full, which is what was asked for
        }
        // the last partial block: fill the remaining bytes one by one
        try (OutputStream out = Files.newOutputStream(filler, java.nio.file.StandardOpenOption.APPEND)) {
            while (true) {
                out.write(0);
                out.flush();
            }
        } catch (IOException full) {
            // full to the byte
        }
    }

    /** Removes the filler written by {@link #fill}. */
    public void free() {
        try {
            if (filler != null) {
                Files.deleteIfExists(filler);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sets or clears the immutable attribute of {@code file} (chattr on a regular file system; not on tmpfs). */
    public static void immutable(Path file, boolean on) {
        String problem = run(List.of("chattr", on ? "+i" : "-i", file.toString()));
        if (problem != null) {
            throw new AssertionError("chattr failed on " + file + ": " + problem);
        }
    }

    @Override
    public void close() {
        run(List.of("umount", "-l", mountPoint.toString()));
        try {
            Files.deleteIfExists(mountPoint);
        } catch (IOException ignored) {
            // the OS cleans temporary folders
        }
    }

    /** Runs a command; null when it succeeded, else what went wrong. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return String.join(" ", command) + " did not finish";
            }
            return p.exitValue() == 0 ? null : String.join(" ", command) + ": " + out;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
