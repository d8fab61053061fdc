package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The jar's command line: versions where people look for them, help that reads well at 80 columns. */
class CommandLineTest {

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine(false);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theVersionIsPrintedByServeDashVTheVersionCommandAndDashDashVersion() {
        String version = "qwen-image-server " + Main.version();
        assertThat(run("serve", "-V").out()).isEqualTo(version + System.lineSeparator());
        assertThat(run("serve", "--version").out()).isEqualTo(version + System.lineSeparator());
        assertThat(run("--version").out()).isEqualTo(version + System.lineSeparator());

        Run v = run("version");
        assertThat(v.code()).isZero();
        assertThat(v.out().lines().toList()).hasSize(2).first().isEqualTo(version);
        assertThat(v.out().lines().toList().get(1)).startsWith("Java " + Runtime.version().feature());
    }

    @Test
    void serveHelpFitsEightyColumnsIndentsEveryContinuationAndNeverBreaksAUrl() {
        Run help = run("serve", "--help");
        assertThat(help.code()).isZero();
        List<String> lines = help.out().lines().toList();

        assertThat(lines).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(Main.WIDTH));
        List<String> settings = lines.subList(lines.indexOf("QWEN_IMAGE_CONFIG file. Durations: write e.g. 90s, 10m, 24h, 7d or 1h30m; a bare") + 2,
                lines.indexOf("Read by the launcher and the client commands, not by the service:"));
        assertThat(settings).allSatisfy(l -> assertThat(l).as("every line of a setting is indented").matches("(  QWEN_IMAGE_\\S+ .*|      \\S.*|)"));
        assertThat(help.out()).contains("jdbc:postgresql://db:5432/qwen").contains("http://minio:9000")
                .contains("https://s3.eu-west-1.amazonaws.com").contains("'comfyui:http://gpu1:8188;comfyui:http://gpu2:8188?slots=2'");
        assertThat(lines).noneMatch(l -> l.endsWith("http:") || l.endsWith("jdbc:") || l.endsWith(" e."));
    }

    @Test
    void serveSaysWhatItReallyStarts() {
        String help = run("serve", "--help").out();
        assertThat(help).contains("the HTTP API, the workers with their engines, or both")
                .contains("QWEN_IMAGE_ROLE").contains("PostgreSQL (QWEN_IMAGE_DB_URL)")
                .doesNotContain("engine in one process, on the embedded store");
        assertThat(help).contains("--debug").contains("Exit codes:");
    }

    @Test
    void theTopLevelHelpPointsToTheSettingsInsteadOfRepeatingThem() {
        String help = run("--help").out();
        assertThat(help).contains("version").contains("qwen-image serve --help").doesNotContain("QWEN_IMAGE_S3_PREFIX");
    }
}
