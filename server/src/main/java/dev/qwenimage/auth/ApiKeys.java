package dev.qwenimage.auth;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The bootstrap API keys: those of {@code QWEN_IMAGE_API_KEYS}, or, when none are configured, the
 * key generated on the first start into the data directory. Keys are held only as SHA-256
 * digests; a bootstrap key's tasks are owned by the digest's hex form (as they were before keys
 * could be managed), so no full key is ever stored with a task or written to a log.
 */
public final class ApiKeys {
    private static final String KEY_FILE = "api-key";

    /** One bootstrap key: its owner id (digest hex), the first characters people recognise, and where it came from. */
    public record Bootstrap(String owner, byte[] digest, String prefix, String source) {
    }

    private final List<Bootstrap> keys;
    private final Optional<String> generatedKey;
    private final Path generatedKeyFile;

    private ApiKeys(List<Bootstrap> keys, Optional<String> generatedKey, Path generatedKeyFile) {
        this.keys = List.copyOf(keys);
        this.generatedKey = generatedKey;
        this.generatedKeyFile = generatedKeyFile;
    }

    /**
     * The configured keys, or, when none are configured, the key kept in {@code dataDir} (created
     * on the first start).
     */
    public static ApiKeys load(List<String> configured, Path dataDir) {
        if (!configured.isEmpty()) {
            List<Bootstrap> keys = new ArrayList<>();
            for (int i = 0; i < configured.size(); i++) {
                keys.add(bootstrap(configured.get(i), "QWEN_IMAGE_API_KEYS #" + (i + 1)));
            }
            return new ApiKeys(keys, Optional.empty(), null);
        }
        Path file = dataDir.resolve(KEY_FILE);
        String key = Secrets.loadOrCreate(file, "qwen-", "API key");
        return new ApiKeys(List.of(bootstrap(key, "generated into " + file.getFileName())), Optional.of(key), file);
    }

    private static Bootstrap bootstrap(String key, String source) {
        byte[] d = Secrets.sha256(key);
        return new Bootstrap(HexFormat.of().formatHex(d), d, prefixOf(key), source);
    }

    /** No bootstrap keys (a worker node, which serves no API). */
    public static ApiKeys none() {
        return new ApiKeys(List.of(), Optional.empty(), null);
    }

    /** The bootstrap keys, in the order they were configured. */
    public List<Bootstrap> keys() {
        return keys;
    }

    /** The owner id of a bootstrap key (for tests and tools that submit on behalf of a key). */
    public static String ownerOf(String key) {
        return Secrets.sha256Hex(key);
    }

    /** The key generated for this data directory, when no keys were configured. */
    public Optional<String> generatedKey() {
        return generatedKey;
    }

    public Optional<Path> generatedKeyFile() {
        return Optional.ofNullable(generatedKeyFile);
    }

    public int count() {
        return keys.size();
    }

    /** The first characters of a key, shown to people so they can tell keys apart: at most 9, and never more than a third of it. */
    public static String prefixOf(String key) {
        return key.substring(0, Math.min(9, key.length() / 3));
    }

    /** A form of a key safe for logs: its first 4 and last 2 characters. */
    public static String mask(String key) {
        if (key.length() <= 8) {
            return "****";
        }
        return key.substring(0, 4) + "…" + key.substring(key.length() - 2);
    }
}
