package dev.qwenimage.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.FakeServers;
import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The guarded client against a real receiver on this machine (allow-listed as 127.0.0.1/32 where it must be reached). */
class OutboundHttpTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private final List<String> arrivals = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private Javalin receiver;
    private OutboundHttp http;

    @BeforeEach
    void startReceiver() {
        receiver = FakeServers.start(0, cfg -> {
            cfg.routes.post("/hook", ctx -> {
                arrivals.add(ctx.header("Host") + " " + ctx.body() + " " + ctx.header("X-Signature"));
                ctx.status(204);
            });
            cfg.routes.get("/big", ctx -> ctx.result("x".repeat(100_000)));
            cfg.routes.get("/stall", ctx -> {
                release.await();
                ctx.result("late");
            });
        });
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (http != null) {
            http.close();
        }
        receiver.stop();
    }

    private OutboundHttp client(List<String> allow, Resolver dns) {
        http = new OutboundHttp(new OutboundGuard(allow, "TEST_ALLOW"), dns, Duration.ofSeconds(2), "qwen-image-server tests");
        return http;
    }

    private String url(String host, String path) {
        return "http://" + host + ":" + receiver.port() + path;
    }

    private static OutboundRequest post(String url) {
        return OutboundRequest.post(url, Map.of("Content-Type", "application/json", "X-Signature", "v1,abc"),
                "{\"a\":1}".getBytes(StandardCharsets.UTF_8), TIMEOUT);
    }

    @Test
    void anAllowListedReceiverGetsTheRequestAsSent() throws Exception {
        OutboundResult r = client(List.of("127.0.0.1/32"), Resolver.SYSTEM).send(post(url("127.0.0.1", "/hook")));
        assertThat(r).isInstanceOf(OutboundResult.Answered.class);
        assertThat(((OutboundResult.Answered) r).status()).isEqualTo(204);
        assertThat(arrivals).containsExactly("127.0.0.1:" + receiver.port() + " {\"a\":1} v1,abc");
    }

    @Test
    void theConnectionGoesToTheAddressThatWasCheckedNotToASecondResolution() throws Exception {
        // a rebinding name: the first answer is the (allow-listed) receiver, every later one an internal address
        AtomicInteger lookups = new AtomicInteger();
        Resolver rebinding = host -> {
            if (!host.equals("hooks.test")) {
                throw new UnknownHostException(host);
            }
            return List.of(InetAddress.getByName(lookups.getAndIncrement() == 0 ? "127.0.0.1" : "127.0.0.3"));
        };
        OutboundResult r = client(List.of("127.0.0.1/32"), rebinding).send(post(url("hooks.test", "/hook")));
        assertThat(r).isInstanceOf(OutboundResult.Answered.class);
        assertThat(lookups.get()).as("one resolution, checked and connected to").isEqualTo(1);
        assertThat(arrivals).singleElement().asString().startsWith("hooks.test:" + receiver.port() + " ");
    }

    @Test
    void aNameWithAnyInternalAddressIsRefusedAndNothingIsSent() throws Exception {
        Resolver mixed = host -> List.of(InetAddress.getByName("93.184.216.34"), InetAddress.getByName("127.0.0.1"));
        OutboundResult r = client(List.of(), mixed).send(post(url("hooks.test", "/hook")));
        assertThat(r).isInstanceOf(OutboundResult.Refused.class);
        assertThat(((OutboundResult.Refused) r).reason()).contains("127.0.0.1").contains("TEST_ALLOW");
        assertThat(arrivals).isEmpty();
    }

    @Test
    void refusedTargetsAreResultsNotExceptions() throws Exception {
        OutboundHttp strict = client(List.of(), Resolver.SYSTEM);
        for (String bad : List.of(url("127.0.0.1", "/hook"), "http://127.0.0.1:99999/hook", "http://127.0.0.1:0/hook",
                "http://" + "a".repeat(64) + ".example.com/hook", "http://[::127.0.0.1]:" + receiver.port() + "/hook",
                "http://u:p@127.0.0.1/hook", "gopher://127.0.0.1/", "http://localhost:" + receiver.port() + "/hook")) {
            assertThat(strict.send(post(bad))).as(bad).isInstanceOf(OutboundResult.Refused.class);
        }
        assertThat(arrivals).isEmpty();
    }

    @Test
    void aNameThatDoesNotResolveIsUnresolved() throws Exception {
        assertThat(client(List.of(), Resolver.SYSTEM).send(post("https://hooks.example.invalid/x")))
                .isInstanceOf(OutboundResult.Unresolved.class);
    }

    @Test
    void aClosedPortAndASilentReceiverAreFailures() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        OutboundHttp allowed = client(List.of("127.0.0.1/32"), Resolver.SYSTEM);
        assertThat(allowed.send(post("http://127.0.0.1:" + closed + "/hook"))).isInstanceOf(OutboundResult.Failed.class);
        OutboundResult silent = allowed.send(OutboundRequest.get(url("127.0.0.1", "/stall"), Map.of(), Duration.ofMillis(500), 1024));
        assertThat(silent).isInstanceOf(OutboundResult.Failed.class);
        assertThat(((OutboundResult.Failed) silent).reason()).contains("500 ms");
    }

    @Test
    void aLongAnswerIsCutAtTheLimit() throws Exception {
        OutboundResult r = client(List.of("127.0.0.1/32"), Resolver.SYSTEM)
                .send(OutboundRequest.get(url("127.0.0.1", "/big"), Map.of(), TIMEOUT, 1024));
        OutboundResult.Answered a = (OutboundResult.Answered) r;
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body()).hasSize(1024);
        assertThat(a.truncated()).isTrue();
    }
}
