package dev.qwenimage.auth;

import dev.qwenimage.fs.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API keys this service accepts. Keys are held only as SHA-256 digests and compared in
 * constant time; a task's owner is the digest's hex form, so no full key is ever stored with a
 * task or written to a log.
 */
public final class ApiKeys {
    private static final String KEY_FILE = "api-key";

    private final List<byte[]> digests;
    private final Optional<String> generatedKey;
    private final Path generatedKeyFile;
    private final int count;

    private ApiKeys(List<byte[]> digests, Optional<String> generatedKey, Path generatedKeyFile) {
        this.digests = digests;
        this.generatedKey = generatedKey;
        this.generatedKeyFile = generatedKeyFile;
        this.count = digests.size();
    }

    /**
     * The configured keys, or, when none are configured, the key kept in {@code dataDir} (created
     * on the first start).
     */
    public static ApiKeys load(List<String> configured, Path dataDir) {
        if (!configured.isEmpty()) {
            return new ApiKeys(configured.stream().map(ApiKeys::digest).toList(), Optional.empty(), null);
        }
        Path file = dataDir.resolve(KEY_FILE);
        try {
            String key;
            if (Files.exists(file)) {
                key = Files.readString(file, StandardCharsets.UTF_8).strip();
            } else {
                byte[] random = new byte[24];
                new SecureRandom().nextBytes(random);
                key = "qwen-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
                OwnerOnly.write(file, key + "\n");
            }
            OwnerOnly.file(file);
            if (key.isEmpty()) {
                throw new IllegalStateException(file + " is empty; delete it to generate a new key");
            }
            return new ApiKeys(List.of(digest(key)), Optional.of(key), file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the API key file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The owner id (digest hex) of {@code presented} if it is one of the keys; every configured
     * key is compared, in constant time, whatever the outcome.
     */
    public Optional<String> authenticate(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] d = digest(presented);
        boolean match = false;
        for (byte[] known : digests) {
            match |= MessageDigest.isEqual(known, d);
        }
        return match ? Optional.of(HexFormat.of().formatHex(d)) : Optional.empty();
    }

    /** The owner id of a key (for tests and tools that submit on behalf of a key). */
    public static String ownerOf(String key) {
        return HexFormat.of().formatHex(digest(key));
    }

    /** The key generated for this data directory, when no keys were configured. */
    public Optional<String> generatedKey() {
        return generatedKey;
    }

    public Optional<Path> generatedKeyFile() {
        return Optional.ofNullable(generatedKeyFile);
    }

    public int count() {
        return count;
    }

    /** A form of a key safe for logs: its first 4 and last 2 characters. */
    public static String mask(String key) {
        if (key.length() <= 8) {
            return "****";
        }
        return key.substring(0, 4) + "…" + key.substring(key.length() - 2);
    }

    /** Cloning a prototype skips the provider look-up of {@link MessageDigest#getInstance} on every request. */
    private static final MessageDigest SHA256;

    static {
        try {
            SHA256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is part of every JDK", e);
        }
    }

    private static byte[] digest(String key) {
        MessageDigest md;
        try {
            md = (MessageDigest) SHA256.clone();
        } catch (CloneNotSupportedException e) {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException impossible) {
                throw new AssertionError(impossible);
            }
        }
        return md.digest(key.getBytes(StandardCharsets.UTF_8));
    }
}
