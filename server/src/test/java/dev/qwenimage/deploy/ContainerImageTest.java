package dev.qwenimage.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.Setting;
import dev.qwenimage.config.SettingNames;
import dev.qwenimage.support.Repository;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image without a container engine (CI has none): the Dockerfile read as a list of
 * instructions and checked against the service's settings, and deploy/docker/entrypoint.sh and
 * healthcheck.sh run outside a container the way the image runs them.
 */
class ContainerImageTest {
    private static final Path ROOT = Repository.root();
    private static final Path ENTRYPOINT = ROOT.resolve("deploy/docker/entrypoint.sh");
    private static final Path HEALTHCHECK = ROOT.resolve("deploy/docker/healthcheck.sh");
    private static final Pattern SETTING_NAME = Pattern.compile("QWEN_IMAGE_[A-Z0-9_]+");

    /** One Dockerfile instruction: its keyword (upper case) and the rest of its (joined) line. */
    record Instruction(String keyword, String args) {
    }

    /** The instructions of one stage: its FROM and what follows up to the next FROM. */
    record Stage(String from, List<Instruction> instructions) {
        List<String> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
        }

        String one(String keyword) {
            List<String> all = all(keyword);
            assertThat(all).as(keyword + " in the stage FROM " + from).hasSize(1);
            return all.getFirst();
        }
    }

    @Test
    void theDockerfileBuildsTheJarThenRunsItAsNonRootWithTheServicesDefaults() throws IOException {
        List<Stage> stages = stages(Files.readString(ROOT.resolve("Dockerfile")));
        assertThat(stages).as("a build stage and a run stage").hasSize(2);
        Stage build = stages.get(0);
        Stage run = stages.get(1);

        assertThat(build.from()).isEqualTo("${BUILD_IMAGE} AS build");
        assertThat(run.from()).isEqualTo("${RUNTIME_IMAGE}");
        Map<String, String> globalArgs = globalArgs(Files.readString(ROOT.resolve("Dockerfile")));
        assertThat(globalArgs.get("BUILD_IMAGE")).matches("eclipse-temurin:21\\.\\d+\\.\\d+_\\d+-jdk-\\w+");
        assertThat(globalArgs.get("RUNTIME_IMAGE")).matches("eclipse-temurin:21\\.\\d+\\.\\d+_\\d+-jre-\\w+");
        assertThat(String.join("\n", build.all("RUN")))
                .contains("--mount=type=cache,target=/root/.m2")
                .contains("./mvnw -B -DskipTests -pl server -am package")
                .contains("cp server/target/qwen-image-server.jar /qwen-image-server.jar");
        // poms before sources, so the dependency layer survives a source change
        List<String> copies = build.all("COPY");
        assertThat(indexOf(copies, "server/pom.xml")).isLessThan(indexOf(copies, "server/src/"));

        assertThat(run.one("USER")).isEqualTo("10001:10001");
        assertThat(String.join("\n", run.all("RUN"))).as("the run stage installs libjpeg-turbo for the JPEG encoder")
                .contains("apt-get install -y --no-install-recommends libturbojpeg ");
        assertThat(String.join("\n", run.all("RUN"))).contains("--uid 10001").contains("--gid 10001").contains("chown 10001:10001 /data");
        Map<String, String> env = env(run);
        assertThat(run.one("EXPOSE")).isEqualTo(Setting.PORT.defaultValue()).isEqualTo(env.get(Setting.PORT.env()));
        assertThat(run.one("VOLUME")).isEqualTo("/data").isEqualTo(env.get(Setting.DATA_DIR.env()));
        assertThat(run.one("HEALTHCHECK")).contains("CMD [\"/app/healthcheck.sh\"]");
        assertThat(Files.readString(HEALTHCHECK)).contains("GET /readyz ").contains("\" 200\"");
        assertThat(run.one("STOPSIGNAL")).isEqualTo("SIGTERM");
        assertThat(run.one("ENTRYPOINT")).isEqualTo("[\"/app/entrypoint.sh\"]");
        assertThat(run.all("COPY")).contains("--from=build /qwen-image-server.jar /app/qwen-image-server.jar");
        assertThat(String.join("\n", run.all("LABEL"))).contains(
                "org.opencontainers.image.title=", "org.opencontainers.image.description=", "org.opencontainers.image.source=",
                "org.opencontainers.image.licenses=", "org.opencontainers.image.version=\"${VERSION}\"");
        assertThat(run.all("ARG")).contains("VERSION=0.1.0-SNAPSHOT");
    }

    @Test
    void everyQwenImageNameInTheImageIsARealSetting() throws IOException {
        TreeSet<String> names = new TreeSet<>();
        for (Path f : List.of(ROOT.resolve("Dockerfile"), ENTRYPOINT, HEALTHCHECK)) {
            Matcher m = SETTING_NAME.matcher(Files.readString(f));
            while (m.find()) {
                names.add(m.group());
            }
        }
        assertThat(names).contains(Setting.DATA_DIR.env(), Setting.PORT.env(), "QWEN_IMAGE_JAVA_OPTS");
        assertThat(names).allSatisfy(n -> assertThat(SettingNames.isKnown(n)).as(n + " is read by something").isTrue());
    }

    @Test
    void everythingTheDockerfileCopiesIsInTheRepoAndInTheBuildContext() throws IOException {
        List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore")).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(ignored).contains("**/target/", "data/", ".git/");
        for (Stage stage : stages(Files.readString(ROOT.resolve("Dockerfile")))) {
            for (String copy : stage.all("COPY")) {
                List<String> words = new ArrayList<>(Arrays.asList(copy.split("\\s+")));
                if (words.removeIf(w -> w.startsWith("--from="))) {
                    continue; // from the build stage: the built jar, checked above
                }
                words.removeIf(w -> w.startsWith("--"));
                for (String source : words.subList(0, words.size() - 1)) {
                    assertThat(ROOT.resolve(source)).as("COPY " + source).exists();
                    String top = source.replaceAll("/.*", "") + "/";
                    assertThat(ignored).as(source + " is not left out of the context").doesNotContain(source, top);
                    assertThat(source).doesNotContain("target/");
                }
            }
        }
        assertThat(ENTRYPOINT).isExecutable();
        assertThat(HEALTHCHECK).isExecutable();
    }

    @Test
    void theEntrypointRunsTheServerWithItsFlagsAndItDrainsOnSigterm(@TempDir Path dir) throws Exception {
        // laid out like the image: /app with the jar and the scripts, /data, the Dockerfile's ENV
        Path app = Files.createDirectories(dir.resolve("app"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path jar = app.resolve("qwen-image-server.jar");
        serverJar(jar);
        int port = freePort();
        Map<String, String> redirected = Map.of(Setting.DATA_DIR.env(), data.toString(), Setting.PORT.env(), Integer.toString(port));
        ProcessBuilder pb = new ProcessBuilder(ENTRYPOINT.toString()).directory(data.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith(SettingNames.PREFIX) || k.equals("MALLOC_ARENA_MAX"));
        for (Map.Entry<String, String> e : env(stages(Files.readString(ROOT.resolve("Dockerfile"))).get(1)).entrySet()) {
            pb.environment().put(e.getKey(), redirected.getOrDefault(e.getKey(), e.getValue()));
        }
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("APP_JAR", jar.toString());
        pb.environment().put(Setting.HOST.env(), "127.0.0.1");
        pb.environment().put(Setting.API_KEYS.env(), TestServer.KEY);
        pb.environment().put("QWEN_IMAGE_JAVA_OPTS", "-Xmx256m -Dqwen.container.test=yes");
        Path log = dir.resolve("server.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            String base = "http://127.0.0.1:" + port;
            awaitReady(p, base + "/readyz", log);

            // the JVM is the entrypoint's process (exec), with its flags, then QWEN_IMAGE_JAVA_OPTS word by word, then the jar
            List<String> cmdline = Arrays.asList(Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).split("\0"));
            assertThat(cmdline.getFirst()).endsWith("/bin/java");
            int jarAt = cmdline.indexOf("-jar");
            assertThat(cmdline.subList(jarAt, cmdline.size())).containsExactly("-jar", jar.toString(), "serve");
            List<String> flags = cmdline.subList(1, jarAt);
            assertThat(flags).contains("-XX:MaxRAMPercentage=50", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
                    "-XX:MaxDirectMemorySize=128m", "-Dfile.encoding=UTF-8", "-Djava.awt.headless=true");
            assertThat(flags.subList(flags.size() - 2, flags.size())).containsExactly("-Xmx256m", "-Dqwen.container.test=yes");
            assertThat(Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ")).split("\0")).contains("MALLOC_ARENA_MAX=2");

            Api api = new Api(base, TestServer.KEY);
            JsonNode done = api.awaitFinished(api.submitOk("{\"prompt\": \"a container ship\", \"size\": \"256*256\"}"), Duration.ofSeconds(30));
            assertThat(done.path("task").path("status").asText()).isEqualTo("TASK_STATUS_SUCCEED");

            assertThat(healthcheck(port)).as("healthcheck against the server").isZero();
            assertThat(healthcheck(freePort())).as("healthcheck against a closed port").isEqualTo(1);

            p.toHandle().destroy(); // SIGTERM, what docker stop sends (STOPSIGNAL)
            long drain = Duration.parse("PT" + Setting.DRAIN_TIMEOUT.defaultValue().toUpperCase()).toSeconds();
            assertThat(p.waitFor(drain + 5, TimeUnit.SECONDS)).as("ended within the drain timeout").isTrue();
            assertThat(p.exitValue()).as("exit code after SIGTERM; log:\n" + Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("stopping: /readyz answers 503", "stopped in");
        } finally {
            p.destroyForcibly();
        }
    }

    private static int healthcheck(int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(HEALTHCHECK.toString()).redirectErrorStream(true);
        pb.environment().put(Setting.PORT.env(), Integer.toString(port));
        pb.environment().put(Setting.HOST.env(), "0.0.0.0");
        Process h = pb.start();
        h.getInputStream().transferTo(OutputStream.nullOutputStream());
        assertThat(h.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return h.exitValue();
    }

    private static void awaitReady(Process p, String readyz, Path log) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new AssertionError("the entrypoint ended with " + p.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(readyz)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("/readyz did not answer 200 within 60 s:\n" + Files.readString(log));
    }

    /**
     * The image's jar at {@code target}: the one the build made (server/target/qwen-image-server.jar)
     * when it is newer than the compiled classes, else (a plain {@code mvn test}, before the package
     * phase) a jar with the same Main-Class whose Class-Path is this test's class path.
     */
    private static void serverJar(Path target) throws IOException {
        Path built = ROOT.resolve("server/target/qwen-image-server.jar");
        Path main = ROOT.resolve("server/target/classes/dev/qwenimage/cli/Main.class");
        if (Files.exists(built) && Files.getLastModifiedTime(built).compareTo(Files.getLastModifiedTime(main)) >= 0) {
            Files.createSymbolicLink(target, built);
            return;
        }
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, "dev.qwenimage.cli.Main");
        a.putValue("Enable-Native-Access", "ALL-UNNAMED");
        StringBuilder cp = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            cp.append(Path.of(entry).toUri().toString()).append(' ');
        }
        a.put(Attributes.Name.CLASS_PATH, cp.toString().strip());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest)) {
            // the manifest is the whole jar
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static int indexOf(List<String> copies, String source) {
        for (int i = 0; i < copies.size(); i++) {
            if (copies.get(i).startsWith(source + " ")) {
                return i;
            }
        }
        throw new AssertionError("no COPY " + source + " in " + copies);
    }

    /** The ENV lines of a stage as name to value (both forms: {@code ENV A=1 B=2} and {@code ENV A 1}). */
    static Map<String, String> env(Stage stage) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : stage.all("ENV")) {
            if (!line.contains("=")) {
                String[] kv = line.split("\\s+", 2);
                env.put(kv[0], kv[1]);
            } else {
                for (String pair : line.trim().split("\\s+")) {
                    int eq = pair.indexOf('=');
                    env.put(pair.substring(0, eq), pair.substring(eq + 1).replaceAll("^\"|\"$", ""));
                }
            }
        }
        return env;
    }

    /** The ARGs before the first FROM, as name to default. */
    static Map<String, String> globalArgs(String dockerfile) {
        Map<String, String> args = new LinkedHashMap<>();
        for (Instruction i : instructions(dockerfile)) {
            if (i.keyword().equals("FROM")) {
                break;
            }
            if (i.keyword().equals("ARG")) {
                String[] kv = i.args().split("=", 2);
                args.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
        return args;
    }

    static List<Stage> stages(String dockerfile) {
        List<Stage> stages = new ArrayList<>();
        for (Instruction i : instructions(dockerfile)) {
            if (i.keyword().equals("FROM")) {
                stages.add(new Stage(i.args(), new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.getLast().instructions().add(i);
            }
        }
        return stages;
    }

    /** The instructions of a Dockerfile: comments and blank lines dropped, {@code \} continuations joined. */
    static List<Instruction> instructions(String dockerfile) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder current = null;
        for (String raw : dockerfile.split("\n", -1)) {
            String line = raw.strip();
            if (line.startsWith("#") || (line.isEmpty() && current == null)) {
                continue; // a comment (parser directives included) or a blank line
            }
            boolean continued = line.endsWith("\\");
            String part = continued ? line.substring(0, line.length() - 1).strip() : line;
            current = current == null ? new StringBuilder(part) : current.append(part.isEmpty() ? "" : " " + part);
            if (!continued) {
                String[] kw = current.toString().split("\\s+", 2);
                out.add(new Instruction(kw[0].toUpperCase(), kw.length > 1 ? kw[1] : ""));
                current = null;
            }
        }
        assertThat(current).as("the Dockerfile ends in a continued line").isNull();
        return out;
    }
}
