package dev.qwenimage.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.SmallDisk;
import dev.qwenimage.support.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults heal without a restart: a full disk, an image folder that refuses writes. While writes
 * fail the node says so (/readyz 503 naming the failing check, /healthz, /metrics), submits get a
 * 503 a client can retry instead of a 500, and work pauses instead of burning attempts; once the
 * fault clears, everything works again by itself within seconds.
 */
class FaultRecoveryTest {
    private static final String TASK = "{\"prompt\": \"a lighthouse\", \"size\": \"512*512\"}";
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Test
    void aFullDiskTakesTheNodeOutAndEverythingWorksAgainOnceSpaceIsFreed() throws IOException {
        try (SmallDisk disk = SmallDisk.mount(24);
             TestServer server = TestServer.start(disk.root().resolve("data"), Map.of("QWEN_IMAGE_MIN_FREE_DISK", "0"))) {
            Api api = server.api();
            api.awaitStatus(api.submitOk(TASK), "TASK_STATUS_SUCCEED"::equals, PATIENCE);
            assertThat(api.get("/readyz").status()).isEqualTo(200);

            disk.fill();
            Api.Response refused = null;
            for (int i = 0; i < 2000 && refused == null; i++) {
                Api.Response r = api.submit(TASK);
                if (r.status() != 200) {
                    refused = r;
                }
            }
            assertThat(refused).as("a submit fails once the disk is full").isNotNull();
            assertThat(refused.status()).as(refused.body()).isEqualTo(503);
            assertThat(refused.reason()).isEqualTo("STORE_UNAVAILABLE");
            assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
            Api.Response notReady = api.awaitGet("/readyz", 503, PATIENCE);
            assertThat(notReady.json().at("/checks/store_writes").asText()).startsWith("failing");
            assertThat(api.get("/healthz").json().at("/writes/task_store/ok").asBoolean()).isFalse();
            assertThat(api.get("/metrics").body()).contains("qwen_image_writes_ok{target=\"task_store\"} 0.0");
            // the image store's probe (or a task's image) finds the disk full too, within its 15 s interval
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (api.get("/readyz").json().at("/checks/image_writes").asText().equals("ok") && System.nanoTime() < deadline) {
                Api.sleep(200);
            }
            assertThat(api.get("/readyz").json().at("/checks/image_writes").asText()).startsWith("failing");
            assertThat(uploadLeftovers(disk.root())).as("failed image writes leave no temporary files").isEmpty();

            disk.free();
            String after = api.submitOk(TASK);
            api.awaitGet("/readyz", 200, PATIENCE);
            api.awaitStatus(after, "TASK_STATUS_SUCCEED"::equals, PATIENCE);
            assertThat(api.get("/healthz").json().at("/writes/task_store/ok").asBoolean()).isTrue();
            assertThat(api.get("/metrics").body()).contains("qwen_image_writes_ok{target=\"task_store\"} 1.0");
        }
    }

    @Test
    void anImageFolderThatRefusesWritesPausesWorkUntilItTakesWritesAgain(@TempDir Path dir) throws IOException {
        try (TestServer server = TestServer.start(dir, Map.of("QWEN_IMAGE_MAX_ATTEMPTS", "2"))) {
            Api api = server.api();
            Path images = dir.resolve("images");
            List<Path> folders = folders(images);
            folders.forEach(f -> SmallDisk.immutable(f, true));
            String id;
            try {
                id = api.submitOk(TASK);
                Api.Response notReady = api.awaitGet("/readyz", 503, PATIENCE);
                assertThat(notReady.json().at("/checks/image_writes").asText()).startsWith("failing");
                assertThat(api.get("/healthz").json().at("/writes/image_store/ok").asBoolean()).isFalse();
                // the slots wait for the image store rather than spend the task's last attempt
                Api.sleep(3000);
                JsonNode waiting = api.result(id).json();
                assertThat(waiting.at("/task/status").asText()).isEqualTo("TASK_STATUS_QUEUED");
            } finally {
                folders.forEach(f -> SmallDisk.immutable(f, false));
            }
            api.awaitGet("/readyz", 200, PATIENCE);
            api.awaitStatus(id, "TASK_STATUS_SUCCEED"::equals, PATIENCE);
            assertThat(uploadLeftovers(dir)).isEmpty();
        }
    }

    @Test
    void belowTheFreeSpaceMinimumSubmitsAreRefusedWith503AndTheNodeIsNotReady(@TempDir Path dir) {
        try (TestServer server = TestServer.start(dir, Map.of("QWEN_IMAGE_MIN_FREE_DISK", "1000000TB"))) {
            Api api = server.api();
            Api.Response r = api.submit(TASK);
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.reason()).isEqualTo("LOW_DISK_SPACE");
            assertThat(r.json().get("message").asText()).contains("free").contains("QWEN_IMAGE_MIN_FREE_DISK");
            assertThat(r.raw().headers().firstValue("Retry-After")).hasValue("60");
            Api.Response ready = api.get("/readyz");
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.json().at("/checks/disk").asText()).startsWith("low:");
            JsonNode disk = api.get("/healthz").json().get("disk");
            assertThat(disk).isNotEmpty();
            assertThat(disk.get(0).get("ok").asBoolean()).isFalse();
            assertThat(disk.get(0).get("free_bytes").asLong()).isPositive();
            assertThat(api.get("/metrics").body()).contains("qwen_image_disk_free_bytes");
        }
    }


    private static List<Path> folders(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isDirectory).toList();
        }
    }

    private static List<Path> uploadLeftovers(Path root) throws IOException {
        Predicate<Path> upload = p -> p.getFileName().toString().startsWith(".upload-");
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(upload).toList();
        }
    }
}
