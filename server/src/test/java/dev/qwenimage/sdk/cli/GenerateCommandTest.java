package dev.qwenimage.sdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.cli.Main;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code qwen-image generate} run in-process against the real service, its output captured. */
class GenerateCommandTest {
    private static final Pattern TASK_LINE = Pattern.compile("task (\\S+) submitted to ");

    @TempDir
    Path dataDir;
    @TempDir
    Path workDir;

    /** One run of the command: its exit code and what it printed. */
    record Run(int code, String out, String err) {
        String taskId() {
            Matcher m = TASK_LINE.matcher(out);
            assertThat(m.find()).as("a task line in %s", out).isTrue();
            return m.group(1);
        }
    }

    private Run run(Map<String, String> env, Boolean terminal, String... args) {
        return run(new CommandLine(new GenerateCommand(env, workDir, terminal)), args);
    }

    private static Run run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static String[] args(TestServer server, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("--url", server.api().baseUrl(), "--key", TestServer.KEY));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void writesTheImageAndShowsOneProgressLinePerChange() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "100ms"))) {
            Run r = run(Map.of(), false, args(server, "a lighthouse at dusk", "--size", "320*256", "-o", "out.jpg"));

            assertThat(r.code()).as(r.err()).isEqualTo(GenerateCommand.OK);
            BufferedImage image = ImageIO.read(workDir.resolve("out.jpg").toFile());
            assertThat(image.getWidth()).isEqualTo(320);
            assertThat(image.getHeight()).isEqualTo(256);
            List<String> lines = r.out().lines().toList();
            assertThat(lines.get(0)).startsWith("task ").endsWith(" submitted to " + server.api().baseUrl());
            List<String> running = lines.stream().filter(l -> l.startsWith("PROCESSING [")).toList();
            assertThat(running).hasSizeGreaterThanOrEqualTo(2).allMatch(l -> l.matches("PROCESSING \\[[#-]{30}\\] +\\d{1,2}%  ETA .+"));
            assertThat(running).doesNotHaveDuplicates();
            assertThat(lines).contains("SUCCEED    [##############################] 100%");
            assertThat(lines.get(lines.size() - 1)).matches("saved out\\.jpg \\(320\\*256 jpeg, \\d+ (KiB|bytes), seed \\d+\\)");
            assertThat(r.out()).doesNotContain("\r");
            assertThat(r.err()).isEmpty();
        }
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlace() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "50ms"))) {
            Run r = run(Map.of(), true, args(server, "a lighthouse", "--size", "256*256", "-o", "bar.jpg"));

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("\rPROCESSING [").contains("\rSUCCEED    [##############################] 100%");
            assertThat(r.out().lines().filter(l -> l.startsWith("saved bar.jpg"))).hasSize(1);
        }
    }

    @Test
    void aFailedTaskExitsWith1AndSaysWhy() {
        ScriptedEngine broken = new ScriptedEngine("broken")
                .otherwise(call -> new GenerationResult.PermanentFailure("the workflow refers to a missing model file"));
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY));
        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), broken)) {
            Run r = run(Map.of(), false, "--url", server.localUrl(), "--key", TestServer.KEY, "a cat", "-o", "cat.jpg");

            assertThat(r.code()).isEqualTo(GenerateCommand.TASK_FAILED);
            assertThat(r.err()).startsWith("qwen-image: task " + r.taskId() + " failed: ").contains("missing model file");
            assertThat(r.out()).contains("FAILED ");
            assertThat(workDir.resolve("cat.jpg")).doesNotExist();
        }
    }

    @Test
    void aKeyTheServerRefusesExitsWith2() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Run r = run(Map.of(), false, "--url", server.api().baseUrl(), "--key", "wrong-key", "a cat");

            assertThat(r.code()).isEqualTo(GenerateCommand.USAGE);
            assertThat(r.err()).contains("refused").contains("401 INVALID_API_KEY");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void aSizeTheServerRefusesExitsWith2() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Run r = run(Map.of(), false, args(server, "a cat", "--size", "4096*4096"));

            assertThat(r.code()).isEqualTo(GenerateCommand.USAGE);
            assertThat(r.err()).contains("400 INVALID_SIZE");
        }
    }

    @Test
    void anUnreachableServerExitsWith3() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run r = run(Map.of(), false, "--url", "http://127.0.0.1:" + port, "--key", "k", "a cat");

        assertThat(r.code()).isEqualTo(GenerateCommand.UNAVAILABLE);
        assertThat(r.err()).contains("127.0.0.1:" + port);
    }

    @Test
    void withoutAnyKeyItExitsWith2BeforeCallingTheServer() {
        Run r = run(Map.of(), false, "--url", "http://127.0.0.1:1", "a cat");

        assertThat(r.code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(r.err()).contains("no API key").contains("--key").contains("QWEN_IMAGE_API_KEY");
    }

    @Test
    void malformedOptionsExitWith2() {
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "--size", "big").code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "--type", "gif").code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "--timeout", "soon").code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "-o", "no/such/folder/x.jpg").code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "--no-such-option").code()).isEqualTo(GenerateCommand.USAGE);
        assertThat(run(Map.of("QWEN_IMAGE_API_KEY", "k"), false).code()).isEqualTo(GenerateCommand.USAGE);
    }

    @Test
    void theTimeoutIsWrittenLikeEveryOtherDuration() {
        assertThat(GenerateCommand.parseDuration("1h30m")).isEqualTo(java.time.Duration.ofMinutes(90));
        assertThat(GenerateCommand.parseDuration("2d")).isEqualTo(java.time.Duration.ofDays(2));
        assertThat(GenerateCommand.parseDuration("1.5m")).isEqualTo(java.time.Duration.ofSeconds(90));
        assertThat(GenerateCommand.parseDuration("90")).isEqualTo(java.time.Duration.ofSeconds(90));
        Run r = run(Map.of("QWEN_IMAGE_API_KEY", "k"), false, "a cat", "--timeout", "soon");
        assertThat(r.err()).contains("--timeout: not a duration: 'soon'").contains("a bare number means seconds");
    }

    @Test
    void urlAndKeyComeFromTheEnvironmentAndTheServersKeyFile() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Files.createDirectories(workDir.resolve("data"));
            Files.writeString(workDir.resolve("data/api-key"), TestServer.KEY + "\n");

            Run r = run(Map.of("QWEN_IMAGE_URL", server.api().baseUrl()), false, "a cat", "--size", "256*256");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(workDir.resolve(r.taskId() + ".jpeg")).isRegularFile();
            assertThat(r.out()).contains("saved " + r.taskId() + ".jpeg (256*256 jpeg, ");
        }
    }

    @Test
    void withoutUrlItFindsALocalServerByTheServersOwnPortHostAndDataDirectory() throws Exception {
        Path serverData = workDir.resolve("elsewhere");
        try (TestServer server = TestServer.start(serverData, Map.of())) {
            Files.writeString(serverData.resolve("api-key"), TestServer.KEY + "\n");
            String port = String.valueOf(server.server().port());

            Run r = run(Map.of("QWEN_IMAGE_PORT", port, "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", "elsewhere"),
                    false, "a cat", "--size", "256*256");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("submitted to http://127.0.0.1:" + port);
        }
    }

    @Test
    void theServersConfigFileIsReadTooAndTheEnvironmentWinsOverIt() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Path file = Files.writeString(workDir.resolve("qwen.properties"), "QWEN_IMAGE_PORT=" + server.server().port()
                    + "\nQWEN_IMAGE_DATA_DIR=" + dataDir + "\n");
            Files.writeString(dataDir.resolve("api-key"), TestServer.KEY + "\n");

            Run fromFile = run(Map.of("QWEN_IMAGE_CONFIG", file.toString()), false, "a cat", "--size", "256*256");
            assertThat(fromFile.code()).as(fromFile.err()).isZero();
            assertThat(fromFile.out()).contains("submitted to http://localhost:" + server.server().port());

            Run envWins = run(Map.of("QWEN_IMAGE_CONFIG", file.toString(), "QWEN_IMAGE_URL", "http://127.0.0.1:1"), false, "a cat");
            assertThat(envWins.code()).isEqualTo(GenerateCommand.UNAVAILABLE);
        }
    }

    @Test
    void whenNoServerAnswersItSaysWhereItLookedAndWhy() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run r = run(Map.of("QWEN_IMAGE_API_KEY", "k", "QWEN_IMAGE_PORT", String.valueOf(port)), false, "a cat");

        assertThat(r.code()).isEqualTo(GenerateCommand.UNAVAILABLE);
        assertThat(r.err()).startsWith("qwen-image: no server answers at http://localhost:" + port + " (")
                .contains("the URL comes from QWEN_IMAGE_PORT)").contains("--url").contains("QWEN_IMAGE_URL");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void aKeyRefusedByTheServerSaysWhereTheKeyCameFrom() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Files.createDirectories(workDir.resolve("data"));
            Files.writeString(workDir.resolve("data/api-key"), "a-stale-key\n");

            Run r = run(Map.of("QWEN_IMAGE_URL", server.api().baseUrl()), false, "a cat");

            assertThat(r.code()).isEqualTo(GenerateCommand.USAGE);
            assertThat(r.err()).contains("401 INVALID_API_KEY").contains("the key came from " + Path.of("data", "api-key"));
        }
    }

    @Test
    void itIsASubcommandOfTheServersCommandLine() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Path target = workDir.resolve("via-main.jpg");

            Run r = run(new CommandLine(new Main()), "generate", "--url", server.api().baseUrl(), "--key", TestServer.KEY,
                    "a cat", "--size", "256*256", "-o", target.toString());

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(ImageIO.read(target.toFile()).getWidth()).isEqualTo(256);
        }
    }

    @Test
    void theTimeoutExitsWith3AndCancelsTheTask() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "500ms"))) {
            Run r = run(Map.of(), false, args(server, "a very slow cat", "--size", "256*256", "--timeout", "1s", "-o", "slow.jpg"));

            assertThat(r.code()).isEqualTo(GenerateCommand.UNAVAILABLE);
            String id = r.taskId();
            assertThat(r.err()).contains("gave up after 1s: task " + id + " is still").contains("cancelled task " + id);
            var result = server.api().awaitFinished(id, java.time.Duration.ofSeconds(20));
            assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
            assertThat(result.at("/task/reason").asText()).isEqualTo("cancelled");
            assertThat(workDir.resolve("slow.jpg")).doesNotExist();
        }
    }

    @Test
    void seedTypeAndNegativePromptReachTheServer() throws Exception {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Files.createDirectories(workDir.resolve("out"));

            Run r = run(Map.of(), false, args(server, "a seeded fox", "--size", "256*256", "--seed", "7", "--type", "png",
                    "--negative", "blurry", "--watermark", "-o", "out"));

            assertThat(r.code()).as(r.err()).isZero();
            Path file = workDir.resolve("out").resolve(r.taskId() + ".png");
            assertThat(Files.readAllBytes(file)).startsWith(0x89, 'P', 'N', 'G');
            assertThat(r.out()).contains("saved " + Path.of("out", r.taskId() + ".png") + " (256*256 png, ").contains(", seed 7)");
        }
    }
}
