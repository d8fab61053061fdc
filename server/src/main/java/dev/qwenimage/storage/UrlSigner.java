package dev.qwenimage.storage;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks expiring links: HMAC-SHA256 over the object key and the expiry (epoch seconds,
 * 0 for never), so a link cannot be pointed at another object or made to live longer.
 */
public final class UrlSigner {

    /** Why a link was refused. */
    public enum Verdict { VALID, EXPIRED, BAD_SIGNATURE }

    private final SecretKeySpec key;
    private final Clock clock;

    public UrlSigner(byte[] secret, Clock clock) {
        if (secret.length < 16) {
            throw new IllegalArgumentException("the URL-signing secret must have at least 16 bytes");
        }
        this.key = new SecretKeySpec(secret, "HmacSHA256");
        this.clock = clock;
    }

    public String sign(String objectKey, long expiresEpochSeconds) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] sig = mac.doFinal((objectKey + "\n" + expiresEpochSeconds).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    public Verdict check(String objectKey, long expiresEpochSeconds, String signature) {
        if (signature == null) {
            return Verdict.BAD_SIGNATURE;
        }
        byte[] expected = sign(objectKey, expiresEpochSeconds).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
            return Verdict.BAD_SIGNATURE;
        }
        if (expiresEpochSeconds != 0 && clock.instant().getEpochSecond() > expiresEpochSeconds) {
            return Verdict.EXPIRED;
        }
        return Verdict.VALID;
    }

    public Clock clock() {
        return clock;
    }
}
