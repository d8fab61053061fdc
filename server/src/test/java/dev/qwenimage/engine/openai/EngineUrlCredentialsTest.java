package dev.qwenimage.engine.openai;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An engine URL with user credentials ({@code openai:http://user:pass@host/v1}): the credentials
 * are sent (HTTP Basic) and shown nowhere: not in the unauthenticated /healthz, not in the banner,
 * not in a failed task's reason, not in the log (the banner: BannerTest).
 */
class EngineUrlCredentialsTest {
    private static final String PASSWORD = "pa55-w0rd-never-shown";

    @TempDir
    Path dataDir;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterEach
    void stopCapturing() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    }

    @Test
    void credentialsInTheUrlAuthenticateTheCallsAndAreShownNowhere() {
        try (FakeOpenAiImages fake = FakeOpenAiImages.serving("Qwen/Qwen-Image");
             TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES",
                     "openai:" + fake.base().replace("http://", "http://alice:" + PASSWORD + "@")))) {
            Api api = server.api();
            String ok = api.submitOk("{\"prompt\": \"a fox\", \"size\": \"256*256\"}");
            assertThat(api.awaitFinished(ok, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
            assertThat(fake.authorizations()).contains("Basic " + Base64.getEncoder()
                    .encodeToString(("alice:" + PASSWORD).getBytes(StandardCharsets.UTF_8)));

            fake.failNext(400, "{\"error\": {\"message\": \"refused\", \"type\": \"invalid_request_error\"}}");
            String failed = api.submitOk("{\"prompt\": \"a fox\", \"size\": \"256*256\"}");
            String reason = api.awaitFinished(failed, Duration.ofSeconds(30)).at("/task/reason").asText();
            assertThat(reason).contains("refused").contains("http://127.0.0.1:").doesNotContain(PASSWORD).doesNotContain("alice");

            String health = new String(Api.fetch(api.baseUrl() + "/healthz").body(), StandardCharsets.UTF_8);
            assertThat(health).contains("http://127.0.0.1:").doesNotContain(PASSWORD).doesNotContain("alice");
            assertThat(logged()).doesNotContain(PASSWORD);
        }
    }

    @Test
    void anEngineThatIsDownShowsItsStateWithoutItsCredentials() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_ENGINES",
                "openai:http://bob:" + PASSWORD + "@127.0.0.1:" + closed + "/v1"))) {
            String health = new String(Api.fetch(server.api().baseUrl() + "/healthz").body(), StandardCharsets.UTF_8);
            assertThat(health).contains("not reachable").contains("http://127.0.0.1:").doesNotContain(PASSWORD).doesNotContain("bob");
            assertThat(logged()).contains("not reachable").doesNotContain(PASSWORD);
        }
    }

    private String logged() {
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent e : log.list) {
            all.append(e.getFormattedMessage()).append('\n');
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                all.append(t.getMessage()).append('\n');
            }
        }
        return all.toString();
    }
}
