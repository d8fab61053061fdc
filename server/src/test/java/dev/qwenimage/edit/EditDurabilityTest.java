package dev.qwenimage.edit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.preview.PreviewEngine;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edit's input image is taken once, at submit, and stored beside the task: a worker that dies
 * mid-run, or a worker on another machine, runs the edit from the stored copy and never fetches
 * the client's URL again.
 */
class EditDurabilityTest {
    @TempDir
    Path dataDir;

    /** A local image host that counts its downloads. */
    private static HttpServer imageHost(byte[] image, AtomicInteger downloads) throws Exception {
        HttpServer host = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        host.createContext("/photo.png", exchange -> {
            downloads.incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, image.length);
            exchange.getResponseBody().write(image);
            exchange.close();
        });
        host.start();
        return host;
    }

    @Test
    void editsKilledMidRunAreFinishedAfterARestartFromTheStoredInputWithoutFetchingItAgain() throws Exception {
        AtomicInteger downloads = new AtomicInteger();
        HttpServer host = imageHost(Pictures.png(1600, 900), downloads);
        String url = "http://127.0.0.1:" + host.getAddress().getPort() + "/photo.png";
        Map<String, String> env = Map.of("QWEN_IMAGE_API_KEYS", TestServer.KEY, "QWEN_IMAGE_WORKERS", "2",
                "QWEN_IMAGE_PREVIEW_STEP_DELAY", "40ms", "QWEN_IMAGE_OUTBOUND_ALLOW", "127.0.0.1");
        List<String> ids = new ArrayList<>();
        try {
            try (ServerProcess first = ServerProcess.start(dataDir, env)) {
                Api api = new Api(first.awaitReady(), TestServer.KEY);
                for (int i = 0; i < 8; i++) {
                    ids.add(api.editOk("{\"prompt\": \"make it night " + i + "\", \"image\": \"" + url + "\"}"));
                }
                api.awaitSomeProcessing(ids);
                first.kill();
            }
        } finally {
            host.stop(0); // from here on, fetching the URL again could not work
        }
        assertThat(downloads.get()).as("one fetch per submit").isEqualTo(8);

        try (ServerProcess second = ServerProcess.start(dataDir, env)) {
            Api api = new Api(second.awaitReady(), TestServer.KEY);
            for (String id : ids) {
                JsonNode result = api.awaitFinished(id, Duration.ofSeconds(120));
                assertThat(result.at("/task/status").asText()).as("edit %s: %s", id, result).isEqualTo("TASK_STATUS_SUCCEED");
                assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
                BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
                assertThat(out.getWidth()).isEqualTo(1360);
                assertThat(out.getHeight()).isEqualTo(768);
            }
        }
        // one output per edit; the stored inputs went with their tasks' ends (only a re-run needs one)
        try (Stream<Path> files = Files.walk(dataDir.resolve("images"))) {
            List<String> names = files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList();
            assertThat(names).filteredOn(n -> n.endsWith(".jpeg")).hasSize(8);
            assertThat(names).filteredOn(n -> n.endsWith(".input.png")).isEmpty();
        }
    }

    @Test
    void anApiNodeStoresTheInputInTheBucketAndAWorkerNodeEditsFromIt() throws Exception {
        LocalPostgres.requireServer();
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            Map<String, String> common = new HashMap<>(s3.env("edits/"));
            common.putAll(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                    "QWEN_IMAGE_NSFW", "off", "QWEN_IMAGE_DB_URL", pg.url(), "QWEN_IMAGE_DB_POOL", "4",
                    "QWEN_IMAGE_URL_SECRET", "edit-nodes-shared-secret-0123456789"));
            Map<String, String> apiEnv = new HashMap<>(common);
            apiEnv.putAll(Map.of("QWEN_IMAGE_ROLE", "api", "QWEN_IMAGE_DATA_DIR", dataDir.resolve("api").toString()));
            Map<String, String> workerEnv = new HashMap<>(common);
            workerEnv.putAll(Map.of("QWEN_IMAGE_ROLE", "worker", "QWEN_IMAGE_DATA_DIR", dataDir.resolve("worker").toString()));
            try (QwenImageServer apiNode = QwenImageServer.start(ServerConfig.of(apiEnv), Clock.systemUTC(), List.of())) {
                Api api = new Api(apiNode.localUrl(), TestServer.KEY);
                // no worker has reported yet: the edit is taken and waits, its input already in the bucket
                String id = api.editOk("{\"prompt\": \"make it snow\", \"image\": \"" + Pictures.base64(Pictures.jpeg(900, 1600))
                        + "\", \"output_format\": \"png\"}");
                assertThat(objectNames(s3)).contains(id + ".input.png");

                try (QwenImageServer worker = QwenImageServer.start(ServerConfig.of(workerEnv), Clock.systemUTC(),
                        List.of(new QwenImageServer.EngineSetup(new PreviewEngine(4, Duration.ZERO), 1, Duration.ZERO)))) {
                    JsonNode result = api.awaitFinished(id, Duration.ofSeconds(60));

                    assertThat(result.at("/task/status").asText()).as("%s", result).isEqualTo("TASK_STATUS_SUCCEED");
                    BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
                    assertThat(out.getWidth()).isEqualTo(768);
                    assertThat(out.getHeight()).isEqualTo(1360);
                    assertThat(objectNames(s3)).contains(id + ".png")
                            .as("the input goes once the edit has ended").doesNotContain(id + ".input.png");
                }
            }
        }
    }

    private static List<String> objectNames(LocalS3 s3) throws java.io.IOException {
        try (Stream<Path> objects = Files.walk(s3.directory())) {
            return objects.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList();
        }
    }

}
