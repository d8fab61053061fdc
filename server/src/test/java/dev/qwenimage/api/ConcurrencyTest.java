package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many clients at once: every submit is stored and served exactly once. */
class ConcurrencyTest {
    @TempDir
    Path dataDir;

    @Test
    void twoHundredSubmitsFromSixteenThreadsAllSucceedWithUniqueIds() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEPS", "4"));
             ExecutorService pool = Executors.newFixedThreadPool(16)) {
            Api api = server.api();
            List<Future<String>> futures = IntStream.range(0, 200)
                    .mapToObj(i -> pool.submit(() -> api.submitOk(
                            "{\"prompt\": \"concurrent task " + i + "\", \"size\": \"256*256\"}")))
                    .toList();
            Set<String> ids = new HashSet<>();
            for (Future<String> f : futures) {
                ids.add(f.get());
            }
            assertThat(ids).hasSize(200);

            for (String id : ids) {
                assertThat(api.awaitFinished(id, Duration.ofSeconds(120)).at("/task/status").asText())
                        .isEqualTo("TASK_STATUS_SUCCEED");
            }
            assertThat(((LocalBlobStore) server.server().blobs()).count()).isEqualTo(200);
        }
    }
}
