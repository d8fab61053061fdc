package dev.qwenimage.tenant;

import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.auth.Secrets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every key this node accepts, in memory: the bootstrap keys and the managed keys of the store,
 * reloaded whenever the store says keys changed on any node ({@link KeyStore#onKeysChanged}),
 * and every half minute as a safety net. Authenticating a request is one digest and one map
 * look-up: never a database read.
 */
public final class KeyDirectory {
    private static final Logger log = LoggerFactory.getLogger(KeyDirectory.class);

    private final KeyStore store;
    private final List<ApiKey> bootstrap;
    private final Limits defaults;
    private final Clock clock;
    /** The keys by the hex digest of their current secret, and of a previous one still in its grace period. */
    private volatile View view;
    private final AtomicBoolean reloading = new AtomicBoolean();
    private volatile boolean reloadAgain;

    private record View(Map<String, ApiKey> bySecret, Map<String, ApiKey> byId, Map<String, ApiKey> byOwner, List<ApiKey> all) {
    }

    public KeyDirectory(KeyStore store, ApiKeys bootstrapKeys, Limits defaults, Clock clock) {
        this.store = store;
        this.defaults = defaults;
        this.clock = clock;
        List<ApiKey> boot = new ArrayList<>();
        for (ApiKeys.Bootstrap b : bootstrapKeys.keys()) {
            boot.add(new ApiKey(bootstrapId(b.owner()), b.owner(), b.source(), b.prefix(), b.owner(), Optional.empty(),
                    Optional.empty(), Instant.EPOCH, Optional.empty(), Optional.empty(), KeyLimits.DEFAULTS, Map.of(), true));
        }
        this.bootstrap = List.copyOf(boot);
        reload();
        store.onKeysChanged(this::reloadSoon);
    }

    /** The id a bootstrap key is shown under: its owner digest's first 16 hex digits. */
    public static String bootstrapId(String owner) {
        return "boot_" + owner.substring(0, 16);
    }

    /**
     * How metrics name a key: its name (a bootstrap key's says where it came from). Never its id: a
     * bootstrap key's id is part of its secret's digest, and /metrics is read without a token.
     */
    public static String metricName(ApiKey key) {
        return key.name();
    }

    /** What {@code presented} is, at this moment. */
    public KeyCheck check(String presented) {
        if (presented == null || presented.isEmpty()) {
            return new KeyCheck.Refused();
        }
        String digest = HexFormat.of().formatHex(Secrets.sha256(presented));
        ApiKey key = view.bySecret().get(digest);
        if (key == null) {
            return new KeyCheck.Refused();
        }
        Instant now = clock.instant();
        if (!key.secretSha256().equals(digest) && !key.previousValidAt(now)) {
            return new KeyCheck.Refused(); // a rotated-out secret past its grace period
        }
        return switch (key.status(now)) {
            case ACTIVE -> new KeyCheck.Accepted(key, key.limits().over(defaults));
            case EXPIRED -> new KeyCheck.Expired(key);
            case REVOKED -> new KeyCheck.Refused();
        };
    }

    /** Every key: bootstrap keys first, then the managed ones oldest first. */
    public List<ApiKey> all() {
        return view.all();
    }

    public Optional<ApiKey> byId(String id) {
        return Optional.ofNullable(view.byId().get(id));
    }

    /** The key that owns tasks of {@code owner}, if it is still known. */
    public Optional<ApiKey> byOwner(String owner) {
        return Optional.ofNullable(view.byOwner().get(owner));
    }

    /** The limits that apply to {@code key}. */
    public Limits limitsOf(ApiKey key) {
        return key.limits().over(defaults);
    }

    public Limits defaults() {
        return defaults;
    }

    /** Reloads on a background thread; changes arriving meanwhile cause one more reload after it. */
    private void reloadSoon() {
        reloadAgain = true;
        if (reloading.compareAndSet(false, true)) {
            Thread.ofVirtual().name("key-reload").start(() -> {
                try {
                    while (reloadAgain) {
                        reloadAgain = false;
                        reload();
                    }
                } finally {
                    reloading.set(false);
                }
                if (reloadAgain) {
                    reloadSoon();
                }
            });
        }
    }

    /**
     * Reads every key from the store now. A store that cannot be read leaves the keys as they were
     * (and is retried on the next change or the periodic reload), except at start-up, where it fails.
     */
    public synchronized void reload() {
        List<ApiKey> managed;
        try {
            managed = store.keys();
        } catch (RuntimeException e) {
            if (view == null) {
                throw e;
            }
            log.warn("API keys not reloaded (the store failed; the keys known before stay in force): {}", e.getMessage());
            return;
        }
        Map<String, ApiKey> bySecret = new HashMap<>();
        Map<String, ApiKey> byId = new LinkedHashMap<>();
        Map<String, ApiKey> byOwner = new HashMap<>();
        List<ApiKey> all = new ArrayList<>(bootstrap);
        all.addAll(managed);
        for (ApiKey k : all) {
            byId.put(k.id(), k);
            byOwner.put(k.owner(), k);
            if (k.revokedAt().isEmpty()) {
                bySecret.put(k.secretSha256(), k);
                k.previousSha256().ifPresent(p -> bySecret.putIfAbsent(p, k));
            }
        }
        view = new View(Map.copyOf(bySecret), byId, Map.copyOf(byOwner), List.copyOf(all));
    }
}
