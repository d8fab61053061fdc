package dev.qwenimage.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;

/**
 * A schema of its own on the benchmarks' PostgreSQL ({@code --pg}, the local server by default),
 * so that a run never touches another's tables; dropped at the end of the run.
 */
record BenchSchema(String base, String name) {
    static BenchSchema fresh(Map<String, String> opts) {
        return new BenchSchema(opts.getOrDefault("pg", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"),
                "qwen_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10));
    }

    /** The JDBC URL that works in this schema (created by the store's migrations). */
    String url() {
        return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + name;
    }

    void drop() throws Exception {
        try (Connection c = DriverManager.getConnection(base); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }
}
