package dev.qwenimage.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.engine.Cancellation;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A call made through a CallAborter ends, and its connection closes, when the generation is cancelled. */
class CallAborterTest {

    @Test
    void cancellingDropsTheCallInFlightAndClosesItsConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            EngineHttp http = new EngineHttp("engine", URI.create("http://127.0.0.1:" + server.getLocalPort()), Duration.ofSeconds(2),
                    Map.of());
            Cancellation cancellation = new Cancellation();
            CallAborter aborter = CallAborter.on(cancellation);
            CompletableFuture<Throwable> call = CompletableFuture.supplyAsync(() -> {
                try {
                    http.send(http.request("/slow", Duration.ofMinutes(5)).POST(HttpRequest.BodyPublishers.ofString("{}")), aborter);
                    return null;
                } catch (Exception e) {
                    return e;
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            try (Socket connection = server.accept()) {
                connection.setSoTimeout(5000);
                InputStream in = connection.getInputStream();
                in.read(new byte[8192]); // the request arrived; this server never answers

                cancellation.cancel("timed out");

                assertThat(call.get(2, TimeUnit.SECONDS)).isInstanceOfSatisfying(EngineCallException.class, e -> {
                    assertThat(e.isTransient()).isTrue();
                    assertThat(e.getMessage()).contains("aborted");
                });
                while (in.read() != -1) {
                    // the rest of the request body, then the end of the stream: the client closed the connection
                }
            }
            assertThat(aborter.aborted()).isTrue();
            assertThatThrownBy(() -> http.send(http.request("/later", Duration.ofSeconds(1)).GET(), aborter))
                    .isInstanceOf(EngineCallException.class).hasMessageContaining("not made");
        }
    }
}
