package dev.qwenimage.tenant;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One API key as the service knows it. The secret itself is never kept: {@code secretSha256} is
 * its digest (hex), and {@code prefix} its first characters, for people to recognise it.
 *
 * @param id             stable id, shown to admins (a key's tasks, webhook secret and idempotency
 *                       records belong to its {@code owner}, which rotation keeps)
 * @param owner          the owner of the key's tasks: the id for a managed key, the digest for a bootstrap key
 * @param previousSha256 after a rotation with a grace period: the old secret's digest, valid until {@code previousUntil}
 * @param bootstrap      from QWEN_IMAGE_API_KEYS or the generated first-start key: not in the store, not editable
 */
public record ApiKey(String id, String owner, String name, String prefix, String secretSha256,
                     Optional<String> previousSha256, Optional<Instant> previousUntil,
                     Instant createdAt, Optional<Instant> expiresAt, Optional<Instant> revokedAt,
                     KeyLimits limits, Map<String, String> labels, boolean bootstrap) {

    public ApiKey {
        labels = Map.copyOf(labels);
    }

    /** The state of the key at {@code now}. */
    public KeyStatus status(Instant now) {
        if (revokedAt.isPresent()) {
            return KeyStatus.REVOKED;
        }
        if (expiresAt.isPresent() && !now.isBefore(expiresAt.get())) {
            return KeyStatus.EXPIRED;
        }
        return KeyStatus.ACTIVE;
    }

    /** Whether the pre-rotation secret still works at {@code now}. */
    public boolean previousValidAt(Instant now) {
        return previousSha256.isPresent() && previousUntil.isPresent() && now.isBefore(previousUntil.get());
    }

    public ApiKey withName(String name) {
        return new ApiKey(id, owner, name, prefix, secretSha256, previousSha256, previousUntil, createdAt, expiresAt, revokedAt,
                limits, labels, bootstrap);
    }

    public ApiKey withLimits(KeyLimits limits) {
        return new ApiKey(id, owner, name, prefix, secretSha256, previousSha256, previousUntil, createdAt, expiresAt, revokedAt,
                limits, labels, bootstrap);
    }

    public ApiKey withLabels(Map<String, String> labels) {
        return new ApiKey(id, owner, name, prefix, secretSha256, previousSha256, previousUntil, createdAt, expiresAt, revokedAt,
                limits, labels, bootstrap);
    }

    public ApiKey withExpiry(Optional<Instant> expiresAt) {
        return new ApiKey(id, owner, name, prefix, secretSha256, previousSha256, previousUntil, createdAt, expiresAt, revokedAt,
                limits, labels, bootstrap);
    }

    public ApiKey revoked(Instant at) {
        return new ApiKey(id, owner, name, prefix, secretSha256, Optional.empty(), Optional.empty(), createdAt, expiresAt,
                Optional.of(at), limits, labels, bootstrap);
    }

    /** The key with a new secret; the old one works until {@code graceUntil} (not at all when that is not after now). */
    public ApiKey rotated(String newSha256, String newPrefix, Instant now, Instant graceUntil) {
        boolean grace = graceUntil.isAfter(now);
        return new ApiKey(id, owner, name, newPrefix, newSha256, grace ? Optional.of(secretSha256) : Optional.empty(),
                grace ? Optional.of(graceUntil) : Optional.empty(), createdAt, expiresAt, revokedAt, limits, labels, bootstrap);
    }
}
