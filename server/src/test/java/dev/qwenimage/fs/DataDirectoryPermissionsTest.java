package dev.qwenimage.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nobody but the service's own user can read its secrets or its tasks: with the URL secret anyone
 * could forge image links and derive every key's webhook secret.
 */
class DataDirectoryPermissionsTest {
    private static final List<String> SECRET_FILES = List.of("url-secret", "api-key", "tasks.db", "tasks.db-wal",
            "tasks.db-shm", ".lock");

    @Test
    void aNewDataDirectoryAndEverySecretInItAreOwnerOnly(@TempDir Path parent) throws IOException {
        Path data = parent.resolve("data");
        try (QwenImageServer server = start(data)) {
            assertThat(server.apiKeys().orElseThrow().generatedKey()).isPresent();
            assertThat(mode(data)).isEqualTo("rwx------");
            for (String name : SECRET_FILES) {
                assertThat(data.resolve(name)).as(name).exists();
                assertThat(mode(data.resolve(name))).as(name).isEqualTo("rw-------");
            }
        }
    }

    @Test
    void filesLeftReadableByAnEarlierVersionAreMadeOwnerOnlyAtStart(@TempDir Path parent) throws IOException {
        Path data = parent.resolve("data");
        try (QwenImageServer first = start(data)) {
            assertThat(first.port()).isPositive();
        }
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String name : SECRET_FILES) {
            if (Files.exists(data.resolve(name))) {
                Files.setPosixFilePermissions(data.resolve(name), PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
        try (QwenImageServer second = start(data)) {
            assertThat(mode(data)).isEqualTo("rwx------");
            for (String name : SECRET_FILES) {
                assertThat(mode(data.resolve(name))).as(name).isEqualTo("rw-------");
            }
        }
    }

    private static QwenImageServer start(Path data) {
        return QwenImageServer.start(ServerConfig.of(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", data.toString(), "QWEN_IMAGE_NSFW", "off")));
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
