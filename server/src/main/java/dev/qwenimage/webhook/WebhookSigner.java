package dev.qwenimage.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook deliveries the Standard Webhooks way: {@code webhook-signature: v1,<base64 of
 * HMAC-SHA256(secret, id + "." + timestamp + "." + body)>}. Each API key gets a secret of its own,
 * derived from the service secret, so receivers of one tenant cannot forge another's deliveries;
 * a client reads its secret from {@code GET /v3/webhook-secret} as {@code whsec_<base64>}, the form
 * Standard Webhooks libraries take.
 */
public final class WebhookSigner {
    private final SecretKeySpec serviceKey;

    public WebhookSigner(byte[] serviceSecret) {
        this.serviceKey = new SecretKeySpec(serviceSecret, "HmacSHA256");
    }

    /** The raw 32-byte signing key of the API key whose owner id is {@code owner}. */
    byte[] keyOf(String owner) {
        return hmac(serviceKey, ("webhook-secret:" + owner).getBytes(StandardCharsets.UTF_8));
    }

    /** The owner's secret as receivers configure it: {@code whsec_} and the key in base64. */
    public String secretFor(String owner) {
        return "whsec_" + Base64.getEncoder().encodeToString(keyOf(owner));
    }

    /** The {@code webhook-signature} header value for one delivery. */
    public String signature(String owner, String messageId, long timestampSeconds, byte[] body) {
        byte[] prefix = (messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8);
        byte[] signed = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, signed, 0, prefix.length);
        System.arraycopy(body, 0, signed, prefix.length, body.length);
        return "v1," + Base64.getEncoder().encodeToString(hmac(new SecretKeySpec(keyOf(owner), "HmacSHA256"), signed));
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
