package dev.qwenimage.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.task.sqlite.SqliteTaskStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JanitorTest {
    @TempDir
    Path dir;

    @Test
    void finishedTasksAndTheirImagesAreRemovedAfterTheRetentionPeriod() {
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        try (TaskStore store = SqliteTaskStore.open(dir.resolve("t.db"))) {
            LocalBlobStore blobs = new LocalBlobStore(dir.resolve("images"), new UrlSigner(new byte[32], clock));
            Janitor janitor = new Janitor(store, blobs, clock, Duration.ofHours(24));
            String id = "0f8fad5b-d9cb-469f-a165-70867728950e";
            store.insert(new NewTask(id, "o", new TaskSpec("p", "", 256, 256, false, 1, OptionalInt.empty()), 3, clock.instant()));
            store.claim("w", "preview", clock.instant(), Duration.ofSeconds(30));
            blobs.put(id + ".jpeg", new byte[] {1, 2, 3}, "image/jpeg");
            store.succeed(id, "w", id + ".jpeg", 5, clock.instant());

            clock.advance(Duration.ofHours(23));
            janitor.run();
            assertThat(store.find(id)).isPresent();
            assertThat(blobs.open(id + ".jpeg")).isPresent();

            clock.advance(Duration.ofHours(2));
            janitor.run();
            assertThat(store.find(id)).isEmpty();
            assertThat(blobs.open(id + ".jpeg")).isEmpty();
        }
    }
}
