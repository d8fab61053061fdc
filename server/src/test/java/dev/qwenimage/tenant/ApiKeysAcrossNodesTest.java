package dev.qwenimage.tenant;

import static dev.qwenimage.support.Errors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.support.Admin;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * API keys on PostgreSQL with two nodes on one schema, over real HTTP: a key created, retuned,
 * rotated or revoked through one node's admin API takes effect on the other within a second
 * (LISTEN/NOTIFY, with no database read per request), and a key's queue cap and daily quota hold
 * exactly when its submits arrive at both nodes at once.
 */
class ApiKeysAcrossNodesTest {
    private static final String ADMIN = "an-admin-token-for-two-nodes-0123";
    private static final String TASK = "{\"prompt\": \"a lighthouse at dusk\", \"size\": \"512*512\"}";
    private static final Duration PROPAGATION = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();
    private LocalPostgres pg;

    @AfterEach
    void closeNodes() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    /** Node {@code name} on the test's schema, with the given engine. */
    private QwenImageServer node(String name, Clock clock, ScriptedEngine engine) {
        if (pg == null) {
            pg = LocalPostgres.freshSchema();
            open.add(pg);
        }
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dir.resolve(name).toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_ADMIN_TOKEN", ADMIN, "QWEN_IMAGE_NSFW", "off", "QWEN_IMAGE_DB_URL", pg.url(),
                "QWEN_IMAGE_DB_POOL", "8", "QWEN_IMAGE_URL_SECRET", "two-nodes-shared-secret-0123456789"));
        QwenImageServer server = QwenImageServer.start(ServerConfig.of(values), clock,
                List.of(new QwenImageServer.EngineSetup(engine, 1, Duration.ZERO)));
        open.add(server);
        return server;
    }

    /** A node whose one engine never comes up: its workers claim nothing, so every task stays queued. */
    private QwenImageServer stalled(String name, Clock clock) {
        return node(name, clock, new ScriptedEngine("stalled").probeAnswers(() -> new EngineHealth.Down("loading")));
    }

    private static Admin admin(QwenImageServer server) {
        return new Admin(server.localUrl(), ADMIN);
    }

    private static String secret(Api.Response created) {
        return created.json().get("secret").asText();
    }

    private static String id(Api.Response created) {
        return created.json().get("id").asText();
    }

    /**
     * Sends {@code request} every few milliseconds until its answer passes {@code done} and returns
     * the milliseconds from {@code sinceNanos} to that answer; fails after {@code timeout}.
     */
    private static long millisUntil(long sinceNanos, Supplier<Api.Response> request, Predicate<Api.Response> done,
                                    Duration timeout, String what) {
        long deadline = sinceNanos + timeout.toNanos();
        Api.Response last = request.get();
        while (!done.test(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " did not happen within " + timeout + "; last answer " + last.status() + " " + last.body());
            }
            Api.sleep(5);
            last = request.get();
        }
        long millis = (System.nanoTime() - sinceNanos) / 1_000_000;
        System.out.printf("%s after %d ms%n", what, millis);
        return millis;
    }

    @Test
    void aKeyCreatedRetunedAndRevokedOnOneNodeTakesEffectOnTheOtherWithinASecond() {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());

        new Api(b.localUrl(), TestServer.KEY).submitOk(TASK); // node B has served a submit before: the time below is the key's
        Api.Response created = admin(a).create("{\"name\": \"acme-prod\"}");
        long t0 = System.nanoTime();
        Api onB = new Api(b.localUrl(), secret(created));
        assertThat(millisUntil(t0, () -> onB.submit(TASK), r -> r.status() == 200, PROPAGATION,
                "a key created on node A accepted by node B")).isLessThan(PROPAGATION.toMillis());
        // node B's admin API knows it too
        assertThat(admin(b).get("/admin/v1/keys/" + id(created)).json().get("name").asText()).isEqualTo("acme-prod");

        String big = "{\"prompt\": \"big\", \"size\": \"1024*1024\"}";
        assertThat(onB.submit(big).status()).isEqualTo(200);
        long t1 = System.nanoTime();
        assertThat(admin(a).patch("/admin/v1/keys/" + id(created), "{\"limits\": {\"max_pixels\": 262144}}").status()).isEqualTo(200);
        assertThat(millisUntil(t1, () -> onB.submit(big), r -> r.status() == 400, PROPAGATION,
                "a limit set on node A enforced by node B")).isLessThan(PROPAGATION.toMillis());
        assertError(onB.submit(big), 400, "INVALID_SIZE");
        assertThat(onB.submit(TASK).status()).isEqualTo(200);

        String task = onB.submitOk(TASK);
        long t2 = System.nanoTime();
        assertThat(admin(a).delete("/admin/v1/keys/" + id(created)).status()).isEqualTo(200);
        assertThat(millisUntil(t2, () -> onB.result(task), r -> r.status() == 401, PROPAGATION,
                "a key revoked on node A refused by node B")).isLessThan(PROPAGATION.toMillis());
        assertError(onB.submit(TASK), 401, "INVALID_API_KEY");
        assertError(onB.result(task), 401, "INVALID_API_KEY");
        assertThat(admin(b).get("/admin/v1/keys/" + id(created)).json().get("status").asText()).isEqualTo("revoked");
    }

    @Test
    void aNodeAuthenticatesEveryRequestWithoutReadingTheKeysTable() throws Exception {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        Api.Response created = admin(a).create("{\"name\": \"hot-path\"}");
        Api managed = new Api(b.localUrl(), secret(created));
        millisUntil(System.nanoTime(), () -> managed.submit(TASK), r -> r.status() == 200, PROPAGATION, "the new key on node B");
        String task = managed.submitOk(TASK);

        // while another session holds api_keys locked against every read, node B still answers at once:
        // a request that read the table would wait for the lock
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE");
            ExecutorService client = Executors.newSingleThreadExecutor();
            try {
                Future<List<Integer>> answers = client.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        statuses.add(managed.submit(TASK).status());
                        statuses.add(managed.result(task).status());
                        statuses.add(managed.withKey(TestServer.KEY).submit(TASK).status());
                        statuses.add(managed.withKey("qwen-never-issued-000000000000000000").submit(TASK).status());
                    }
                    return statuses;
                });
                List<Integer> statuses = answers.get(10, TimeUnit.SECONDS);
                assertThat(statuses).hasSize(80);
                for (int i = 0; i < statuses.size(); i++) {
                    assertThat(statuses.get(i)).as("answer %d", i).isEqualTo(i % 4 == 3 ? 401 : 200);
                }
            } finally {
                client.shutdownNow();
                c.rollback();
            }
        }
    }

    @Test
    void aRotationWithGraceOnOneNodeLetsBothSecretsWorkOnTheOtherUntilTheGraceEnds() {
        MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
        QwenImageServer a = stalled("a", clock);
        QwenImageServer b = stalled("b", clock);
        Api.Response created = admin(a).create("{\"name\": \"rotating\"}");
        Api old = new Api(b.localUrl(), secret(created));
        millisUntil(System.nanoTime(), () -> old.submit(TASK), r -> r.status() == 200, PROPAGATION, "the new key on node B");
        String task = old.submitOk(TASK);

        long t0 = System.nanoTime();
        Api.Response rotated = admin(a).post("/admin/v1/keys/" + id(created) + "/rotate", "{\"grace_seconds\": 60}");
        assertThat(rotated.status()).isEqualTo(200);
        Api fresh = old.withKey(secret(rotated));
        assertThat(millisUntil(t0, () -> fresh.result(task), r -> r.status() == 200, PROPAGATION,
                "a secret rotated on node A accepted by node B")).isLessThan(PROPAGATION.toMillis());

        // during the grace period both secrets work on node B, and the key's task answers to both
        assertThat(old.result(task).status()).isEqualTo(200);
        assertThat(old.submit(TASK).status()).isEqualTo(200);
        assertThat(fresh.submit(TASK).status()).isEqualTo(200);
        clock.advance(Duration.ofSeconds(59));
        assertThat(old.result(task).status()).isEqualTo(200);

        // then the old one stops on both nodes, and the new one goes on
        clock.advance(Duration.ofSeconds(2));
        assertError(old.submit(TASK), 401, "INVALID_API_KEY");
        assertError(new Api(a.localUrl(), secret(created)).submit(TASK), 401, "INVALID_API_KEY");
        assertThat(fresh.result(task).status()).isEqualTo(200);

        // a rotation without grace stops the old secret on node B at once
        long t1 = System.nanoTime();
        Api.Response again = admin(a).post("/admin/v1/keys/" + id(created) + "/rotate", "{}");
        assertThat(millisUntil(t1, () -> fresh.result(task), r -> r.status() == 401, PROPAGATION,
                "a secret rotated out on node A refused by node B")).isLessThan(PROPAGATION.toMillis());
        assertThat(fresh.withKey(secret(again)).result(task).status()).isEqualTo(200);
    }

    @Test
    void aRevokeReachesANodeWhoseListenConnectionWasCutJustBefore() throws Exception {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        Api.Response created = admin(a).create("{\"name\": \"cut-off\"}");
        Api onB = new Api(b.localUrl(), secret(created));
        millisUntil(System.nanoTime(), () -> onB.submit(TASK), r -> r.status() == 200, PROPAGATION, "the new key on node B");

        // both nodes lose their LISTEN connection; the revoke is committed (and NOTIFYed) before
        // they listen again (they wait half a second before reconnecting), so no node hears it
        List<Integer> cut = listenBackends();
        assertThat(cut).as("one LISTEN connection per node").hasSize(2);
        try (Connection c = DriverManager.getConnection(pg.url());
             PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM unnest(?::int[]) AS pid")) {
            ps.setArray(1, c.createArrayOf("int4", cut.toArray()));
            ps.execute();
        }
        long t0 = System.nanoTime();
        assertThat(admin(a).delete("/admin/v1/keys/" + id(created)).status()).isEqualTo(200);
        // each node reloads its keys when it listens again
        long millis = millisUntil(t0, () -> onB.submit(TASK), r -> r.status() == 401, Duration.ofSeconds(3),
                "a key revoked on node A while node B was not listening refused by node B");
        assertThat(millis).as("reconnect back-off (500 ms) plus a reload").isLessThan(2_000);
        List<Integer> again = listenBackends();
        assertThat(again).hasSize(2).doesNotContainAnyElementsOf(cut);

        // and notifications flow again on the new connections
        long t1 = System.nanoTime();
        Api.Response other = admin(a).create("{\"name\": \"after-the-cut\"}");
        assertThat(millisUntil(t1, () -> onB.withKey(secret(other)).submit(TASK), r -> r.status() == 200, PROPAGATION,
                "a key created on node A after the reconnect accepted by node B")).isLessThan(PROPAGATION.toMillis());
    }

    /** The server processes of this schema's LISTEN connections (one per node). */
    private List<Integer> listenBackends() throws Exception {
        String channel = "qwen_image_tasks_" + pg.schema().toLowerCase(java.util.Locale.ROOT) + "_keys";
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            List<Integer> pids = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(pg.url());
                 PreparedStatement ps = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE query = ?")) {
                ps.setString(1, "LISTEN " + channel);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        pids.add(rs.getInt(1));
                    }
                }
            }
            if (pids.size() >= 2 || System.nanoTime() > deadline) {
                return pids;
            }
            Api.sleep(50);
        }
    }

    @Test
    void theQueueCapHoldsExactlyWhen64SubmitsArriveAtTwoNodesAtOnce() throws Exception {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        String secret = secret(admin(a).create("{\"name\": \"capped\", \"limits\": {\"max_queued\": 10}}"));
        Api onA = new Api(a.localUrl(), secret);
        Api onB = new Api(b.localUrl(), secret);
        awaitKnown(onB);

        List<Api.Response> answers = submitAtOnce(onA, onB, 64);
        assertThat(answers.stream().filter(r -> r.status() == 200).count()).isEqualTo(10);
        assertThat(answers.stream().filter(r -> r.status() != 200))
                .hasSize(54).allSatisfy(r -> assertError(r, 429, "RATE_LIMITED"));
        // the database holds exactly the ten
        assertThat(queued(ownerOf(a, secret))).isEqualTo(10);
        assertError(onA.submit(TASK), 429, "RATE_LIMITED");
        assertError(onB.submit(TASK), 429, "RATE_LIMITED");
    }

    @Test
    void theDailyQuotaHoldsExactlyWhen64SubmitsArriveAtTwoNodesAtOnce() throws Exception {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        String secret = secret(admin(a).create("{\"name\": \"daily\", \"limits\": {\"images_per_day\": 10}}"));
        Api onA = new Api(a.localUrl(), secret);
        Api onB = new Api(b.localUrl(), secret);
        awaitKnown(onB);

        List<Api.Response> answers = submitAtOnce(onA, onB, 64);
        assertThat(answers.stream().filter(r -> r.status() == 200).count()).isEqualTo(10);
        assertThat(answers.stream().filter(r -> r.status() != 200))
                .hasSize(54).allSatisfy(r -> assertError(r, 429, "QUOTA_EXCEEDED"));
        assertThat(queued(ownerOf(a, secret))).isEqualTo(10);
        JsonNode usage = admin(b).get("/admin/v1/usage").json().get("rows");
        assertThat(usage.findValuesAsText("name")).containsExactly("daily");
        assertThat(usage.get(0).get("submitted").asLong()).isEqualTo(10);
    }

    @Test
    void aSubmitRefusedAtTheCapLeavesItsIdempotencyKeyFreeOnEveryNode() {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        String secret = secret(admin(a).create("{\"name\": \"one-at-a-time\", \"limits\": {\"max_queued\": 1}}"));
        Api onA = new Api(a.localUrl(), secret);
        Api onB = new Api(b.localUrl(), secret);
        awaitKnown(onB);
        String first = onA.submitOk(TASK);

        String second = "{\"prompt\": \"the second one\", \"size\": \"512*512\"}";
        assertError(onA.submit(second, "order-2"), 429, "RATE_LIMITED");
        assertThat(onA.cancel(first).status()).isEqualTo(200);
        // the key was not spent on the refusal: the retry makes the task, on either node, and replays it after
        Api.Response made = onB.submit(second, "order-2");
        assertThat(made.status()).as(made.body()).isEqualTo(200);
        String id = made.json().get("task_id").asText();
        assertThat(onA.result(id).status()).isEqualTo(200);
        assertThat(onA.submit(second, "order-2").json().get("task_id").asText()).isEqualTo(id);
        assertError(onA.submit(TASK, "order-2"), 422, "IDEMPOTENCY_KEY_REUSED");
    }

    @Test
    void oneIdempotencyKeySentToBothNodesAtOnceMakesOneTask() throws Exception {
        QwenImageServer a = stalled("a", Clock.systemUTC());
        QwenImageServer b = stalled("b", Clock.systemUTC());
        Api onA = new Api(a.localUrl(), TestServer.KEY);
        Api onB = new Api(b.localUrl(), TestServer.KEY);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Api.Response>> futures = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                Api api = i % 2 == 0 ? onA : onB;
                // half of them also submit other tasks of the same key, so that batches mix keys and no keys
                String key = i % 4 < 2 ? "the-same-key" : null;
                String body = key == null ? "{\"prompt\": \"other " + i + "\", \"size\": \"512*512\"}" : TASK;
                futures.add(pool.submit(() -> {
                    go.await();
                    return api.submit(body, key);
                }));
            }
            go.countDown();
            List<String> keyed = new ArrayList<>();
            List<String> others = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                Api.Response r = futures.get(i).get();
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                (i % 4 < 2 ? keyed : others).add(r.json().get("task_id").asText());
            }
            assertThat(new HashSet<>(keyed)).hasSize(1);
            assertThat(new HashSet<>(others)).hasSize(16);
            assertThat(queued(ownerOf(a, TestServer.KEY))).isEqualTo(17);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void usageReadOnEitherNodeIsWhatRanOnBoth() {
        QwenImageServer a = node("a", Clock.systemUTC(), meteredEngine());
        QwenImageServer b = node("b", Clock.systemUTC(), meteredEngine());
        Api.Response created = admin(a).create("{\"name\": \"metered\"}");
        Api onA = new Api(a.localUrl(), secret(created));
        Api onB = new Api(b.localUrl(), secret(created));
        awaitKnown(onB);

        List<String> tasks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            tasks.add(onA.submitOk("{\"prompt\": \"square " + i + "\", \"size\": \"512*512\"}"));
            tasks.add(onB.submitOk("{\"prompt\": \"wide " + i + "\", \"size\": \"1024*512\"}"));
        }
        tasks.add(onA.submitOk("{\"prompt\": \"refused by the engine\", \"size\": \"512*512\"}"));
        String slow = onB.submitOk("{\"prompt\": \"slow one\", \"size\": \"512*512\"}");
        onA.awaitStatus(slow, "TASK_STATUS_PROCESSING"::equals, Duration.ofSeconds(20));
        assertThat(onA.cancel(slow).status()).isEqualTo(200);
        tasks.add(slow);
        List<String> states = new ArrayList<>();
        for (String t : tasks) {
            states.add(onB.awaitFinished(t, Duration.ofSeconds(30)).at("/task/status").asText());
        }
        assertThat(states).containsOnly("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED");
        assertThat(states.stream().filter("TASK_STATUS_SUCCEED"::equals)).hasSize(8);
        // the finish of the cancelled task is counted in the same transaction as its FAILED state
        JsonNode fromA = awaitUsage(admin(a), id(created), row -> row.get("cancelled").asLong() == 1);
        JsonNode fromB = admin(b).get("/admin/v1/usage?key=" + id(created)).json();
        assertThat(fromB.get("rows")).isEqualTo(fromA.get("rows"));

        JsonNode row = fromA.get("rows").get(0);
        assertThat(fromA.get("rows")).hasSize(1);
        assertThat(row.get("name").asText()).isEqualTo("metered");
        assertThat(row.get("submitted").asLong()).isEqualTo(10);
        assertThat(row.get("succeeded").asLong()).isEqualTo(8);
        assertThat(row.get("failed").asLong()).isEqualTo(1);
        assertThat(row.get("cancelled").asLong()).isEqualTo(1);
        assertThat(row.get("images").asLong()).isEqualTo(8);
        assertThat(row.get("megapixels").asDouble()).isEqualTo(3.15); // 4 * 512*512 + 4 * 1024*512 = 3145728 pixels
        assertThat(row.get("engine_seconds").asDouble()).isPositive();
        // the hours add up to the day, on either node
        JsonNode hours = admin(b).get("/admin/v1/usage?key=" + id(created) + "&granularity=hour").json().get("rows");
        long submitted = 0;
        for (JsonNode h : hours) {
            submitted += h.get("submitted").asLong();
        }
        assertThat(submitted).isEqualTo(10);
        assertThat(admin(a).get("/admin/v1/usage?key=" + id(created) + "&granularity=hour").json().get("rows")).isEqualTo(hours);
    }

    /** Succeeds at once, fails for good on a prompt that says "refused", runs in slow steps for "slow". */
    private static ScriptedEngine meteredEngine() {
        return new ScriptedEngine("gpu").otherwise(call -> {
            String prompt = call.request().prompt();
            if (prompt.contains("refused")) {
                return new GenerationResult.PermanentFailure("the engine refused this prompt");
            }
            return call.runSlowly(prompt.contains("slow") ? 500 : 2);
        });
    }

    private static JsonNode awaitUsage(Admin admin, String key, Predicate<JsonNode> row) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            JsonNode usage = admin.get("/admin/v1/usage?key=" + key).json();
            if (usage.get("rows").size() == 1 && row.test(usage.get("rows").get(0)) || System.nanoTime() > deadline) {
                return usage;
            }
            Api.sleep(50);
        }
    }

    /** Waits until node B knows the key {@code api} sends (created on node A a moment ago). */
    private static void awaitKnown(Api api) {
        millisUntil(System.nanoTime(), () -> api.result("00000000-0000-7000-8000-000000000000"), r -> r.status() != 401,
                PROPAGATION, "the new key known on " + api.baseUrl());
    }

    /** The owner of the tasks of {@code secret}, as node {@code server} knows it. */
    private static String ownerOf(QwenImageServer server, String secret) {
        return ((KeyCheck.Accepted) server.keys().check(secret)).key().owner();
    }

    /** The tasks of {@code owner} waiting in the database. */
    private long queued(String owner) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url());
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM tasks WHERE owner = ? AND state = 'QUEUED'")) {
            ps.setString(1, owner);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** {@code n} submits of one key, all sent at once, alternately to node A and node B; their answers. */
    private static List<Api.Response> submitAtOnce(Api onA, Api onB, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Api.Response>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Api api = i % 2 == 0 ? onA : onB;
                String body = "{\"prompt\": \"concurrent " + i + "\", \"size\": \"512*512\"}";
                futures.add(pool.submit(() -> {
                    go.await();
                    return api.submit(body);
                }));
            }
            go.countDown();
            List<Api.Response> out = new ArrayList<>();
            for (Future<Api.Response> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
