package dev.qwenimage;

import dev.qwenimage.api.HttpApi;
import dev.qwenimage.fs.OwnerOnly;
import dev.qwenimage.health.DiskSpace;
import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.health.WriteProbe;
import dev.qwenimage.storage.WatchedBlobStore;
import dev.qwenimage.auth.AdminToken;
import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.tenant.KeyDirectory;
import dev.qwenimage.tenant.Limits;
import dev.qwenimage.tenant.Tenants;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.Setting;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.config.Role;
import dev.qwenimage.task.LaneReport;
import dev.qwenimage.task.postgres.PostgresTaskStore;
import dev.qwenimage.worker.EngineGuard;
import dev.qwenimage.worker.Fleet;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.webhook.WebhookSender;
import dev.qwenimage.webhook.WebhookSigner;
import dev.qwenimage.outbound.OutboundGuard;
import dev.qwenimage.edit.EditInputs;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.edit.ImageFetcher;
import dev.qwenimage.edit.InputDecoder;
import dev.qwenimage.outbound.OutboundHttp;
import dev.qwenimage.outbound.Resolver;
import dev.qwenimage.api.TaskResultBody;
import java.util.ArrayList;
import java.util.List;
import dev.qwenimage.image.AigcLabel;
import dev.qwenimage.image.CjkFont;
import dev.qwenimage.image.ImagePipeline;
import dev.qwenimage.image.JpegEncoder;
import dev.qwenimage.image.Watermark;
import dev.qwenimage.safety.NsfwModel;
import dev.qwenimage.safety.NsfwPolicy;
import java.util.Optional;
import dev.qwenimage.storage.BlobStore;
import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.S3BlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.task.EtaEstimator;
import dev.qwenimage.task.Janitor;
import dev.qwenimage.task.EngineAvailability;
import dev.qwenimage.task.NoEngineTimeout;
import dev.qwenimage.config.Durations;
import dev.qwenimage.task.QueueStats;
import dev.qwenimage.task.Rescue;
import dev.qwenimage.task.Rescuer;
import dev.qwenimage.task.TaskService;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.sqlite.SqliteTaskStore;
import dev.qwenimage.worker.TaskRunner;
import dev.qwenimage.worker.WorkerPool;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service in one process (role "all" on the embedded default): task store, workers,
 * engine, storage and the HTTP API, wired from one {@link ServerConfig}. {@link #close} stops it
 * gracefully: running tasks go back to the queue and nothing is lost.
 */
public final class QwenImageServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QwenImageServer.class);
    /** First re-probe of a failed engine; it doubles up to four times the check interval. */
    private static final Duration PROBE_MIN = Duration.ofSeconds(1);
    /** How long a task that failed on one engine is offered to the others first. */
    private static final Duration OTHERS_FIRST = Duration.ofSeconds(10);
    /** How long an outbound call (a webhook, an input image) may take to connect; each call's own deadline may be shorter. */
    private static final Duration OUTBOUND_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ServerConfig config;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final Optional<ApiKeys> keys;
    private final Optional<AdminToken> adminToken;
    private final KeyDirectory keyDirectory;
    private final TaskStore store;
    private final BlobStore blobs;
    private final Optional<WorkerPool> workers;
    private final Fleet fleet;
    private final Javalin http;
    private final Rescue recovered;
    private final Optional<JpegEncoder> jpegEncoder;
    /** This process among the nodes: its lease owner id and probe row. */
    private final String nodeId = workerId();
    private final WriteHealth storeHealth;
    private final WriteHealth imageHealth;
    private final DiskSpace disk;
    /** Set when a graceful stop begins: /readyz answers 503 from then on. */
    private volatile boolean draining;
    /** Sends webhooks; only on nodes that serve the API. */
    private volatile WebhookSender webhooks;
    private volatile boolean httpStopped;

    /** An engine with the slots and time limit it runs under (tests hand in their own this way). */
    public record EngineSetup(Engine engine, int slots, Duration timeout) {
    }

    private QwenImageServer(ServerConfig config, Clock clock, List<EngineSetup> injected, Resolver dns) {
        this.config = config;
        Role role = config.role();
        try {
            Path dataDir = config.dataDir();
            OwnerOnly.folder(dataDir);
            lockDataDir(dataDir);
            keys = role.servesApi() ? Optional.of(ApiKeys.load(config.apiKeys(), dataDir)) : Optional.empty();
            adminToken = role.servesApi() ? Optional.of(AdminToken.load(config.adminToken(), dataDir)) : Optional.empty();
            if (role == Role.API && config.adminToken().isEmpty()) {
                log.warn("QWEN_IMAGE_ADMIN_TOKEN is not set: this api node generated its own admin token, which the other api "
                        + "nodes do not know; set the same token on every api node to manage keys through any of them");
            }

            storeHealth = new WriteHealth("task store", clock);
            imageHealth = new WriteHealth("image store", clock);
            store = openStore(config, dataDir, storeHealth);
            resources.push(store);
            // every node knows the keys: api nodes to authenticate, workers to name keys in metrics
            keyDirectory = new KeyDirectory(store, keys.orElseGet(ApiKeys::none), new Limits(config.maxQueuedPerKey(),
                    config.submitsPerMinute(), config.imagesPerDay(), config.maxPixels(), List.of()), clock);
            // The embedded store belongs to this process alone (it holds the data directory's lock),
            // so whatever was PROCESSING was interrupted by a crash or kill. On a shared store other
            // nodes may still be running their tasks: those come back only when their leases expire.
            recovered = store.exclusive() && role.runsWorkers()
                    ? store.rescueExpired(Instant.ofEpochMilli(Long.MAX_VALUE), "the service stopped while the task was running",
                    clock.instant())
                    : Rescue.NONE;

            byte[] secret = urlSecret(config, dataDir);
            UrlSigner signer = new UrlSigner(secret, clock);
            WebhookSigner webhookSigner = new WebhookSigner(secret);
            blobs = blobStore(config, dataDir, signer, clock);
            // writes go through the watched store, so failures take the node out until writes work again
            BlobStore watchedBlobs = new WatchedBlobStore(blobs, imageHealth);
            disk = diskSpace(config, dataDir);
            Duration linkTtl = blobs.linkTtl(config.urlTtl());
            if (!linkTtl.equals(config.urlTtl())) {
                log.warn("image links are valid for {} seconds, not {} (QWEN_IMAGE_URL_TTL): the most presigned S3 links allow",
                        linkTtl.toSeconds(), config.urlTtl().isZero() ? "unlimited" : config.urlTtl().toSeconds());
            }

            EtaEstimator eta = new EtaEstimator();
            Optional<WorkerPool> pool = Optional.empty();
            Optional<JpegEncoder> encoder = Optional.empty();
            // read at scrape time, when the fleet (built below) exists
            Metrics metrics = new Metrics(this::cachedQueue, this::fleetLanes);
            metrics.watch(storeHealth);
            metrics.watch(imageHealth);
            metrics.watch(disk);
            metrics.taskReads(store::reads);
            // an owner no key has (any more) stays under key="other": its id is no name to show
            metrics.keyNames(owner -> keyDirectory.byOwner(owner).map(KeyDirectory::metricName));
            if (role.runsWorkers()) {
                List<EngineSetup> setups = injected != null ? injected : configuredEngines(config);
                List<WorkerPool.Lane> lanes = new ArrayList<>();
                for (EngineSetup setup : setups) {
                    resources.push(setup.engine());
                    Engine engine = setup.engine();
                    eta.prior(engine.name(), (w, h) -> engine.typicalStepTime(w, h).toNanos() / 1e9);
                    if (engine.kinds().contains(TaskKind.EDIT)) {
                        eta.prior(EtaEstimator.paceKey(engine.name(), TaskKind.EDIT),
                                (w, h) -> engine.typicalEditStepTime(w, h).toNanos() / 1e9);
                    }
                    EngineGuard guard = new EngineGuard(setup.engine(), clock, config.engineFailures(), config.engineCheck(),
                            PROBE_MIN, config.engineCheck().multipliedBy(4));
                    lanes.add(new WorkerPool.Lane(guard, setup.slots(), setup.timeout()));
                }
                CjkFont.preload(); // the preview engine and the watermark draw text (see preload: before any drain)
                JpegEncoder jpeg;
                try {
                    jpeg = JpegEncoder.choose(config.jpegEncoder());
                } catch (IllegalStateException e) {
                    throw new ConfigException(Setting.JPEG_ENCODER.env() + "=turbojpeg, but " + e.getMessage()
                            + " (install libturbojpeg0, or set " + Setting.JPEG_ENCODER.env() + "=auto)");
                }
                encoder = Optional.of(jpeg);
                TaskRunner runner = new TaskRunner(store, new ImagePipeline(config.jpegQuality(), jpeg,
                        new Watermark(config.watermarkText(), config.watermarkCorner()),
                        config.aigcLabel() ? Optional.of(new AigcLabel(config.aigcProducer())) : Optional.empty(),
                        nsfwPolicy(config)), watchedBlobs, eta, clock, metrics);
                pool = Optional.of(new WorkerPool(store, runner, clock, lanes, config.lease(), nodeId, OTHERS_FIRST,
                        () -> storeHealth.ok() && imageHealth.ok()));
            }
            workers = pool;
            jpegEncoder = encoder;
            fleet = new Fleet(pool, store.registry(), eta, clock);
            Optional<NoEngineTimeout> noEngineTimeout = config.noEngineTimeout().isZero() ? Optional.empty()
                    : Optional.of(new NoEngineTimeout(store, fleet, clock, config.noEngineTimeout(),
                    Durations.human(config.noEngineTimeout())));
            // polls see the engines through the timeout when there is one: it knows when a blocked task is given up
            EngineAvailability engines = noEngineTimeout.isPresent() ? noEngineTimeout.get() : fleet;

            // One outbound guard and one client, built here once: submits check webhook URLs with the guard, and
            // webhooks and edits' input images go out through the client, which connects only to what it checked.
            // Closed after the scheduler that sends with it (resources close last-pushed first).
            OutboundGuard outboundGuard = new OutboundGuard(config.outboundAllow(), Setting.OUTBOUND_ALLOW.env());
            OutboundHttp outbound = role.servesApi()
                    ? new OutboundHttp(outboundGuard, dns, OUTBOUND_CONNECT_TIMEOUT, OutboundHttp.USER_AGENT) : null;
            if (outbound != null) {
                resources.push(outbound);
            }
            // an edit's input image is fetched by the one guarded outbound client webhooks use too
            Optional<EditInputs> editInputs = outbound == null ? Optional.empty() : Optional.of(new EditInputs(
                    new ImageFetcher(outbound, config.edit().fetchTimeout(), config.edit().maxImageBytes()),
                    new InputDecoder(config.edit().maxInputPixels()), config.edit().maxImageBytes(),
                    config.edit().blockNsfwInput() ? nsfwPolicy(config, NsfwPolicy.Action.BLOCK) : NsfwPolicy.off()));
            Optional<TaskService> tasks = role.servesApi()
                    ? Optional.of(new TaskService(store, eta, clock, engines, config.maxAttempts(),
                    config.maxPromptLength(), config.maxQueuedPerKey(), config.maxQueued(),
                    (key, base) -> blobs.link(key, base, linkTtl), outboundGuard, disk))
                    : Optional.empty();

            Optional<Tenants> tenants = role.servesApi() ? Optional.of(new Tenants(store, keyDirectory, store, clock)) : Optional.empty();
            http = new HttpApi(new HttpApi.Deps(tasks, tenants, adminToken, blobs, signer, linkTtl, config.publicUrl(),
                    config.host(), this::health, id -> workers.ifPresent(w -> w.cancel(id)), webhookSigner,
                    config.syncTimeout(), config.metrics() ? Optional.of(metrics) : Optional.empty(), this::readiness,
                    config.requestTimeout(), editInputs, config.edit()))
                    .create(config.host(), config.port());
            http.start();
            resources.push(() -> stopHttp(Duration.ZERO));

            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("housekeeping").daemon(true).factory());
            resources.push(scheduler::shutdownNow);
            if (pool.isPresent()) {
                WorkerPool w = pool.get();
                w.checkEnginesAndWait(Duration.ofSeconds(3));
                w.start();
                resources.push(() -> {
                    w.close();
                    fleet.withdraw();
                });
                long leaseMs = config.lease().toMillis();
                scheduler.scheduleWithFixedDelay(safe("lease renewal", w::renewLeases), leaseMs / 3, leaseMs / 3, TimeUnit.MILLISECONDS);
                scheduler.scheduleWithFixedDelay(safe("engine checks", w::checkEngines), 0, 250, TimeUnit.MILLISECONDS);
                scheduler.scheduleWithFixedDelay(safe("cancel checks", w::checkCancellations), 1, 1, TimeUnit.SECONDS);
                if (store.registry().isPresent()) {
                    scheduler.scheduleWithFixedDelay(safe("fleet heartbeat", fleet::publish), 0,
                            Fleet.HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            // keys change through the store's notices; this reload only catches one that was missed
            scheduler.scheduleWithFixedDelay(safe("key reload", keyDirectory::reload), 30, 30, TimeUnit.SECONDS);
            // Any node may sweep expired leases and old tasks: both are idempotent statements.
            long leaseMs = config.lease().toMillis();
            noEngineTimeout.ifPresent(t -> scheduler.scheduleWithFixedDelay(t, 1, 1, TimeUnit.SECONDS));
            scheduler.scheduleWithFixedDelay(new Rescuer(store, clock), leaseMs / 2, Math.max(500, leaseMs / 4), TimeUnit.MILLISECONDS);
            long janitorMs = Math.clamp(config.retention().toMillis() / 10, 1_000, 600_000);
            scheduler.scheduleWithFixedDelay(new Janitor(store, watchedBlobs, clock, config.retention()), 0, janitorMs, TimeUnit.MILLISECONDS);
            List<WriteProbe.Target> probes = new ArrayList<>();
            probes.add(new WriteProbe.Target(storeHealth, () -> store.probeWrite(nodeId, clock.instant())));
            if (role.runsWorkers()) {
                probes.add(new WriteProbe.Target(imageHealth, watchedBlobs::probeWrite));
            }
            scheduler.scheduleWithFixedDelay(safe("write probes", new WriteProbe(probes)), 1, 1, TimeUnit.SECONDS);
            if (tasks.isPresent()) {
                TaskService service = tasks.get();
                String base = config.publicUrl().orElseGet(this::localUrl);
                WebhookSender sender = new WebhookSender(store, id -> service.viewForWebhook(id, base)
                        .map(v -> new WebhookSender.TaskPayload(v.task().owner(), TaskResultBody.of(v, linkTtl))),
                        webhookSigner, outbound, clock, config.webhookAttempts(), metrics);
                scheduler.scheduleWithFixedDelay(sender, 1, 1, TimeUnit.SECONDS);
                webhooks = sender;
            }
        } catch (IOException e) {
            closeQuietly();
            throw new UncheckedIOException("cannot prepare data directory " + config.dataDir() + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly();
            throw e;
        }
    }

    /**
     * The NSFW policy from the configuration: the bundled classifier (loaded once; the first
     * classification also warms its compiled code up, so the first task does not pay for it).
     */
    private static NsfwPolicy nsfwPolicy(ServerConfig config) {
        return config.nsfw() ? nsfwPolicy(config, config.nsfwAction()) : NsfwPolicy.off();
    }

    /**
     * A policy of the bundled classifier at the configured threshold doing {@code action} (the
     * check of edits' input images, QWEN_IMAGE_NSFW_INPUT=block, refuses); the classifier is loaded,
     * and checked, here at start-up, not by the first task.
     */
    private static NsfwPolicy nsfwPolicy(ServerConfig config, NsfwPolicy.Action action) {
        NsfwModel model = classifier();
        return new NsfwPolicy(image -> model.classify(image).unsafe(), config.nsfwThreshold(), action);
    }

    private static volatile NsfwModel classifier;

    /** The bundled classifier, loaded once per process whichever checks use it. */
    private static NsfwModel classifier() {
        NsfwModel m = classifier;
        if (m == null) {
            synchronized (QwenImageServer.class) {
                m = classifier;
                if (m == null) {
                    m = warmedUp();
                    classifier = m;
                }
            }
        }
        return m;
    }

    private static NsfwModel warmedUp() {
        NsfwModel model = NsfwModel.loadDefault();
        Thread.ofVirtual().name("nsfw-warm-up").start(() -> model.classify(
                new java.awt.image.BufferedImage(224, 224, java.awt.image.BufferedImage.TYPE_INT_RGB)));
        return model;
    }

    private static TaskStore openStore(ServerConfig config, Path dataDir, WriteHealth health) {
        ServerConfig.Database db = config.database();
        if (db.embedded()) {
            return SqliteTaskStore.open(dataDir.resolve("tasks.db"), health);
        }
        return PostgresTaskStore.open(db.url(), db.user(), db.password(), db.pool(), health);
    }

    /**
     * The free-space guard over what this node keeps on local disk: the embedded database and local
     * images (both in the data directory); a node on PostgreSQL and S3 keeps nothing there that grows.
     */
    private static DiskSpace diskSpace(ServerConfig config, Path dataDir) {
        Map<String, Path> folders = new LinkedHashMap<>();
        if (config.database().embedded()) {
            folders.put("task database", dataDir);
        }
        if (config.s3().isEmpty()) {
            folders.put("images", dataDir.resolve("images"));
        }
        return new DiskSpace(folders, config.minFreeDisk());
    }

    public static QwenImageServer start(ServerConfig config) {
        return new QwenImageServer(config, Clock.systemUTC(), null, Resolver.SYSTEM);
    }

    public static QwenImageServer start(ServerConfig config, Clock clock) {
        return new QwenImageServer(config, clock, null, Resolver.SYSTEM);
    }

    /**
     * Starts with the configured engines and {@code dns} as the outbound calls' name resolution (tests
     * make names resolve where they choose this way, as the real DNS of an attacker's domain could).
     */
    public static QwenImageServer start(ServerConfig config, Clock clock, Resolver dns) {
        return new QwenImageServer(config, clock, null, dns);
    }

    /** Starts with the given engine instead of the configured one (tests drive fake engines this way). */
    public static QwenImageServer start(ServerConfig config, Clock clock, Engine engine) {
        return new QwenImageServer(config, clock, List.of(new EngineSetup(engine, config.workers().orElse(1), Duration.ZERO)),
                Resolver.SYSTEM);
    }

    /** Starts with the given engines instead of the configured ones. */
    public static QwenImageServer start(ServerConfig config, Clock clock, List<EngineSetup> engines) {
        return new QwenImageServer(config, clock, List.copyOf(engines), Resolver.SYSTEM);
    }

    /**
     * Local disk under the data directory (served at /files by this service), or the S3-compatible
     * bucket the configuration names (served by the bucket through presigned links).
     */
    private BlobStore blobStore(ServerConfig config, Path dataDir, UrlSigner signer, Clock clock) {
        if (config.s3().isPresent()) {
            S3BlobStore s3 = S3BlobStore.connect(config.s3().get(), clock);
            resources.push(s3);
            return s3;
        }
        return new LocalBlobStore(dataDir.resolve("images"), signer);
    }

    private static List<EngineSetup> configuredEngines(ServerConfig config) {
        List<EngineSetup> setups = new ArrayList<>();
        try {
            for (EngineSpec spec : config.engines()) {
                setups.add(new EngineSetup(Engines.create(spec, config), config.slotsFor(spec), spec.timeLimit()));
            }
        } catch (RuntimeException e) {
            setups.forEach(s -> s.engine().close());
            throw e;
        }
        return setups;
    }

    public int port() {
        return http.port();
    }

    /** A URL a local client can reach the API on. */
    public String localUrl() {
        String h = config.host();
        boolean wildcard = ServerConfig.isAllInterfaces(h);
        return "http://" + (wildcard ? "localhost" : h) + ":" + port();
    }

    public ServerConfig config() {
        return config;
    }

    /** The admin token; empty on a worker node, which serves no API. */
    public Optional<AdminToken> adminToken() {
        return adminToken;
    }

    /** Every API key this node knows. */
    public KeyDirectory keys() {
        return keyDirectory;
    }

    /** The API keys; empty on a worker node, which serves no API. */
    public Optional<ApiKeys> apiKeys() {
        return keys;
    }

    public TaskStore store() {
        return store;
    }

    public BlobStore blobs() {
        return blobs;
    }

    /** This node's worker slots; empty on an api node. */
    public Optional<WorkerPool> workers() {
        return workers;
    }

    public Fleet fleet() {
        return fleet;
    }

    /** The JPEG encoder this node's workers use (chosen at start-up); empty on an api-only node. */
    public Optional<JpegEncoder> jpegEncoder() {
        return jpegEncoder;
    }

    /** What start-up recovery did with tasks left running by the previous process. */
    public Rescue recovered() {
        return recovered;
    }

    private List<LaneReport> fleetLanes() {
        return fleet.lanes();
    }

    /** The queue counts, taken at most once a second for /healthz, /readyz and /metrics. */
    private volatile QueueStats queueSnapshot;
    private volatile long queueSnapshotAt;

    private QueueStats cachedQueue() {
        long now = System.nanoTime();
        QueueStats s = queueSnapshot;
        if (s == null || now - queueSnapshotAt > 1_000_000_000L) {
            s = store.stats();
            queueSnapshot = s;
            queueSnapshotAt = now;
        }
        return s;
    }

    /**
     * Whether this node can do its job now: its store answers and, on a node that runs engines,
     * at least one engine is up. /readyz answers 503 otherwise, with the failing check named.
     */
    private Map<String, Object> readiness() {
        Map<String, Object> checks = new LinkedHashMap<>();
        boolean ready = true;
        if (draining) {
            checks.put("draining", "stopping: this node takes no new work");
            ready = false;
        }
        try {
            store.nextAvailableAt();
            checks.put("store", "ok");
        } catch (RuntimeException e) {
            checks.put("store", "unreachable: " + dev.qwenimage.config.Redaction.text(e.getMessage()));
            ready = false;
        }
        ready &= writeCheck(checks, "store_writes", storeHealth);
        if (workers.isPresent()) {
            ready &= writeCheck(checks, "image_writes", imageHealth);
        }
        if (config.role().servesApi()) {
            Optional<String> shortage = disk.shortage();
            checks.put("disk", shortage.map(why -> "low: " + why).orElse("ok"));
            ready &= shortage.isEmpty();
        }
        if (workers.isPresent()) {
            int up = workers.get().usableSlots();
            checks.put("engines", up > 0 ? "ok: " + up + " slot(s) up" : "no engine is up");
            ready &= up > 0;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ready", ready);
        body.put("role", config.role().toString());
        body.put("checks", checks);
        return body;
    }

    private static boolean writeCheck(Map<String, Object> checks, String name, WriteHealth health) {
        WriteHealth.Status st = health.status();
        checks.put(name, st.ok() ? "ok" : "failing since " + st.since() + ": " + st.lastError());
        return st.ok();
    }

    private static Map<String, Object> describe(WriteHealth health) {
        WriteHealth.Status st = health.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", st.ok());
        m.put("since", st.since().toString());
        m.put("last_error", st.lastError());
        m.put("failures", health.failures());
        return m;
    }

    private Map<String, Object> health() {
        QueueStats s = cachedQueue();
        Map<String, Object> body = new LinkedHashMap<>();
        List<Map<String, Object>> engineStates = new ArrayList<>();
        boolean shared = store.registry().isPresent();
        for (LaneReport lane : fleet.lanes()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", lane.engine());
            if (shared) {
                e.put("worker", lane.workerId());
            }
            e.put("state", lane.state());
            e.put("description", lane.description());
            e.put("slots", lane.slots());
            e.put("busy", lane.busy());
            e.put("finishing", lane.finishing());
            e.put("last_error", lane.lastError());
            engineStates.add(e);
        }
        boolean writesOk = storeHealth.ok() && (workers.isEmpty() || imageHealth.ok());
        body.put("status", fleet.usableSlots() > 0 && writesOk && disk.shortage().isEmpty() ? "ok" : "degraded");
        body.put("role", config.role().toString());
        body.put("engines", engineStates);
        body.put("queue", Map.of("queued", s.queued(), "processing", s.processing()));
        body.put("workers", Map.of("slots", fleet.slots(), "usable", fleet.usableSlots(), "busy", fleet.busySlots(),
                "finishing", fleet.finishing()));
        Map<String, Object> writes = new LinkedHashMap<>();
        writes.put("task_store", describe(storeHealth));
        if (workers.isPresent()) {
            writes.put("image_store", describe(imageHealth));
        }
        body.put("writes", writes);
        body.put("disk", disk.describe());
        return body;
    }

    /** What a graceful stop did: how long it took and what became of the tasks running when it began. */
    public record Drained(int running, int handedBack, Duration took, int webhooksLeft) {
        /** The running tasks that ended here (succeeded or failed) rather than going back to the queue. */
        public int finishedHere() {
            return Math.max(0, running - handedBack);
        }
    }

    /**
     * A graceful stop (SIGTERM): /readyz answers 503 at once and worker slots claim nothing more;
     * the tasks running here get up to {@code QWEN_IMAGE_DRAIN_TIMEOUT} to finish, and whatever still
     * runs then goes back to the queue at once (its lease released, not left to expire) for another
     * worker. An api node stops accepting connections at once and answers the requests in flight
     * (within the same time); a node of both roles keeps serving polls while its workers drain.
     * Webhook deliveries being sent are waited for (briefly); the rest stay in the outbox for any
     * api node. Then everything is closed.
     */
    public Drained drain() {
        long t0 = System.nanoTime();
        draining = true;
        Duration patience = config.drainTimeout();
        long deadline = t0 + patience.toNanos();
        if (config.role() == Role.API) {
            stopHttp(patience);
        }
        int running = 0;
        int handedBackBefore = 0;
        if (workers.isPresent()) {
            WorkerPool w = workers.get();
            w.stopClaiming();
            running = w.running();
            handedBackBefore = w.handedBack();
            if (running > 0) {
                log.info("draining: {} running task(s) get up to {} to finish; no new task is taken", running, Durations.human(patience));
            }
            w.awaitIdle(patience);
        }
        WebhookSender sender = webhooks;
        Duration webhookPatience = remaining(deadline);
        int webhooksLeft = sender == null ? 0 : sender.awaitInFlight(
                webhookPatience.compareTo(WebhookSender.TIMEOUT) > 0 ? WebhookSender.TIMEOUT : webhookPatience);
        if (config.role() != Role.API) {
            stopHttp(remaining(deadline));
        }
        closeQuietly(); // hands back what still runs
        int handedBack = workers.map(WorkerPool::handedBack).orElse(0) - handedBackBefore;
        return new Drained(running, handedBack, Duration.ofNanos(System.nanoTime() - t0), webhooksLeft);
    }

    /** The time left until {@code deadline} (a {@link System#nanoTime} value), at least a second. */
    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(Duration.ofSeconds(1).toNanos(), deadline - System.nanoTime()));
    }

    /**
     * Stops the HTTP server gracefully: no new connections from now on, requests in flight answered
     * within {@code patience} (then their connections are closed).
     */
    private void stopHttp(Duration patience) {
        if (httpStopped) {
            return;
        }
        httpStopped = true;
        try {
            http.jettyServer().server().setStopTimeout(patience.toMillis());
            http.stop();
        } catch (RuntimeException e) {
            log.warn("error while stopping the HTTP server", e);
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                log.warn("error while shutting down", e);
            }
        }
    }

    private void lockDataDir(Path dataDir) throws IOException {
        OwnerOnly.create(dataDir.resolve(".lock"));
        FileChannel channel = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IllegalStateException("another qwen-image-server is already using the data directory " + dataDir
                    + "; stop it or set QWEN_IMAGE_DATA_DIR to another directory");
        }
        FileLock held = lock;
        resources.push(() -> {
            held.release();
            channel.close();
        });
    }

    private static byte[] urlSecret(ServerConfig config, Path dataDir) throws IOException {
        if (config.urlSecret().isPresent()) {
            return config.urlSecret().get().getBytes(StandardCharsets.UTF_8);
        }
        Path file = dataDir.resolve("url-secret");
        if (!Files.exists(file)) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            OwnerOnly.write(file, Base64.getEncoder().encodeToString(random) + "\n");
        }
        OwnerOnly.file(file);
        return Base64.getDecoder().decode(Files.readString(file).strip());
    }

    private static String workerId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Runnable safe(String what, Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("{} failed; will retry", what, e);
            }
        };
    }
}
