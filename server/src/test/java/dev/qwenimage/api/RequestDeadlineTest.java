package dev.qwenimage.api;

import static dev.qwenimage.api.MalformedRequestsTest.assertOnContract;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.RawHttp;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request must arrive in full, headers and body, within QWEN_IMAGE_REQUEST_TIMEOUT of its first
 * byte: a client trickling bytes under the idle timeout (slowloris) is answered 408 with the
 * contract's body and its connection closed. A request that is in is never cut, however long
 * its answer takes. (The deadline here is 2 s; the clients trickle a byte every 300 ms.)
 */
class RequestDeadlineTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of("QWEN_IMAGE_REQUEST_TIMEOUT", "2s",
            "QWEN_IMAGE_PREVIEW_STEP_DELAY", "150ms"));

    private static final Duration PAUSE = Duration.ofMillis(300);
    private static final String AUTH = "Authorization: Bearer " + TestServer.KEY + "\r\nContent-Type: application/json\r\n";

    @Test
    void headersSentOneByteAtATimeAreCutWith408AndTheConnectionIsClosed() {
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            String request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200) + "\r\n\r\n";
            int sent = http.trickle(request, PAUSE);
            assertThat(sent).as("bytes sent before the answer").isBetween(0, request.length() - 1);
            assertOnContract(http.read(false), 408, "REQUEST_TIMEOUT");
            assertThat(http.closedBy(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aBodyTricklingUnderTheIdleTimeoutIsCutWith408AndTheConnectionIsClosed() {
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            String body = "{\"prompt\": \"" + "a".repeat(200) + "\"}";
            http.send("POST /v3/async/qwen-image-txt2img HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Length: " + body.length() + "\r\n\r\n");
            int sent = http.trickle(body, PAUSE);
            assertThat(sent).isLessThan(body.length());
            RawHttp.Response r = http.read(false);
            assertOnContract(r, 408, "REQUEST_TIMEOUT");
            assertThat(r.json().get("message").asText()).contains("2 s");
            assertThat(http.closedBy(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aChunkedBodyTricklingToTheOpenAiDoorIsCutWithTheOpenAiError() {
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            http.send("POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n" + AUTH + "Transfer-Encoding: chunked\r\n\r\n");
            StringBuilder chunks = new StringBuilder();
            for (char c : "{\"prompt\": \"a slow lighthouse at dusk\"}".toCharArray()) {
                chunks.append("1\r\n").append(c).append("\r\n");
            }
            http.trickle(chunks + "0\r\n\r\n", PAUSE);
            RawHttp.Response r = http.read(false);
            assertOnContract(r, 408, "REQUEST_TIMEOUT");
            assertThat(r.json().at("/error/code").asText()).isEqualTo("request_timeout");
            assertThat(http.closedBy(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aBodyThatStopsArrivingIsAnswered408() {
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            http.send("POST /v3/async/task-cancel HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Length: 40\r\n\r\n{\"task_id\": ");
            assertOnContract(http.read(false), 408, "REQUEST_TIMEOUT");
            assertThat(http.closedBy(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aRequestThatHasArrivedIsNotCutWhileItsAnswerTakesLongerThanTheDeadline() {
        // 20 preview steps of 150 ms: the OpenAI door's synchronous answer takes about 3 s
        String body = "{\"model\": \"qwen-image\", \"prompt\": \"a patient lighthouse\", \"size\": \"256x256\"}";
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            http.send("POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().at("/data/0/url").asText()).startsWith("http");
        }
    }

    @Test
    void anIdleKeptAliveConnectionIsLeftToTheIdleTimeout() {
        try (RawHttp http = RawHttp.connect(server.api().baseUrl())) {
            http.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(200);
            Api.sleep(3000); // past the deadline, with no request under way
            http.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(200);
        }
    }
}
