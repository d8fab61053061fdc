package dev.qwenimage.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL server that runs beside the tests (127.0.0.1:5432, trust auth, database
 * {@code test}; override with QWEN_IMAGE_TEST_PG_URL). Each user gets a schema of its own, dropped
 * afterwards. Where no server answers, tests skip with a loud message, except under CI=true,
 * where a missing PostgreSQL is a failure.
 */
public final class LocalPostgres implements AutoCloseable {
    private static final String BASE = System.getenv().getOrDefault("QWEN_IMAGE_TEST_PG_URL",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

    private final String schema;

    private LocalPostgres(String schema) {
        this.schema = schema;
    }

    /** A fresh schema name (created by the store's migrations on first use). */
    public static LocalPostgres freshSchema() {
        requireServer();
        return new LocalPostgres("qwen_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    }

    /** The JDBC URL of this schema. */
    public String url() {
        return BASE + (BASE.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    public String schema() {
        return schema;
    }

    public static void requireServer() {
        try (Connection c = DriverManager.getConnection(BASE)) {
            c.isValid(2);
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + BASE + " (" + e.getMessage() + ")";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + ": CI must run the PostgreSQL tests", e);
            }
            System.err.println("\n!!! SKIPPING PostgreSQL tests: " + message + " !!!\n");
            Assumptions.abort(message);
        }
    }

    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(BASE); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            System.err.println("could not drop test schema " + schema + ": " + e.getMessage());
        }
    }
}
