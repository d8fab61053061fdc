package dev.qwenimage.bench;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.api.HttpApi;
import dev.qwenimage.config.Durations;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.TaskIds;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.postgres.PostgresTaskStore;
import io.javalin.Javalin;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;

/**
 * The scale-out figures, each against a baseline measured in the same run:
 * <ol>
 *   <li>claims per second on PostgreSQL with {@code --workers 8} concurrent claimers (each
 *       claim a {@code FOR UPDATE SKIP LOCKED} update of the next task in fair order), against
 *       the same threads doing the simplest write PostgreSQL can do: a one-row autocommit update;</li>
 *   <li>submit and task-result throughput through two api nodes (role api, PostgreSQL and a
 *       local S3 endpoint), both driven at once by wrk, against two bare routes on the same stack.</li>
 * </ol>
 * PostgreSQL is the local server ({@code --pg jdbc:postgresql://127.0.0.1:5432/test?user=postgres});
 * everything runs in a schema of its own, dropped at the end.
 *
 * <p>Usage: {@code ./qwen-image bench cluster [--workers 8] [--tasks 20000] [--duration 10s] [--warmup 5s] [--connections 64]
 * [--images-per-day 0]}; {@code --images-per-day N} gives the api nodes' key a daily quota of N (0: none), so that every
 * submit takes the key's lock and counts its tasks of the day, as a key with caps does.
 */
final class ClusterBench {
    private static final String KEY = "bench-key-0123456789";

    private ClusterBench() {
    }

