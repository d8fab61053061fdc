package dev.qwenimage.config;

import java.util.Locale;

/**
 * What one process of the service does. {@code ALL} (the default) is the whole service in one
 * process; at scale, stateless {@code API} nodes take requests and {@code WORKER} nodes hold the
 * engines, all over one shared PostgreSQL store and S3-compatible bucket.
 */
public enum Role {
    ALL, API, WORKER;

    public boolean servesApi() {
        return this != WORKER;
    }

    public boolean runsWorkers() {
        return this != API;
    }

    public static Role parse(String text) {
        return valueOf(text.strip().toUpperCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
