package dev.qwenimage.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node stopped the way orchestrators stop it (SIGTERM: {@code docker stop}, a Kubernetes pod
 * ending, a rolling update) drains: readiness turns 503 at once, a worker claims nothing new and
 * lets its running task finish within {@code QWEN_IMAGE_DRAIN_TIMEOUT}, hands back what still runs
 * then (released at once, not left for its lease to expire: another worker restarts it within a
 * second), and the process exits 0. Every task SUCCEEDs exactly once. Real processes over
 * PostgreSQL and an S3 bucket; a trigger logs every state change of every task with its time.
 */
class DrainTest {
    private static final String KEY = "drain-test-key-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aWorkerStoppedMidTaskHandsItBackAtOnceAndTheOtherWorkerRestartsItWithinASecond() throws Exception {
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            // 20 steps of 400 ms: a task takes about 8 s, longer than starting the second worker (up to 5 s on a
            // loaded 2-core machine) plus the stopping worker's 1 s drain;
            // leases last 60 s, so a restart within a second can only come from the hand-back
            Map<String, String> env = env(pg, s3, "preview?steps=20&step_delay=400ms&slots=1");
            List<ServerProcess> nodes = new ArrayList<>();
            try {
                Api api = new Api(start(nodes, "api", "api", env).awaitReady(), KEY);
                ServerProcess stopping = start(nodes, "worker-a", "worker", with(env, "QWEN_IMAGE_DRAIN_TIMEOUT", "1s"));
                String stoppingUrl = stopping.awaitReady();
                logTransitions(pg);

                String id = api.submitOk("{\"prompt\": \"a lighthouse drawn slowly\", \"size\": \"256*256\"}");
                awaitProgress(api, id);
                ServerProcess other = start(nodes, "worker-b", "worker", env);
                other.awaitReady();

                Instant sigterm = Instant.now();
                stopping.terminate();
                assertThat(awaitReadiness(stoppingUrl, 503)).as("readiness while the worker drains").isEqualTo(503);
                assertThat(stopping.awaitExit(Duration.ofSeconds(20))).as("exit code of a graceful stop").isZero();
                assertThat(stopping.output()).anySatisfy(l -> assertThat(l).contains("0 running task(s) finished here, 1 handed back"));

                JsonNode done = api.awaitFinished(id, Duration.ofSeconds(60));
                assertThat(done.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
                List<Transition> log = transitions(pg, id);
                assertThat(log).extracting(Transition::state).containsExactly("PROCESSING", "QUEUED", "PROCESSING", "SUCCEED");
                assertThat(log.get(0).worker()).as("first run").contains("-" + stopping.pid() + "-");
                assertThat(log.get(2).worker()).as("the re-run").contains("-" + other.pid() + "-");
                assertThat(log.get(3).worker()).as("who succeeded").contains("-" + other.pid() + "-");
                Duration handBack = Duration.between(sigterm, log.get(1).at());
                assertThat(handBack).as("SIGTERM to hand-back: the 1 s drain, then at most a step")
                        .isBetween(Duration.ofMillis(900), Duration.ofSeconds(4));
                assertThat(Duration.between(log.get(1).at(), log.get(2).at())).as("hand-back to restart on the other worker")
                        .isLessThanOrEqualTo(Duration.ofSeconds(1));
                assertThat(attempts(pg, id)).as("a hand-back spends no attempt").isEqualTo(1);
            } finally {
                nodes.forEach(ServerProcess::kill);
            }
        }
    }

    @Test
    void aWorkerStoppedMidTaskFinishesItWithinTheDrainTimeoutAndTakesNothingNew() throws Exception {
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            Map<String, String> env = env(pg, s3, "preview?steps=10&step_delay=250ms&slots=1");
            List<ServerProcess> nodes = new ArrayList<>();
            try {
                Api api = new Api(start(nodes, "api", "api", env).awaitReady(), KEY);
                ServerProcess stopping = start(nodes, "worker-a", "worker", with(env, "QWEN_IMAGE_DRAIN_TIMEOUT", "30s"));
                String stoppingUrl = stopping.awaitReady();
                logTransitions(pg);

                String running = api.submitOk("{\"prompt\": \"finished while draining\", \"size\": \"256*256\"}");
                String waiting = api.submitOk("{\"prompt\": \"left for the next worker\", \"size\": \"256*256\"}");
                awaitProgress(api, running);

                long t0 = System.nanoTime();
                stopping.terminate();
                assertThat(awaitReadiness(stoppingUrl, 503)).as("readiness while the worker drains").isEqualTo(503);
                assertThat(stopping.awaitExit(Duration.ofSeconds(30))).as("exit code of a graceful stop").isZero();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("it stops once its task is done, not at the drain timeout")
                        .isLessThan(Duration.ofSeconds(15));
                assertThat(stopping.output()).anySatisfy(l -> assertThat(l).contains("1 running task(s) finished here, 0 handed back"));

                assertThat(api.result(running).json().at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
                assertThat(transitions(pg, running)).extracting(Transition::state).containsExactly("PROCESSING", "SUCCEED");
                assertThat(transitions(pg, waiting)).as("the draining worker claimed nothing new").isEmpty();
                assertThat(api.result(waiting).json().at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");

                ServerProcess next = start(nodes, "worker-b", "worker", env);
                next.awaitReady();
                assertThat(api.awaitFinished(waiting, Duration.ofSeconds(60)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
                List<Transition> log = transitions(pg, waiting);
                assertThat(log).extracting(Transition::state).containsExactly("PROCESSING", "SUCCEED");
                assertThat(log.get(0).worker()).contains("-" + next.pid() + "-");
            } finally {
                nodes.forEach(ServerProcess::kill);
            }
        }
    }

    @Test
    void anApiNodeStoppedWithARequestInFlightAnswersItTakesNoNewConnectionAndExitsZero() throws Exception {
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            Map<String, String> env = env(pg, s3, "preview?steps=10&step_delay=300ms&slots=1");
            List<ServerProcess> nodes = new ArrayList<>();
            try {
                ServerProcess apiNode = start(nodes, "api", "api", env);
                String url = apiNode.awaitReady();
                start(nodes, "worker", "worker", env).awaitReady();

                // the OpenAI-compatible door holds its request open until the image is made (about 3 s)
                HttpClient client = HttpClient.newHttpClient();
                CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(HttpRequest.newBuilder(URI.create(url
                                + "/v1/images/generations")).header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"answered while stopping\", \"size\": \"256x256\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                awaitSomethingProcessing(pg);

                apiNode.terminate();
                assertThat(awaitRefused(url)).as("new connections are refused while the request in flight is answered").isTrue();
                assertThat(inFlight).isNotDone();
                HttpResponse<String> answer = inFlight.get(30, TimeUnit.SECONDS);
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                assertThat(JSON.readTree(answer.body()).at("/data/0").isObject()).as(answer.body()).isTrue();
                assertThat(apiNode.awaitExit(Duration.ofSeconds(20))).as("exit code of a graceful stop").isZero();
            } finally {
                nodes.forEach(ServerProcess::kill);
            }
        }
    }

    private static Map<String, String> env(LocalPostgres pg, LocalS3 s3, String engines) {
        Map<String, String> env = new HashMap<>(s3.env());
        env.put("QWEN_IMAGE_DB_URL", pg.url());
        env.put("QWEN_IMAGE_DB_POOL", "4");
        env.put("QWEN_IMAGE_API_KEYS", KEY);
        env.put("QWEN_IMAGE_URL_SECRET", "drain-shared-secret-0123456789");
        env.put("QWEN_IMAGE_LEASE", "60s");
        env.put("QWEN_IMAGE_NSFW", "off");
        env.put("QWEN_IMAGE_ENGINES", engines);
        return env;
    }

    private static Map<String, String> with(Map<String, String> env, String name, String value) {
        Map<String, String> e = new HashMap<>(env);
        e.put(name, value);
        return e;
    }

    private ServerProcess start(List<ServerProcess> nodes, String name, String role, Map<String, String> env) {
        ServerProcess p = ServerProcess.start(dir.resolve(name), with(env, "QWEN_IMAGE_ROLE", role));
        nodes.add(p);
        return p;
    }

    /** Until the task runs and has made a step, so that it is really mid-task. */
    private static void awaitProgress(Api api, String id) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode t = api.result(id).json().get("task");
            if (t.get("status").asText().equals("TASK_STATUS_PROCESSING") && t.get("progress_percent").asInt() > 0) {
                return;
            }
            Api.sleep(20);
        }
        throw new AssertionError("task " + id + " made no progress within 30 s");
    }

    /** Polls a node's /readyz until it answers {@code status} (or the node is gone); answers the last status seen. */
    private static int awaitReadiness(String url, int status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int last = -1;
        while (System.nanoTime() < deadline && last != status) {
            try {
                last = Api.fetch(url + "/readyz").statusCode();
            } catch (RuntimeException e) {
                return last; // refused: the node stopped before its readiness was seen
            }
            Api.sleep(10);
        }
        return last;
    }

    /** Whether a new connection to {@code url} is refused within 5 s. */
    private static boolean awaitRefused(String url) {
        URI uri = URI.create(url);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()), 500);
            } catch (IOException e) {
                return true;
            }
            Api.sleep(10);
        }
        return false;
    }

    private static void awaitSomethingProcessing(LocalPostgres pg) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM tasks WHERE state = 'PROCESSING' AND progress > 0")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return;
                }
            }
            Api.sleep(20);
        }
        throw new AssertionError("no task made progress within 30 s");
    }

    /** One change of a task's state: the new state, the lease owner then (a worker id: host-pid-random), and when. */
    record Transition(String state, String worker, Instant at) {
    }

    /** A trigger of the test's own logs every change of a task's state, with the database's clock. */
    private static void logTransitions(LocalPostgres pg) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE drain_log (n BIGSERIAL PRIMARY KEY, task_id TEXT NOT NULL, state TEXT NOT NULL, "
                    + "worker TEXT, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
            st.execute("""
                    CREATE FUNCTION drain_log_state() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.state IS DISTINCT FROM OLD.state THEN
                            INSERT INTO drain_log (task_id, state, worker) VALUES (NEW.id, NEW.state, COALESCE(NEW.lease_owner, OLD.lease_owner));
                        END IF;
                        RETURN NEW;
                    END $$""");
            st.execute("CREATE TRIGGER drain_log_state AFTER UPDATE OF state ON tasks FOR EACH ROW EXECUTE FUNCTION drain_log_state()");
        }
    }

    private static List<Transition> transitions(LocalPostgres pg, String id) throws Exception {
        List<Transition> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(pg.url());
             var ps = c.prepareStatement("SELECT state, worker, at FROM drain_log WHERE task_id = ? ORDER BY n")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Transition(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant()));
                }
            }
        }
        return out;
    }

    private static int attempts(LocalPostgres pg, String id) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url());
             var ps = c.prepareStatement("SELECT attempts FROM tasks WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
