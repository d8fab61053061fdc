package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./qwen-image} launcher on a machine whose only JDK is too old: one line that says what
 * it found and what to do. The machine is made so in a private mount namespace (Linux, root): the
 * usual JDK folders are covered by empty ones and JAVA_HOME points at a JDK 17.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "qwen-image").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void aJdkThatIsTooOldIsOneLineSayingWhichItFound() throws Exception {
        assumeTrue(run(List.of("unshare", "-m", "true")).code() == 0, "needs unshare -m (Linux, as root)");
        Path jdk = fakeJdk17();
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path home = Files.createDirectories(dir.resolve("home"));
        StringBuilder script = new StringBuilder();
        for (String folder : List.of("/usr/lib/jvm", "/usr/java", "/usr/local/java", "/opt")) {
            if (Files.isDirectory(Path.of(folder))) {
                script.append("mount --bind ").append(empty).append(' ').append(folder).append(" && ");
            }
        }
        script.append("exec env -i PATH=").append(jdk.resolve("bin")).append(":/bin:/usr/bin HOME=").append(home)
                .append(" JAVA_HOME=").append(jdk).append(" sh ").append(LAUNCHER).append(" version");

        Result r = run(List.of("unshare", "-m", "sh", "-c", script.toString()));

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).singleElement().isEqualTo("qwen-image: needs a JDK 21 or newer and found none "
                + "(JAVA_HOME is JDK 17 at " + jdk + ", java on PATH is JDK 17 at " + jdk.resolve("bin/java")
                + "; the usual install folders have none either): install one (e.g. Temurin 21 or 25) or set JAVA_HOME to it");
    }

    private Path fakeJdk17() throws IOException {
        Path jdk = Files.createDirectories(dir.resolve("jdk-17").resolve("bin")).getParent();
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"17.0.2\"\n");
        for (String tool : List.of("java", "javac")) {
            Path p = Files.writeString(jdk.resolve("bin").resolve(tool), "#!/bin/sh\necho 'openjdk version \"17.0.2\"' >&2\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return jdk;
    }

    record Result(int code, String out, String err) {
    }

    private Result run(List<String> command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(new ArrayList<>(command)).start();
        } catch (IOException e) {
            return new Result(-1, "", e.getMessage());
        }
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not end: " + command);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
