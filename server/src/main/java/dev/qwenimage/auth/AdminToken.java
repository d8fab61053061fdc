package dev.qwenimage.auth;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The token of the admin routes: {@code QWEN_IMAGE_ADMIN_TOKEN}, or the one generated on the first
 * start into {@code <data dir>/admin-token} (owner-only). Held as a digest, compared in constant time.
 */
public final class AdminToken {
    public static final String FILE = "admin-token";

    private final byte[] digest;
    private final Optional<String> generated;
    private final Optional<Path> file;

    private AdminToken(byte[] digest, Optional<String> generated, Optional<Path> file) {
        this.digest = digest;
        this.generated = generated;
        this.file = file;
    }

    public static AdminToken load(String configured, Path dataDir) {
        if (!configured.isBlank()) {
            return new AdminToken(Secrets.sha256(configured.strip()), Optional.empty(), Optional.empty());
        }
        Path file = dataDir.resolve(FILE);
        String token = Secrets.loadOrCreate(file, "qwen-admin-", "admin token");
        return new AdminToken(Secrets.sha256(token), Optional.of(token), Optional.of(file));
    }

    public boolean accepts(String presented) {
        return Secrets.matches(digest, presented);
    }

    /** The token generated for this data directory, when none was configured. */
    public Optional<String> generatedToken() {
        return generated;
    }

    public Optional<Path> generatedFile() {
        return file;
    }
}
