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
import java.util.List;
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

    @Test
    void retentionGivesTheSpaceOfDeletedTasksBackToTheDisk() throws Exception {
        Path file = dir.resolve("compact.db");
        try (TaskStore s = SqliteTaskStore.open(file)) {
            List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 1500; i++) {
                ids.add(insertInto(s));
            }
            s.reclaimSpace();
            assertThat(autoVacuum(file)).as("a new database gives space back: auto_vacuum 2 = incremental").isEqualTo(2);
            long full = Files.size(file);
            ids.forEach(id -> s.cancel(id, clock.instant())); // QUEUED -> FAILED: finished, so retention may delete them
            int deleted = 0;
            TaskStore.Purged purged;
            do {
                purged = s.deleteFinishedBefore(clock.instant().plusSeconds(1), 500);
                deleted += purged.tasks();
            } while (purged.tasks() > 0);
            assertThat(deleted).isEqualTo(1500);
            s.reclaimSpace();
            assertThat(Files.size(file)).as("file size after deleting every task, was " + full).isLessThan(full / 4);
            assertThat(Files.size(dir.resolve("compact.db-wal"))).isZero();
            insertInto(s);
        }
    }

    @Test
    void aDatabaseFromAnEarlierVersionIsConvertedOnceToGiveSpaceBack() throws Exception {
        Path file = dir.resolve("old.db");
        // what earlier versions made: the same tables, in SQLite's default mode (no auto-vacuum)
        org.flywaydb.core.Flyway.configure().dataSource("jdbc:sqlite:" + file, null, null).locations("classpath:db/sqlite")
                .mixed(true).load().migrate();
        assertThat(autoVacuum(file)).isZero();
        try (TaskStore s = SqliteTaskStore.open(file)) {
            insertInto(s);
        }
        assertThat(autoVacuum(file)).as("2 = incremental").isEqualTo(2);
    }

    private static long autoVacuum(Path file) throws Exception {
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file); var st = c.createStatement();
             var rs = st.executeQuery("PRAGMA auto_vacuum")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void tasksFromBeforeUsageWasMeteredAreCountedOnceWhenTheDatabaseIsUpgraded() throws Exception {
        Path file = dir.resolve("before-usage.db");
        org.flywaydb.core.Flyway.configure().dataSource("jdbc:sqlite:" + file, null, null).locations("classpath:db/sqlite")
                .mixed(true).target("6").load().migrate();
        long hour = java.time.Instant.parse("2026-11-30T10:00:00Z").toEpochMilli();
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file); var st = c.createStatement()) {
            String columns = "INSERT INTO tasks (id, owner, state, prompt, width, height, watermark, seed, max_attempts, available_at, "
                    + "created_at, turn, finished_at, reason, engine_millis, nsfw_flagged) VALUES ";
            st.executeUpdate(columns + "('t1', 'alice', 'SUCCEED', 'p', 512, 512, 0, 1, 3, 0, " + hour + ", 1, " + (hour + 3_600_000)
                    + ", '', 2000, 1)");
            st.executeUpdate(columns + "('t2', 'alice', 'FAILED', 'p', 512, 512, 0, 1, 3, 0, " + (hour + 60_000) + ", 2, "
                    + (hour + 120_000) + ", 'cancelled', NULL, NULL)");
            st.executeUpdate(columns + "('t3', 'alice', 'QUEUED', 'p', 512, 512, 0, 1, 3, 0, " + (hour + 60_000) + ", 3, NULL, '', NULL, NULL)");
        }
        try (TaskStore s = SqliteTaskStore.open(file)) {
            var rows = s.usage(java.util.Optional.of("alice"), java.time.Instant.EPOCH, java.time.Instant.parse("2027-01-01T00:00:00Z"));
            assertThat(rows).hasSize(2);
            assertThat(rows.get(0).period().toEpochMilli()).isEqualTo(hour);
            assertThat(rows.get(0).submitted()).isEqualTo(3);
            assertThat(rows.get(0).cancelled()).isEqualTo(1);
            assertThat(rows.get(1).succeeded()).isEqualTo(1);
            assertThat(rows.get(1).images()).isEqualTo(1);
            assertThat(rows.get(1).pixels()).isEqualTo(512 * 512);
            assertThat(rows.get(1).engineMillis()).isEqualTo(2000);
            assertThat(rows.get(1).nsfwFlagged()).isEqualTo(1);
        }
        // opened again: nothing counted twice
        try (TaskStore s = SqliteTaskStore.open(file)) {
            assertThat(s.usage(java.util.Optional.of("alice"), java.time.Instant.EPOCH, java.time.Instant.parse("2027-01-01T00:00:00Z"))
                    .stream().mapToLong(dev.qwenimage.tenant.UsageRow::submitted).sum()).isEqualTo(3);
        }
    }
}
