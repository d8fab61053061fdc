package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.ServerProcess;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code qwen-image serve} tells its operator when it starts and when it is stopped. */
class StartAndStopTest {
    @TempDir
    Path dataDir;

    @Test
    void aMisspeltVariableIsWarnedAboutBeforeTheBannerWithTheNameMeant() {
        try (ServerProcess process = ServerProcess.start(dataDir, Map.of("QWEN_IMAGE_NSFW", "off",
                "QWEN_IMAGE_WROKERS", "3", "QWEN_IMAGE_JAVA_OPTS", "-Xmx1g", "QWEN_IMAGE_URL", "http://localhost:1"))) {
            process.awaitReady();
            List<String> lines = process.output();

            int warning = indexOf(lines, l -> l.contains(" WARN ") && l.endsWith(
                    "QWEN_IMAGE_WROKERS is not a setting of qwen-image and is ignored; did you mean QWEN_IMAGE_WORKERS?"));
            int banner = indexOf(lines, l -> l.contains(" is ready"));
            assertThat(warning).as("the warning, in %s", lines).isNotNegative().isLessThan(banner);
            assertThat(lines).as("names read by the launcher and the CLI are known").noneMatch(l -> l.contains("QWEN_IMAGE_JAVA_OPTS")
                    || l.contains("QWEN_IMAGE_URL "));
        }
    }

    @Test
    void aGracefulStopSaysItIsStoppingAndHowManyRunningTasksItHandedBackAndExitsZero() {
        ServerProcess process = ServerProcess.start(dataDir, Map.of("QWEN_IMAGE_NSFW", "off", "QWEN_IMAGE_WORKERS", "1",
                "QWEN_IMAGE_API_KEYS", TestServer.KEY, "QWEN_IMAGE_PREVIEW_STEP_DELAY", "1s", "QWEN_IMAGE_DRAIN_TIMEOUT", "1s"));
        try (process) {
            Api api = new Api(process.awaitReady(), TestServer.KEY);
            String id = api.submitOk("{\"prompt\": \"a slow lighthouse\", \"size\": \"256*256\"}");
            api.awaitStatus(id, "TASK_STATUS_PROCESSING"::equals, Duration.ofSeconds(30));
        } // SIGTERM, as Ctrl-C or an orchestrator sends it

        List<String> lines = awaitLine(process, l -> l.contains("stopped in "));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" INFO ").endsWith("stopping: /readyz answers 503, no new task is "
                + "taken; 1 running task(s) get up to 1s to finish, then go back to the queue"));
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches(".* INFO .*stopped in \\d+ ms; 0 running task\\(s\\) finished here, 1 handed back to the queue"));
        assertThat(process.exitCode()).as("a graceful stop exits 0, not 143").isZero();
    }

    private static List<String> awaitLine(ServerProcess process, Predicate<String> line) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (process.output().stream().noneMatch(line) && System.nanoTime() < deadline) {
            Api.sleep(50);
        }
        return process.output();
    }

    private static int indexOf(List<String> lines, Predicate<String> p) {
        for (int i = 0; i < lines.size(); i++) {
            if (p.test(lines.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