    static void run(Map<String, String> opts) throws Exception {
        BenchSchema pg = BenchSchema.fresh(opts);
        String base = pg.base();
        int workers = Integer.parseInt(opts.getOrDefault("workers", "8"));
        int tasks = Integer.parseInt(opts.getOrDefault("tasks", "20000"));
        Duration duration = Durations.parse(opts.getOrDefault("duration", "10s"));
        Duration warmup = Durations.parse(opts.getOrDefault("warmup", "5s"));
        int connections = Integer.parseInt(opts.getOrDefault("connections", "64"));
        long imagesPerDay = Long.parseLong(opts.getOrDefault("images-per-day", "0"));
        String schema = pg.name();
        String url = pg.url();
        System.out.printf("qwen-image bench cluster: %d cores, JDK %s, PostgreSQL at %s (schema %s)%n%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), base, schema);
        try {
            claims(url, workers, tasks);
            twoApiNodes(url, warmup, duration, connections, imagesPerDay);
        } finally {
            pg.drop();
        }
    }

    // ---- 1. claims per second ----------------------------------------------------------------

    private static void claims(String url, int workers, int tasks) throws Exception {
        try (TaskStore store = PostgresTaskStore.open(url, "", "", workers + 4)) {
            fill(store, tasks);
            long t0 = System.nanoTime();
            AtomicLong claimed = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                String worker = "bench-worker-" + w;
                threads.add(Thread.ofPlatform().start(() -> {
                    while (store.claim(worker, "gpu", Instant.now(), Duration.ofMinutes(5)).isPresent()) {
                        claimed.incrementAndGet();
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            double claimSeconds = (System.nanoTime() - t0) / 1e9;
            double claimRate = claimed.get() / claimSeconds;

            // the same threads, the same pool size: one-row autocommit updates, for as long as the claims took
            double bareRate = bareUpdates(url, workers, Duration.ofNanos((long) (claimSeconds * 1e9)));

            // a worker's whole round trip per task: claim, then SUCCEED
            fill(store, tasks / 4);
            long t1 = System.nanoTime();
            AtomicLong cycles = new AtomicLong();
            threads.clear();
            for (int w = 0; w < workers; w++) {
                String worker = "bench-cycle-" + w;
                threads.add(Thread.ofPlatform().start(() -> {
                    var t = store.claim(worker, "gpu", Instant.now(), Duration.ofMinutes(5));
                    while (t.isPresent()) {
                        store.succeed(t.get().id(), worker, t.get().id() + ".jpeg", 1000, Instant.now());
                        cycles.incrementAndGet();
                        t = store.claim(worker, "gpu", Instant.now(), Duration.ofMinutes(5));
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            double cycleRate = cycles.get() / ((System.nanoTime() - t1) / 1e9);

            System.out.println("## Claims on PostgreSQL with " + workers + " concurrent workers (issue #5)");
            System.out.println();
            System.out.println("| run | per second | ratio to the bare update |");
            System.out.println("|---|---:|---:|");
            System.out.printf("| bare one-row autocommit UPDATE (baseline) | %.0f | baseline |%n", bareRate);
            System.out.printf("| claim (FOR UPDATE SKIP LOCKED, fair order), %d tasks queued | %.0f | %.0f%% |%n", tasks, claimRate,
                    100 * claimRate / bareRate);
            System.out.printf("| claim + SUCCEED (a worker's round trip per task) | %.0f | %.0f%% |%n", cycleRate,
                    100 * cycleRate / bareRate);
            System.out.println();
        }
    }

    static void fill(TaskStore store, int tasks) throws InterruptedException {
        AtomicLong next = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                long n;
                while ((n = next.getAndIncrement()) < tasks) {
                    store.insert(new NewTask(TaskIds.next(Clock.systemUTC()), "key-" + (n % 3),
                            new TaskSpec("bench " + n, "", 1024, 1024, false, n, OptionalInt.empty()), 3, Instant.now()));
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    static double bareUpdates(String url, int workers, Duration length) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)");
            for (int w = 0; w < workers; w++) {
                st.execute("INSERT INTO bench_rows VALUES (" + w + ", 0)");
            }
        }
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + length.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int id = w;
            threads.add(Thread.ofPlatform().start(() -> {
                try (Connection c = DriverManager.getConnection(url);
                     PreparedStatement ps = c.prepareStatement("UPDATE bench_rows SET n = n + 1 WHERE id = ?")) {
                    ps.setInt(1, id);
                    while (System.nanoTime() < end) {
                        ps.executeUpdate();
                        done.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long t0 = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }

    // ---- 2. two api nodes --------------------------------------------------------------------

    private static void twoApiNodes(String url, Duration warmup, Duration duration, int connections, long imagesPerDay)
            throws Exception {
        if (!WrkLoad.available()) {
            System.out.println("(two-api-node figures skipped: they need wrk; Debian/Ubuntu: apt-get install wrk)");
            return;
        }
        Path s3dir = Files.createTempDirectory("qwen-bench-s3");
        Path d1 = Files.createTempDirectory("qwen-bench-api1");
        Path d2 = Files.createTempDirectory("qwen-bench-api2");
        S3Proxy s3 = startS3(s3dir);
        List<Javalin> bare = List.of(bareNode(), bareNode());
        Map<String, String> env = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_API_KEYS", KEY, "QWEN_IMAGE_LOG_LEVEL", "warn", "QWEN_IMAGE_ROLE", "api",
                "QWEN_IMAGE_DB_URL", url, "QWEN_IMAGE_MAX_QUEUED_PER_KEY", "0", "QWEN_IMAGE_MAX_QUEUED", "0",
                "QWEN_IMAGE_S3_ENDPOINT", "http://127.0.0.1:" + s3.getPort(), "QWEN_IMAGE_S3_BUCKET", "bench"));
        env.put("QWEN_IMAGE_S3_ACCESS_KEY", "bench-access");
        env.put("QWEN_IMAGE_S3_SECRET_KEY", "bench-secret-0123456789");
        env.put("QWEN_IMAGE_S3_CREATE_BUCKET", "on");
        env.put("QWEN_IMAGE_URL_SECRET", "bench-shared-secret-0123456789");
        if (imagesPerDay > 0) {
            env.put("QWEN_IMAGE_IMAGES_PER_DAY", Long.toString(imagesPerDay));
        }
        Map<String, String> env1 = new HashMap<>(env);
        env1.put("QWEN_IMAGE_DATA_DIR", d1.toString());
        Map<String, String> env2 = new HashMap<>(env);
        env2.put("QWEN_IMAGE_DATA_DIR", d2.toString());
        try (QwenImageServer api1 = QwenImageServer.start(ServerConfig.of(env1));
             QwenImageServer api2 = QwenImageServer.start(ServerConfig.of(env2))) {
            List<String> apis = List.of(api1.localUrl(), api2.localUrl());
            List<String> bares = bare.stream().map(b -> "http://127.0.0.1:" + b.port()).toList();
            String body = "{\"prompt\": \"a red fox reading a book under a tree\", \"size\": \"1024*1024\", \"watermark\": false}";
            Map<String, String> auth = Map.of("Authorization", "Bearer " + KEY);
            Map<String, String> authJson = Map.of("Authorization", "Bearer " + KEY, "Content-Type", "application/json");
            WrkLoad wrk = new WrkLoad(connections / 2, warmup, duration);

            LoadResult barePost = wrk.runAll("bare POST on 2 nodes", bares, new WrkLoad.Spec("POST", List.of("/bare"), authJson, body));
            LoadResult submit = wrk.runAll("submit through 2 api nodes", apis,
                    new WrkLoad.Spec("POST", List.of("/v3/async/qwen-image-txt2img"), authJson, body));
            List<String> polls = new ArrayList<>();
            try (TaskStore store = PostgresTaskStore.open(url, "", "", 2)) {
                for (int i = 0; i < 200; i++) {
                    String id = TaskIds.next(Clock.systemUTC());
                    store.insert(new NewTask(id, dev.qwenimage.auth.ApiKeys.ownerOf(KEY),
                            new TaskSpec("poll " + i, "", 1024, 1024, false, i, OptionalInt.empty()), 3, Instant.now()));
                    polls.add("/v3/async/task-result?task_id=" + id);
                }
            }
            LoadResult bareGet = wrk.runAll("bare GET on 2 nodes", bares, new WrkLoad.Spec("GET", List.of("/bare"), auth, null));
            LoadResult poll = wrk.runAll("task-result through 2 api nodes", apis, new WrkLoad.Spec("GET", polls, auth, null));

            System.out.println("## Submit and poll through two api nodes on PostgreSQL (issue #5; wrk, " + connections
                    + " connections split over the two nodes; one key"
                    + (imagesPerDay > 0 ? ", with a daily quota of " + imagesPerDay : ", no caps") + ")");
            System.out.println();
            System.out.println("| run | requests/s | p50 ms | p99 ms | errors | ratio to bare |");
            System.out.println("|---|---:|---:|---:|---:|---:|");
            for (LoadResult[] pair : new LoadResult[][] {{barePost, submit}, {bareGet, poll}}) {
                System.out.printf("| %s | %.0f | %.2f | %.2f | %d | baseline |%n", pair[0].name(), pair[0].throughput(),
                        pair[0].p50Millis(), pair[0].p99Millis(), pair[0].errors());
                System.out.printf("| %s | %.0f | %.2f | %.2f | %d | %.0f%% |%n", pair[1].name(), pair[1].throughput(),
                        pair[1].p50Millis(), pair[1].p99Millis(), pair[1].errors(), 100 * pair[1].throughput() / pair[0].throughput());
            }
            System.out.println();
        } finally {
            bare.forEach(Javalin::stop);
            s3.stop();
            for (Path p : List.of(s3dir, d1, d2)) {
                Bench.deleteTree(p);
            }
        }
    }

    private static Javalin bareNode() {
        return Javalin.create(cfg -> {
            HttpApi.serverSettings(cfg, "127.0.0.1", 0);
            cfg.routes.post("/bare", ctx -> {
                ctx.bodyAsBytes();
                ctx.contentType("application/json").result("{\"task_id\": \"" + UUID.randomUUID() + "\"}");
            });
            cfg.routes.get("/bare", ctx -> ctx.contentType("application/json").result(Bench.BARE_RESULT));
        }).start();
    }

    /** S3Proxy on its filesystem store: the S3 endpoint api nodes need at start-up (they check the bucket). */
    private static S3Proxy startS3(Path dir) throws Exception {
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", dir.toString());
        S3Proxy proxy = S3Proxy.builder().blobStore(BlobStores.create("filesystem", props))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "bench-access", "bench-secret-0123456789")
                .endpoint(URI.create("http://127.0.0.1:0")).build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(10);
        }
        return proxy;
    }
}
