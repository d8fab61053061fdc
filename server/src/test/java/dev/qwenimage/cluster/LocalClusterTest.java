package dev.qwenimage.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.Repository;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local scale-out recipe ({@code ./qwen-image cluster up|status|down}, the script
 * deploy/local-cluster/cluster.sh) as a user runs it: S3Proxy from its Maven Central jar, 2 api and
 * 2 worker processes of the server on the local PostgreSQL (a fresh schema here). The launcher only
 * finds the JDK and the jars; this test hands the script the same JDK and the test's classpath.
 */
class LocalClusterTest {
    private static final Path SCRIPT = Repository.root().resolve("deploy/local-cluster/cluster.sh");
    private static final Path S3PROXY_JAR = Path.of("target", "local-cluster", "s3proxy.jar").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void upStartsTwoApiAndTwoWorkerNodesThatShareTheQueueAndTheBucketAndDownDrainsThemAll() throws Exception {
        try (LocalPostgres pg = LocalPostgres.freshSchema()) {
            int base = freeBasePort();
            Map<String, String> env = Map.of("QWEN_IMAGE_DB_URL", pg.url());
            try {
                Run up = cluster(env, "up", "--dir", dir.toString(), "--base-port", Integer.toString(base));
                assertThat(up.exit()).as(up.output()).isZero();
                assertThat(up.output()).contains("qwen-image cluster: up in");
                for (String node : List.of("api-1", "api-2", "worker-1", "worker-2")) {
                    assertThat(up.output()).as(up.output()).containsPattern("(?m)^" + node + " +\\w+ +\\d+ +\\d+ +200 ");
                }

                Properties state = state();
                Api api1 = new Api("http://127.0.0.1:" + base, state.getProperty("API_KEY"));
                Api api2 = new Api("http://127.0.0.1:" + (base + 1), state.getProperty("API_KEY"));
                String id = api1.submitOk("{\"prompt\": \"a lighthouse on a laptop cluster\", \"size\": \"512*512\"}");
                JsonNode done = api2.awaitFinished(id, Duration.ofSeconds(60));
                assertThat(done.at("/task/status").asText()).as(done.toString()).isEqualTo("TASK_STATUS_SUCCEED");
                String url = done.at("/images/0/image_url").asText();
                assertThat(url).as("a presigned link to the cluster's S3Proxy").startsWith("http://127.0.0.1:" + (base + 4) + "/qwen-images/");
                HttpResponse<byte[]> image = Api.fetch(url);
                assertThat(image.statusCode()).isEqualTo(200);
                assertThat(image.body()).startsWith((byte) 0xFF, (byte) 0xD8); // a JPEG

                Run again = cluster(env, "up", "--dir", dir.toString());
                assertThat(again.exit()).isZero();
                assertThat(again.output()).contains("already up");

                Run status = cluster(env, "status", "--dir", dir.toString());
                assertThat(status.exit()).as(status.output()).isZero();
                assertThat(status.output()).containsPattern("(?m)^worker-2 +worker +" + (base + 3) + " +\\d+ +200 ")
                        .contains("queue: 0.0 queued, 0.0 processing");

                Run down = cluster(env, "down", "--dir", dir.toString());
                assertThat(down.exit()).as(down.output()).isZero();
                for (String node : List.of("api-1", "api-2", "worker-1", "worker-2")) {
                    assertThat(down.output()).as("%s drained and exited", node).containsPattern(node + ": stopped in \\d+ ms");
                    assertThat(Files.exists(dir.resolve(node + ".pid"))).isFalse();
                }
                assertThat(down.output()).contains("s3: stopped");
                assertThat(cluster(env, "status", "--dir", dir.toString()).output()).doesNotContainPattern(" \\d+ +200 ");
                assertThat(cluster(env, "down", "--dir", dir.toString()).exit()).as("down twice").isZero();
            } finally {
                cluster(env, "down", "--dir", dir.toString());
            }
        }
    }

    @Test
    void upWithoutAReachablePostgresqlStopsWithAMessageThatSaysWhatToDo() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Map<String, String> env = Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://127.0.0.1:" + closed + "/postgres");
        try {
            Run up = cluster(env, "up", "--dir", dir.toString(), "--base-port", Integer.toString(freeBasePort()));
            assertThat(up.exit()).as(up.output()).isNotZero();
            assertThat(up.output()).contains("is PostgreSQL running and reachable at jdbc:postgresql://127.0.0.1:" + closed)
                    .contains("QWEN_IMAGE_DB_URL");
            for (String node : List.of("s3", "api-1", "api-2", "worker-1", "worker-2")) {
                assertThat(Files.exists(dir.resolve(node + ".pid"))).as("nothing is left running: %s", node).isFalse();
            }
        } finally {
            cluster(env, "down", "--dir", dir.toString());
        }
    }

    private record Run(int exit, String output) {
    }

    private Run cluster(Map<String, String> env, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(List.of("sh", SCRIPT.toString())));
        pb.command().addAll(List.of(args));
        pb.environment().keySet().removeIf(k -> k.startsWith("QWEN_IMAGE_"));
        pb.environment().putAll(env);
        pb.environment().put("QWEN_IMAGE_JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED");
        pb.environment().put("CLUSTER_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("CLUSTER_SERVER", "-cp " + System.getProperty("java.class.path") + " dev.qwenimage.cli.Main");
        pb.environment().put("CLUSTER_S3PROXY_JAR", S3PROXY_JAR.toString());
        pb.redirectErrorStream(true);
        Path out = Files.createTempFile(dir.getParent(), "cluster-", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("cluster " + String.join(" ", args) + " did not end within 180 s: " + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    /** The credentials `up` generated and saved. */
    private Properties state() {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(dir.resolve("cluster.env"))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** A port with the next four free too (the cluster takes five in a row). */
    private static int freeBasePort() {
        for (int tries = 0; tries < 200; tries++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            boolean free = true;
            for (int i = 0; i < 5 && free; i++) {
                try (ServerSocket s = new ServerSocket(base + i)) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new AssertionError("no five free ports in a row");
    }
}
