package dev.qwenimage.task.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.task.StoreException;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single writer tells a unit's own mistake from the database failing. */
class SqliteWriterTest {
    @TempDir
    Path dir;

    @Test
    void aUnitsOwnDriverErrorFailsItAloneAndLeavesTheStoreHealthy() throws Exception {
        String url = "jdbc:sqlite:" + dir.resolve("w.db");
        try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
            st.execute("CREATE TABLE t (x INTEGER)");
        }
        WriteHealth health = new WriteHealth("task store", Clock.systemUTC());
        SqliteWriter writer = new SqliteWriter(() -> DriverManager.getConnection(url), health, () -> { });
        try {
            List<CompletableFuture<Object>> results = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int n = i;
                results.add(CompletableFuture.supplyAsync(() -> writer.execute(s -> {
                    if (n % 10 == 3) {
                        var closed = s.connection().prepareStatement("SELECT 1");
                        closed.close();
                        closed.executeQuery(); // the unit's own bug: a driver error, on a connection that is fine
                    }
                    return s.prepare("INSERT INTO t VALUES (?)").executeUpdate() >= 0 ? n : null;
                })));
            }
            int failed = 0;
            for (CompletableFuture<Object> r : results) {
                try {
                    r.join();
                } catch (java.util.concurrent.CompletionException e) {
                    assertThat(e.getCause()).isInstanceOf(StoreException.class).hasCauseInstanceOf(java.sql.SQLException.class);
                    assertThat(((StoreException) e.getCause()).unavailable()).as("a bug, not an outage").isFalse();
                    failed++;
                }
            }
            assertThat(failed).isEqualTo(5);
            assertThat(health.ok()).isTrue();
            assertThat(health.failures()).isZero();
            try (var c = DriverManager.getConnection(url); var st = c.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getInt(1)).as("every other unit committed").isEqualTo(45);
            }
        } finally {
            writer.close();
        }
    }
}
