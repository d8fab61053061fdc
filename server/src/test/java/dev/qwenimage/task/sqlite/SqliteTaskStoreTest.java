package dev.qwenimage.task.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.TaskStoreContract;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.support.SmallDisk;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.StoreException;
import dev.qwenimage.task.TaskSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract against the embedded SQLite store, plus what is particular to a file. */
class SqliteTaskStoreTest extends TaskStoreContract {
    @TempDir
    Path dir;

    @Override
    protected TaskStore newStore() {
        return SqliteTaskStore.open(dir.resolve("tasks-" + UUID.randomUUID() + ".db"));
    }

    @Test
    void tasksSurviveClosingAndReopeningTheFile() {
        Path file = dir.resolve("reopen.db");
        String id;
        try (TaskStore s = SqliteTaskStore.open(file)) {
            id = UUID.randomUUID().toString();
            s.insert(new dev.qwenimage.task.NewTask(id, "a",
                    new dev.qwenimage.task.TaskSpec("p", "", 256, 256, true, 7, java.util.OptionalInt.empty()), 3, clock.instant()));
        }
        try (TaskStore s = SqliteTaskStore.open(file)) {
            assertThat(s.find(id)).isPresent();
            assertThat(s.find(id).get().spec().watermark()).isTrue();
        }
    }

    @Test
    void writesWorkAgainOnceAFullDiskHasSpaceAgain() {
        try (SmallDisk disk = SmallDisk.mount(4); TaskStore s = SqliteTaskStore.open(disk.root().resolve("tasks.db"))) {
            String before = insertInto(s);
            disk.fill();
            // pages free inside the file may take a few more tasks; the disk runs out soon after
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100_000; i++) {
                    insertInto(s);
                }
            }).isInstanceOf(StoreException.class).hasMessageContaining("full");

            disk.free();
            String after = insertInto(s);
            assertThat(s.find(after)).isPresent();
            assertThat(s.find(before)).isPresent();
            assertThat(s.claim("w1", "preview", clock.instant(), LEASE)).isPresent();
        }
    }

    @Test
    void writesWorkAgainOnceAnImmutableDatabaseIsWritableAgain() throws Exception {
        Path file = dir.resolve("immutable.db");
        try (TaskStore s = SqliteTaskStore.open(file)) {
            insertInto(s);
            Path wal = dir.resolve("immutable.db-wal");
            assertThat(wal).exists();
            SmallDisk.immutable(wal, true);
            SmallDisk.immutable(file, true);
            try {
                assertThatThrownBy(() -> insertInto(s)).isInstanceOf(StoreException.class);
                assertThatThrownBy(() -> insertInto(s)).isInstanceOf(StoreException.class);
            } finally {
                SmallDisk.immutable(wal, false);
                SmallDisk.immutable(file, false);
            }
            String after = insertInto(s);
            assertThat(s.find(after)).isPresent();
        }
        assertThat(Files.size(file)).isPositive();
    }

    private String insertInto(TaskStore s) {
        String id = UUID.randomUUID().toString();
        s.insert(new NewTask(id, "a", new TaskSpec("a cat " + "x".repeat(500), "", 256, 256, false, 7, OptionalInt.empty()),
                3, clock.instant()));
        return id;
    }
}
