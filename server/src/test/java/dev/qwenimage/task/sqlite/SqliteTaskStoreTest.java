package dev.qwenimage.task.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.TaskStoreContract;
import java.nio.file.Path;
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
}
