package dev.qwenimage.tenant;

import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.auth.Secrets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The admin side of keys: create, change, rotate, revoke, and what they used. Every change is
 * durable in the store and in force on this node when the call returns (other nodes follow
 * within a second, told by the store).
 */
public final class Tenants {
    public static final int MAX_NAME = 100;
    public static final int MAX_LABELS = 32;
    public static final Duration MAX_GRACE = Duration.ofDays(30);
    /** Larger than any limit means anything: a billion. */
    public static final long MAX_LIMIT = 1_000_000_000L;
    private static final Pattern ENGINE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?");

    /** A key and its secret, which is shown this once. */
    public record Issued(ApiKey key, String secret) {
    }

    /**
     * A change to a key: an empty field is left as it is. In {@code limits}, each entry present
     * replaces the key's value (null: back to the global default).
     */
    public record Change(Optional<String> name, Optional<Map<String, Object>> limits, Optional<Map<String, String>> labels,
                         Optional<Optional<Instant>> expiresAt) {
    }

    private final KeyStore store;
    private final KeyDirectory directory;
    private final UsageStore usage;
    private final Clock clock;

    public Tenants(KeyStore store, KeyDirectory directory, UsageStore usage, Clock clock) {
        this.store = store;
        this.directory = directory;
        this.usage = usage;
        this.clock = clock;
    }

    public KeyDirectory directory() {
        return directory;
    }

