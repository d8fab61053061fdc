package dev.qwenimage.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/** The checkout the tests run in (Maven runs them in server/): its root holds the wrapper and deploy/. */
public final class Repository {
    private Repository() {
    }

    public static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.exists(p.resolve("mvnw")) && Files.isDirectory(p.resolve("deploy")))) {
            p = p.getParent();
        }
        assertThat(p).as("the repository root (with mvnw and deploy/) above " + Path.of("").toAbsolutePath()).isNotNull();
        return p;
    }
}
