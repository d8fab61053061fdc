package dev.qwenimage.api;

import static dev.qwenimage.api.MalformedRequestsTest.assertOnContract;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.RawHttp;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP stack of {@link HttpApi#serverSettings}: an answer that fails after its route has
 * returned, while Javalin writes its result, still leaves with the contract's body (Javalin
 * itself would send the status and nothing else). The routes here exist to fail that way.
 */
class ServerSettingsTest {
    static Javalin app;

    @BeforeAll
    static void start() {
        app = Javalin.create(cfg -> {
            HttpApi.serverSettings(cfg, "127.0.0.1", 0);
            cfg.routes.get("/unreadable", ctx -> ctx.result(new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("the disk went away");
                }
            }));
            cfg.routes.get("/v1/unreadable", ctx -> ctx.result(new InputStream() {
                @Override
                public int read() {
                    throw new IllegalStateException("a bug in a stream");
                }
            }));
        }).start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    @Test
    void aResultThatFailsWhileItIsWrittenIsAnswered500WithAnErrorId() {
        RawHttp.Response r = RawHttp.exchange("http://127.0.0.1:" + app.port(), "GET /unreadable HTTP/1.1\r\nHost: x\r\n\r\n");
        assertOnContract(r, 500, "INTERNAL_ERROR");
        assertThat(r.json().get("message").asText()).matches(".*error id [0-9a-f]{8}.*");
    }

    @Test
    void onTheOpenAiDoorItCarriesTheOpenAiErrorToo() {
        RawHttp.Response r = RawHttp.exchange("http://127.0.0.1:" + app.port(), "GET /v1/unreadable HTTP/1.1\r\nHost: x\r\n\r\n");
        assertOnContract(r, 500, "INTERNAL_ERROR");
        assertThat(r.json().at("/error/type").asText()).isEqualTo("server_error");
    }
}
