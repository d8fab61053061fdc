package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failures {@link StartupFailuresTest} cannot cause for real where the tests run as root
 * (root may bind port 80 and write anywhere), read from the exceptions the JDK raises for them.
 */
class StartupFailureTest {
    @TempDir
    Path dataDir;

    @Test
    void aPortThatNeedsRootSaysSoAndNamesQwenImagePort() {
        ServerConfig config = ServerConfig.of(Map.of("QWEN_IMAGE_PORT", "80"));
        IOException jetty = new IOException("Failed to bind to /0.0.0.0:80", new BindException("Permission denied"));

        StartupFailure f = StartupFailure.explain(new RuntimeException("Port already in use", jetty), config);

        assertThat(f.message()).isEqualTo("not permitted to listen on port 80 (ports below 1024 need root or "
                + "CAP_NET_BIND_SERVICE); set QWEN_IMAGE_PORT to a port from 1024 up");
        assertThat(f.exitCode()).isEqualTo(StartupFailure.NOT_STARTED);
    }

    @Test
    void aDataDirectoryThisUserCannotWriteSaysWhichFileAndNamesQwenImageDataDir() {
        ServerConfig config = ServerConfig.of(Map.of("QWEN_IMAGE_DATA_DIR", dataDir.toString()));
        String lock = dataDir.resolve(".lock").toString();

        StartupFailure f = StartupFailure.explain(new UncheckedIOException("cannot prepare data directory",
                new AccessDeniedException(lock)), config);

        assertThat(f.message()).isEqualTo("cannot write to the data directory " + dataDir + " (permission denied on " + lock
                + "); set QWEN_IMAGE_DATA_DIR to a directory this user can write, or fix its permissions");
    }

    @Test
    void anythingElseIsOneLineThatPointsAtDebug() {
        StartupFailure f = StartupFailure.explain(new ArithmeticException("/ by zero"), ServerConfig.of(Map.of()));

        assertThat(f.message()).isEqualTo("could not start: / by zero (run `qwen-image serve --debug` for the details)");
        assertThat(f.exitCode()).isEqualTo(1);
    }

    @Test
    void aPostgresqlFailureNeverShowsThePasswordInTheUrl() {
        ServerConfig config = ServerConfig.of(Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://qwen:s3cret-pw@db.invalid:5432/qwen"));
        java.sql.SQLException refused = new java.sql.SQLException("The connection attempt failed.", "08001",
                new java.net.UnknownHostException("qwen:s3cret-pw@db.invalid"));
        java.sql.SQLException login = new java.sql.SQLException(
                "FATAL: password authentication failed for user \"qwen\" at jdbc:postgresql://qwen:s3cret-pw@db.invalid/qwen", "28P01");

        for (java.sql.SQLException e : java.util.List.of(refused, login)) {
            StartupFailure f = StartupFailure.explain(new IllegalStateException("cannot open the store", e), config);
            assertThat(f.message()).contains("db.invalid").doesNotContain("s3cret-pw");
        }
    }
}
