package dev.qwenimage.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.ServerProcess;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is lost when nodes die: two api and three worker processes over PostgreSQL and an S3
 * bucket; 200 tasks from three keys; one worker is killed with SIGKILL twice (and started again)
 * and one api node is killed with SIGKILL and restarted while the tasks run and the last of them
 * are being submitted. Every task must end SUCCEED, entering that state exactly once, with one
 * fetchable image; none may be left QUEUED or PROCESSING, and no retried submit may make a second task.
 */
class ChaosTest {
    private static final List<String> KEYS = List.of("chaos-key-alpha-000000", "chaos-key-bravo-111111", "chaos-key-charlie-22222");
    private static final int TASKS = 200;
    /** Submitted before the chaos; the rest arrive while nodes die. */
    private static final int EARLY = 150;

    @TempDir
    Path dir;
    /** Late submits that found their api node down and went to the other. */
    private final java.util.concurrent.atomic.AtomicInteger failovers = new java.util.concurrent.atomic.AtomicInteger();

    @Test
    void killedWorkersAndARestartedApiNodeLoseNothingAndRunNothingTwice() throws Exception {
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("QWEN_IMAGE_DB_URL", pg.url());
            env.put("QWEN_IMAGE_DB_POOL", "4");
            env.put("QWEN_IMAGE_API_KEYS", String.join(",", KEYS));
            env.put("QWEN_IMAGE_LEASE", "3s");
            env.put("QWEN_IMAGE_URL_SECRET", "chaos-shared-secret-0123456789");
            env.put("QWEN_IMAGE_MAX_ATTEMPTS", "6");
            env.put("QWEN_IMAGE_ENGINES", "preview?steps=8&step_delay=40ms&slots=2");

            List<ServerProcess> nodes = new ArrayList<>();
            try {
                ServerProcess api1 = start(nodes, "api-1", "api", env);
                ServerProcess api2 = start(nodes, "api-2", "api", env);
                ServerProcess victim = start(nodes, "worker-1", "worker", env);
                start(nodes, "worker-2", "worker", env);
                start(nodes, "worker-3", "worker", env);
                String url1 = api1.awaitReady();
                String url2 = api2.awaitReady();
                for (ServerProcess n : nodes) {
                    n.awaitReady();
                }

                auditTransitionsToSucceed(pg);

                // 150 tasks from three keys, through both api nodes, from 12 client threads
                List<String> ids = new ArrayList<>(submitAll(url1, url2, EARLY));
                assertThat(new HashSet<>(ids)).hasSize(EARLY);

                // chaos while they run
                awaitSucceeded(pg, TASKS / 5);
                victim.kill();
                victim = restart(nodes, victim, "worker-1", "worker", env);
                awaitSucceeded(pg, TASKS / 2);
                // the last 50 arrive while a worker and an api node die: a client whose submit fails
                // (connection refused or reset) sends it again, with the same Idempotency-Key, to the other node
                String first = url1;
                String second = url2;
                Future<List<String>> late;
                try (ExecutorService client = Executors.newSingleThreadExecutor()) {
                    late = client.submit(() -> submitLate(first, second));
                    Api.sleep(150);
                    victim.kill();
                    api2.kill();
                    api2 = restart(nodes, api2, "api-2", "api", env);
                    victim = restart(nodes, victim, "worker-1", "worker", env);
                    url2 = api2.awaitReady();
                }
                ids.addAll(late.get());
                assertThat(failovers.get()).as("late submits that met the dead api node").isPositive();
                assertThat(new HashSet<>(ids)).hasSize(TASKS);

                // every task ends SUCCEED with one fetchable image, whichever api node is asked
                for (int i = 0; i < ids.size(); i++) {
                    String id = ids.get(i);
                    Api api = new Api(i % 2 == 0 ? url1 : url2, KEYS.get(i % KEYS.size()));
                    JsonNode result = api.awaitFinished(id, Duration.ofSeconds(180));
                    assertThat(result.at("/task/status").asText()).as("task %s: %s", id, result).isEqualTo("TASK_STATUS_SUCCEED");
                    assertThat(result.get("images")).hasSize(1);
                    HttpResponse<byte[]> image = Api.fetch(result.at("/images/0/image_url").asText());
                    assertThat(image.statusCode()).isEqualTo(200);
                    BufferedImage img = ImageIO.read(new ByteArrayInputStream(image.body()));
                    assertThat(img.getWidth()).isEqualTo(256);
                }

                // the database agrees: all done, none left behind, one image object per task
                Map<String, Long> states = countStates(pg);
                assertThat(states).containsEntry("SUCCEED", (long) TASKS).doesNotContainKeys("QUEUED", "PROCESSING", "FAILED");
                Set<String> objects = new HashSet<>(s3.keys());
                for (String id : ids) {
                    assertThat(objects).contains(id + ".jpeg");
                }
                assertThat(objects).hasSize(TASKS);
                // each task entered SUCCEED once: no run was completed twice (a trigger logged every transition)
                assertThat(succeedTransitions(pg)).as("transitions into SUCCEED per task")
                        .hasSize(TASKS).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
                // the kills really interrupted work: some tasks needed more than one attempt
                assertThat(maxAttempts(pg)).isGreaterThan(1);
            } finally {
                nodes.forEach(ServerProcess::kill);
            }
        }
    }

    private ServerProcess start(List<ServerProcess> nodes, String name, String role, Map<String, String> env) {
        Map<String, String> e = new HashMap<>(env);
        e.put("QWEN_IMAGE_ROLE", role);
        ServerProcess p = ServerProcess.start(dir.resolve(name), e);
        nodes.add(p);
        return p;
    }

    private ServerProcess restart(List<ServerProcess> nodes, ServerProcess old, String name, String role, Map<String, String> env) {
        nodes.remove(old);
        ServerProcess fresh = start(nodes, name, role, env);
        fresh.awaitReady();
        return fresh;
    }

    /**
     * The tasks after the first {@link #EARLY}, one every 40 ms, alternating nodes as a load balancer
     * would; a submit that fails on one node is sent to the other with the same Idempotency-Key.
     */
    private List<String> submitLate(String url1, String url2) {
        List<String> ids = new ArrayList<>();
        for (int n = EARLY; n < TASKS; n++) {
            String body = "{\"prompt\": \"chaos task " + n + "\", \"size\": \"256*256\"}";
            String key = KEYS.get(n % KEYS.size());
            String idempotencyKey = "chaos-" + n;
            String id = null;
            for (int attempt = 0; id == null; attempt++) {
                String url = (n + attempt) % 2 == 0 ? url1 : url2;
                if (attempt > 40) {
                    throw new AssertionError("task " + n + " could not be submitted to either api node");
                }
                try {
                    Api.Response r = new Api(url, key).submit(body, idempotencyKey);
                    if (r.status() == 200) {
                        id = r.json().get("task_id").asText();
                    } else {
                        assertThat(r.status()).as("submit answer %s", r.body()).isGreaterThanOrEqualTo(500);
                        Api.sleep(100);
                    }
                } catch (java.io.UncheckedIOException e) {
                    failovers.incrementAndGet();
                    Api.sleep(100); // the node is down: the other one next
                }
            }
            ids.add(id);
            Api.sleep(40);
        }
        return ids;
    }

    /** Logs every transition of a task into SUCCEED in a table of the test's own. */
    private static void auditTransitionsToSucceed(LocalPostgres pg) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE chaos_succeeded (task_id TEXT NOT NULL)");
            st.execute("""
                    CREATE FUNCTION chaos_log_succeed() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO chaos_succeeded (task_id) VALUES (NEW.id);
                        RETURN NEW;
                    END $$""");
            st.execute("""
                    CREATE TRIGGER chaos_succeed AFTER UPDATE OF state ON tasks FOR EACH ROW
                    WHEN (NEW.state = 'SUCCEED') EXECUTE FUNCTION chaos_log_succeed()""");
        }
    }

    private static Map<String, Long> succeedTransitions(LocalPostgres pg) throws Exception {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT task_id, count(*) FROM chaos_succeeded GROUP BY task_id")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private static List<String> submitAll(String url1, String url2, int count) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(12)) {
            List<Future<String>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                futures.add(pool.submit(() -> new Api(n % 2 == 0 ? url1 : url2, KEYS.get(n % KEYS.size()))
                        .submitOk("{\"prompt\": \"chaos task " + n + "\", \"size\": \"256*256\"}")));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> f : futures) {
                ids.add(f.get());
            }
            return ids;
        }
    }

    private static void awaitSucceeded(LocalPostgres pg, long atLeast) throws Exception {
        Instant deadline = Instant.now().plusSeconds(120);
        while (countStates(pg).getOrDefault("SUCCEED", 0L) < atLeast) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("fewer than " + atLeast + " tasks succeeded in time: " + countStates(pg));
            }
            Api.sleep(100);
        }
    }

    private static Map<String, Long> countStates(LocalPostgres pg) throws Exception {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT state, count(*) FROM tasks GROUP BY state")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private static int maxAttempts(LocalPostgres pg) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT max(attempts) FROM tasks")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
