package dev.qwenimage.sdk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.cli.Main;
import dev.qwenimage.support.FakeServers;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import io.javalin.Javalin;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code qwen-image edit IMAGE PROMPT} run in-process against the real service, its output captured. */
class EditCommandTest {
    private static final Pattern TASK_LINE = Pattern.compile("task (\\S+) submitted to ");

    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "50ms",
            "QWEN_IMAGE_WEBHOOK_ALLOW", "127.0.0.1"));

    @TempDir
    Path workDir;

    record Run(int code, String out, String err) {
        String taskId() {
            Matcher m = TASK_LINE.matcher(out);
            assertThat(m.find()).as("a task line in %s", out).isTrue();
            return m.group(1);
        }
    }

    private Run run(Map<String, String> env, String... args) {
        return run(new CommandLine(new EditCommand(env, workDir, false)), args);
    }

    private static Run run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static String[] args(String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("--url", server.api().baseUrl(), "--key", TestServer.KEY));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void editsAFileShowingProgressAndSavesItInTheFormatOfTheOutputsName() throws Exception {
        Files.write(workDir.resolve("photo.jpg"), Pictures.jpeg(1600, 900));

        Run r = run(Map.of(), args("photo.jpg", "make the sky purple", "-o", "out.png", "--seed", "7"));

        assertThat(r.code()).as(r.err()).isEqualTo(ImageCommand.OK);
        assertThat(Files.readAllBytes(workDir.resolve("out.png"))).startsWith(0x89, 'P', 'N', 'G');
        BufferedImage out = Pictures.decode(Files.readAllBytes(workDir.resolve("out.png")));
        assertThat(out.getWidth()).isEqualTo(1360);
        assertThat(out.getHeight()).isEqualTo(768);
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("task ").endsWith(" submitted to " + server.api().baseUrl());
        assertThat(lines).anyMatch(l -> l.matches("PROCESSING \\[[#-]{30}\\] +\\d{1,2}%  ETA .+"));
        assertThat(lines).contains("SUCCEED    [##############################] 100%");
        assertThat(lines.getLast()).matches("saved out\\.png \\(1360\\*768 png, \\d+ (KiB|bytes), seed 7\\)");
        assertThat(r.err()).isEmpty();
        var result = server.api().result(r.taskId()).json();
        assertThat(result.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
    }

    @Test
    void thePictureMayBeALinkTheServerFetches() {
        byte[] cat = Pictures.png(640, 480);
        Javalin pictures = FakeServers.start(0, cfg -> cfg.routes.get("/cat.png", ctx -> ctx.contentType("image/png").result(cat)));
        try {
            Run r = run(Map.of(), args("http://127.0.0.1:" + pictures.port() + "/cat.png", "add a hat", "--format", "webp", "-o", "."));

            assertThat(r.code()).as(r.err()).isZero();
            Path saved = workDir.resolve(r.taskId() + ".webp");
            assertThat(saved).isRegularFile();
            assertThat(r.out()).contains("saved " + Path.of(".", r.taskId() + ".webp") + " (");
        } finally {
            pictures.stop();
        }
    }

    @Test
    void withoutOutputItIsSavedUnderTheTaskIdInTheServersFormat() {
        writePicture("in.png");

        Run r = run(Map.of(), args("in.png", "add a hat"));

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(workDir.resolve(r.taskId() + ".jpeg")).isRegularFile();
        assertThat(r.out()).contains("saved " + r.taskId() + ".jpeg (1024*1024 jpeg, ");
    }

    @Test
    void aMissingFileOrAFormatAtOddsWithTheOutputsNameIsAUsageErrorBeforeAnyCall() {
        Run missing = run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "no-such.jpg", "add a hat");
        assertThat(missing.code()).isEqualTo(ImageCommand.USAGE);
        assertThat(missing.err()).contains("no such file: no-such.jpg");

        writePicture("in.png");
        Run odds = run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "in.png", "x", "--format", "png", "-o", "out.jpg");
        assertThat(odds.code()).isEqualTo(ImageCommand.USAGE);
        assertThat(odds.err()).contains("--format png does not match the output's name out.jpg");

        assertThat(run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "in.png", "x", "--format", "gif").code())
                .isEqualTo(ImageCommand.USAGE);
        assertThat(run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "in.png", " ").code()).isEqualTo(ImageCommand.USAGE);
        assertThat(run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "in.png").code()).isEqualTo(ImageCommand.USAGE);
        assertThat(run(Map.of(), "--url", "http://127.0.0.1:1", "--key", "k", "ftp://example.com/a.png", "x").code())
                .isEqualTo(ImageCommand.USAGE);
    }

    @Test
    void aPictureTheServerRefusesExitsWith2WithItsReason() throws Exception {
        Files.writeString(workDir.resolve("notes.txt"), "not a picture");

        Run r = run(Map.of(), args("notes.txt", "add a hat"));

        assertThat(r.code()).isEqualTo(ImageCommand.USAGE);
        assertThat(r.err()).contains("refused").contains("400 INVALID_IMAGE");
    }

    @Test
    void itFindsTheLocalServerAndItsKeyAsGenerateDoes() throws Exception {
        writePicture("in.png");
        Files.createDirectories(workDir.resolve("data"));
        Files.writeString(workDir.resolve("data/api-key"), TestServer.KEY + "\n");
        String port = String.valueOf(server.server().server().port());

        Run r = run(Map.of("QWEN_IMAGE_PORT", port, "QWEN_IMAGE_HOST", "127.0.0.1"), "in.png", "add a hat", "-o", "x.jpg");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("submitted to http://127.0.0.1:" + port);
    }

    @Test
    void itIsASubcommandOfTheServersCommandLine() {
        writePicture("in.png");
        Path target = workDir.resolve("via-main.jpg");

        Run r = run(new CommandLine(new Main()), "edit", "--url", server.api().baseUrl(), "--key", TestServer.KEY,
                workDir.resolve("in.png").toString(), "add a hat", "-o", target.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(target).isRegularFile();
    }

    private void writePicture(String name) {
        try {
            Files.write(workDir.resolve(name), Pictures.png(500, 500));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
