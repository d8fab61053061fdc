package dev.qwenimage;

import dev.qwenimage.api.HttpApi;
import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.image.ImagePipeline;
import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.task.EtaEstimator;
import dev.qwenimage.task.Janitor;
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

    private final ServerConfig config;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final ApiKeys keys;
    private final TaskStore store;
    private final LocalBlobStore blobs;
    private final Engine engine;
    private final WorkerPool workers;
    private final Javalin http;
    private final Rescue recovered;

    private QwenImageServer(ServerConfig config, Clock clock, Engine engineOrNull) {
        this.config = config;
        try {
            Path dataDir = config.dataDir();
            Files.createDirectories(dataDir);
            lockDataDir(dataDir);
            keys = ApiKeys.load(config.apiKeys(), dataDir);

            store = SqliteTaskStore.open(dataDir.resolve("tasks.db"));
            resources.push(store);
            // This process holds the data directory's lock, so no task can still be running
            // elsewhere: whatever was PROCESSING was interrupted by a crash or kill.
            recovered = store.rescueExpired(Instant.ofEpochMilli(Long.MAX_VALUE),
                    "the service stopped while the task was running", clock.instant());

            UrlSigner signer = new UrlSigner(urlSecret(config, dataDir), clock);
            blobs = new LocalBlobStore(dataDir.resolve("images"), signer);

            engine = engineOrNull != null ? engineOrNull : Engines.create(config);
            resources.push(engine);
            EtaEstimator eta = new EtaEstimator();
            eta.prior(engine.name(), engine.typicalStepTime());

            TaskService tasks = new TaskService(store, eta, clock, engine.name(), engine.defaultSteps(),
                    config.workers(), config.maxAttempts(), config.maxPromptLength(),
                    (key, base) -> blobs.link(key, base, config.urlTtl()));

            TaskRunner runner = new TaskRunner(store, engine, new ImagePipeline(config.jpegQuality()), blobs, eta, clock);
            workers = new WorkerPool(store, runner, clock, config.workers(), config.lease(), workerId(), engine.name());

            http = new HttpApi(new HttpApi.Deps(tasks, keys, blobs, signer, config.urlTtl(), config.publicUrl(),
                    config.host(), this::health)).create(config.host(), config.port());
            http.start();
            resources.push(http::stop);

            workers.start();
            resources.push(workers);

            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("housekeeping").daemon(true).factory());
            resources.push(scheduler::shutdownNow);
            long leaseMs = config.lease().toMillis();
            scheduler.scheduleWithFixedDelay(safe("lease renewal", workers::renewLeases), leaseMs / 3, leaseMs / 3, TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(new Rescuer(store, clock), leaseMs / 2, Math.max(500, leaseMs / 4), TimeUnit.MILLISECONDS);
            long janitorMs = Math.clamp(config.retention().toMillis() / 10, 1_000, 600_000);
            scheduler.scheduleWithFixedDelay(new Janitor(store, blobs, clock, config.retention()), 0, janitorMs, TimeUnit.MILLISECONDS);
        } catch (IOException e) {
            closeQuietly();
            throw new UncheckedIOException("cannot prepare data directory " + config.dataDir() + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly();
            throw e;
        }
    }

    public static QwenImageServer start(ServerConfig config) {
        return new QwenImageServer(config, Clock.systemUTC(), null);
    }

    public static QwenImageServer start(ServerConfig config, Clock clock) {
        return new QwenImageServer(config, clock, null);
    }

    /** Starts with the given engine instead of the configured one (tests drive fake engines this way). */
    public static QwenImageServer start(ServerConfig config, Clock clock, Engine engine) {
        return new QwenImageServer(config, clock, engine);
    }

    public int port() {
        return http.port();
    }

    /** A URL a local client can reach the API on. */
    public String localUrl() {
        String h = config.host();
        boolean wildcard = h.isEmpty() || h.equals("0.0.0.0") || h.equals("::");
        return "http://" + (wildcard ? "localhost" : h) + ":" + port();
    }

    public ServerConfig config() {
        return config;
    }

    public ApiKeys apiKeys() {
        return keys;
    }

    public TaskStore store() {
        return store;
    }

    public LocalBlobStore blobs() {
        return blobs;
    }

    public Engine engine() {
        return engine;
    }

    public WorkerPool workers() {
        return workers;
    }

    /** What start-up recovery did with tasks left running by the previous process. */
    public Rescue recovered() {
        return recovered;
    }

    private Map<String, Object> health() {
        QueueStats s = store.stats();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok");
        body.put("engine", Map.of("name", engine.name(), "state", "up", "description", engine.describe()));
        body.put("queue", Map.of("queued", s.queued(), "processing", s.processing()));
        body.put("workers", Map.of("slots", workers.slots(), "busy", workers.busySlots()));
        return body;
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
        FileChannel channel = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
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
            Path tmp = dataDir.resolve("url-secret.tmp");
            Files.writeString(tmp, Base64.getEncoder().encodeToString(random) + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
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