    public Issued create(String name, Optional<Instant> expiresAt, KeyLimits limits, Map<String, String> labels) {
        Instant now = now();
        String checkedName = name(name);
        expiresAt = expiresAt.map(at -> at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        expiresAt.ifPresent(at -> future(at, now));
        check(limits);
        labels(labels);
        String secret = Secrets.generate("qwen-");
        String id = "key_" + Secrets.randomId(12);
        ApiKey key = new ApiKey(id, id, checkedName, ApiKeys.prefixOf(secret), Secrets.sha256Hex(secret), Optional.empty(),
                Optional.empty(), now, expiresAt, Optional.empty(), limits, labels, false);
        store.createKey(key);
        directory.reload();
        return new Issued(key, secret);
    }

    public List<ApiKey> list() {
        return directory.all();
    }

    public ApiKey get(String id) {
        return directory.byId(id).or(() -> store.key(id)).orElseThrow(() -> new KeyNotFound(id));
    }

    public ApiKey change(String id, Change change) {
        ApiKey key = stored(id);
        Instant now = now();
        if (change.name().isPresent()) {
            key = key.withName(name(change.name().get()));
        }
        if (change.limits().isPresent()) {
            key = key.withLimits(merge(key.limits(), change.limits().get()));
        }
        if (change.labels().isPresent()) {
            key = key.withLabels(labels(change.labels().get()));
        }
        if (change.expiresAt().isPresent()) {
            Optional<Instant> at = change.expiresAt().get().map(t -> t.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            at.ifPresent(t -> future(t, now));
            key = key.withExpiry(at);
        }
        if (!store.updateKeySettings(key)) {
            throw new KeyNotFound(id);
        }
        return reloaded(id);
    }

    /** Revokes the key at once on this node, within a second on the others; revoking a revoked key changes nothing. */
    public ApiKey revoke(String id) {
        stored(id);
        store.revokeKey(id, now());
        return reloaded(id);
    }

    /**
     * A new secret for the key; the old one keeps working for {@code grace}, then stops. A rotation
     * during the grace period of an earlier one ends that period: only the secret just replaced
     * stays valid beside the new one.
     */
    public Issued rotate(String id, Duration grace) {
        if (grace.isNegative() || grace.compareTo(MAX_GRACE) > 0) {
            throw new InvalidKeyRequest("grace_seconds", "grace_seconds must be from 0 to " + MAX_GRACE.toSeconds()
                    + " (30 days); got " + grace.toSeconds());
        }
        ApiKey key = stored(id);
        if (key.revokedAt().isPresent()) {
            throw new KeyStore.KeyConflict("key " + id + " is revoked; create a new key instead of rotating it", null);
        }
        Instant now = now();
        String secret = Secrets.generate("qwen-");
        ApiKey rotated = key.rotated(Secrets.sha256Hex(secret), ApiKeys.prefixOf(secret), now, now.plus(grace));
        if (!store.rotateKey(rotated, key.secretSha256())) {
            // revoked or rotated by another request since it was read: this secret was never valid, so it is not shown
            throw new KeyStore.KeyConflict("key " + id + " was revoked or rotated by another request meanwhile; "
                    + "look at it again (GET /admin/v1/keys/" + id + ") before rotating it", null);
        }
        return new Issued(reloaded(id), secret);
    }

    /** Usage per key, summed per {@code granularity}, for periods in [from, to); one key's when {@code keyId} is given. */
    public List<UsageLine> usage(Optional<String> keyId, Instant from, Instant to, Granularity granularity) {
        if (!from.isBefore(to)) {
            throw new InvalidKeyRequest("from", "from must be before to");
        }
        if (Duration.between(from, to).compareTo(granularity.maxRange()) > 0) {
            throw new InvalidKeyRequest("to", "at most " + granularity.maxRange().toDays() + " days at "
                    + granularity.wireName() + " granularity; ask for a shorter range");
        }
        Optional<String> owner = keyId.map(id -> get(id).owner());
        List<UsageRow> hourly = usage.usage(owner, granularity.floor(from), to);
        Map<String, UsageRow> summed = new LinkedHashMap<>();
        for (UsageRow r : hourly) {
            UsageRow p = r.in(granularity.floor(r.period()));
            summed.merge(p.owner() + "\n" + p.period(), p, UsageRow::plus);
        }
        List<UsageLine> lines = new ArrayList<>();
        for (UsageRow r : summed.values()) {
            Optional<ApiKey> key = directory.byOwner(r.owner());
            lines.add(new UsageLine(key.map(ApiKey::id).orElse(r.owner()), key.map(ApiKey::name).orElse(""), r));
        }
        lines.sort(java.util.Comparator.comparing((UsageLine l) -> l.row().period()).thenComparing(UsageLine::keyId));
        return lines;
    }

    /** One row of a usage report: the key it belongs to (by id and name, as known now) and its counts. */
    public record UsageLine(String keyId, String name, UsageRow row) {
    }

    /** Now, to the millisecond: what the store keeps, so an answer shows the times a later read shows. */
    private Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    /** The key as stored now (not as this node last loaded it): changes start from the latest state. */
    private ApiKey stored(String id) {
        ApiKey key = directory.byId(id).filter(ApiKey::bootstrap).or(() -> store.key(id)).orElseThrow(() -> new KeyNotFound(id));
        if (key.bootstrap()) {
            throw new KeyNotEditable(key);
        }
        return key;
    }

    /** Reloads this node's keys after a change and answers the key as stored. */
    private ApiKey reloaded(String id) {
        directory.reload();
        return store.key(id).orElseThrow(() -> new KeyNotFound(id));
    }

    // ---- rules ----------------------------------------------------------------------------------

    private static String name(String name) {
        if (name == null || name.isBlank()) {
            throw new InvalidKeyRequest("name", "name is required: a few words that say whose key it is, e.g. \"acme-prod\"");
        }
        String n = name.strip();
        if (n.codePointCount(0, n.length()) > MAX_NAME) {
            throw new InvalidKeyRequest("name", "name is longer than " + MAX_NAME + " characters");
        }
        if (n.codePoints().anyMatch(Character::isISOControl)) {
            throw new InvalidKeyRequest("name", "name must not contain control characters (new lines, tabs)");
        }
        return n;
    }

    private static void future(Instant at, Instant now) {
        if (!at.isAfter(now)) {
            throw new InvalidKeyRequest("expires_at", "expires_at must be in the future; got " + at);
        }
    }

    private static Map<String, String> labels(Map<String, String> labels) {
        if (labels.size() > MAX_LABELS) {
            throw new InvalidKeyRequest("labels", "at most " + MAX_LABELS + " labels; got " + labels.size());
        }
        labels.forEach((k, v) -> {
            if (!LABEL_KEY.matcher(k).matches()) {
                throw new InvalidKeyRequest("labels", "label names are 1 to 63 of a-z, 0-9, '_', '.', '-' (starting and ending "
                        + "with a letter or digit); got " + KeyNotFound.quoted(k));
            }
            if (v == null || v.length() > 256 || v.codePoints().anyMatch(Character::isISOControl)) {
                throw new InvalidKeyRequest("labels", "label " + k + " must have a value of at most 256 characters without control characters");
            }
        });
        return labels;
    }

    /** The key's limits with {@code change} applied: each field present replaces (null: the default). */
    public static KeyLimits merge(KeyLimits current, Map<String, Object> change) {
        for (String field : change.keySet()) {
            if (!LIMIT_FIELDS.contains(field)) {
                throw new InvalidKeyRequest("limits." + field, "unknown limit " + KeyNotFound.quoted(field) + "; the limits are "
                        + String.join(", ", LIMIT_FIELDS));
            }
        }
        KeyLimits merged = new KeyLimits(
                change.containsKey("max_queued") ? number(change, "max_queued") : current.maxQueued(),
                change.containsKey("submits_per_minute") ? number(change, "submits_per_minute") : current.submitsPerMinute(),
                change.containsKey("images_per_day") ? number(change, "images_per_day") : current.imagesPerDay(),
                change.containsKey("max_pixels") ? number(change, "max_pixels") : current.maxPixels(),
                change.containsKey("allowed_engines") ? engines(change.get("allowed_engines")) : current.allowedEngines());
        check(merged);
        return merged;
    }

    public static final List<String> LIMIT_FIELDS = List.of("max_queued", "submits_per_minute", "images_per_day", "max_pixels",
            "allowed_engines");

    private static Long number(Map<String, Object> change, String field) {
        Object v = change.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof Number n && (n instanceof Integer || n instanceof Long || n instanceof java.math.BigInteger)) {
            long value;
            try {
                value = n instanceof java.math.BigInteger b ? b.longValueExact() : n.longValue();
            } catch (ArithmeticException e) {
                value = Long.MAX_VALUE;
            }
            return value;
        }
        throw new InvalidKeyRequest("limits." + field, "limits." + field + " must be a whole number (0 for no limit) or null "
                + "for the global default; got " + KeyNotFound.quoted(String.valueOf(v)));
    }

    private static List<String> engines(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> list) || list.isEmpty() || list.size() > 32) {
            throw new InvalidKeyRequest("limits.allowed_engines", "limits.allowed_engines must be a list of 1 to 32 engine names, "
                    + "e.g. [\"comfyui\"], or null for every engine");
        }
        List<String> names = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s) || !ENGINE_NAME.matcher(s).matches()) {
                throw new InvalidKeyRequest("limits.allowed_engines", "engine names are 1 to 64 letters, digits, '.', '_', ':' or "
                        + "'-' (the names /healthz lists); got " + KeyNotFound.quoted(String.valueOf(o)));
            }
            if (!names.contains(s)) {
                names.add(s);
            }
        }
        return names;
    }

    private static void check(KeyLimits l) {
        checkRange("max_queued", l.maxQueued());
        checkRange("submits_per_minute", l.submitsPerMinute());
        checkRange("images_per_day", l.imagesPerDay());
        checkRange("max_pixels", l.maxPixels());
        if (l.allowedEngines() != null) {
            engines(l.allowedEngines());
        }
    }

    private static void checkRange(String field, Long v) {
        if (v != null && (v < 0 || v > MAX_LIMIT)) {
            throw new InvalidKeyRequest("limits." + field, "limits." + field + " must be from 0 (no limit) to " + MAX_LIMIT
                    + ", or null for the global default; got " + v);
        }
    }
}
