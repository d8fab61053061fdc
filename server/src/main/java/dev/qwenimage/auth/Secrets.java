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

/** Secrets as this service handles them: generated at random, kept only as SHA-256 digests. */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Cloning a prototype skips the provider look-up of {@link MessageDigest#getInstance} on every request. */
    private static final MessageDigest SHA256;

    static {
        try {
            SHA256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is part of every JDK", e);
        }
    }

    private Secrets() {
    }

    /** A new secret: {@code prefix} and 24 random bytes in URL-safe base64 (192 bits). */
    public static String generate(String prefix) {
        byte[] random = new byte[24];
        RANDOM.nextBytes(random);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** {@code n} random characters of [0-9a-z], for ids people read and type. */
    public static String randomId(int n) {
        String alphabet = "0123456789abcdefghijkmnpqrstvwxyz";
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    public static byte[] sha256(String secret) {
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
        return md.digest(secret.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256Hex(String secret) {
        return HexFormat.of().formatHex(sha256(secret));
    }

    /** Whether {@code presented} is {@code expected}, compared by digest in constant time. */
    public static boolean matches(byte[] expectedDigest, String presented) {
        return presented != null && MessageDigest.isEqual(expectedDigest, sha256(presented));
    }

    /**
     * The secret kept in {@code file}, created with {@code prefix} on the first start (owner-only);
     * {@code what} names it in errors.
     */
    public static String loadOrCreate(Path file, String prefix, String what) {
        try {
            String secret;
            if (Files.exists(file)) {
                secret = Files.readString(file, StandardCharsets.UTF_8).strip();
            } else {
                secret = generate(prefix);
                OwnerOnly.write(file, secret + "\n");
            }
            OwnerOnly.file(file);
            if (secret.isEmpty()) {
                throw new IllegalStateException(file + " is empty; delete it to generate a new " + what);
            }
            return secret;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the " + what + " file " + file + ": " + e.getMessage(), e);
        }
    }
}
