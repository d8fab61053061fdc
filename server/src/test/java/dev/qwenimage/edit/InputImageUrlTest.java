package dev.qwenimage.edit;

import static dev.qwenimage.support.Errors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ImageOrigin;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.ScriptedDns;
import dev.qwenimage.support.SharedServer;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An edit's {@code "image": "http(s)://..."}, fetched at submit through the service's one outbound
 * guard (the webhooks' too), over real HTTP against in-process origins. {@link ImageOrigin#PUBLIC}
 * (127.0.0.2, allow-listed by QWEN_IMAGE_OUTBOUND_ALLOW) stands for the public internet; loopback
 * 127.0.0.1 on the same port is an internal service that no test may reach. The test DNS
 * ({@link ScriptedDns}) answers what an attacker's DNS could. The fetch deadline is lowered to
 * {@value #DEADLINE_SECONDS} s so a slow origin costs the test that long, not 10 s.
 */
class InputImageUrlTest {
    private static final int DEADLINE_SECONDS = 2;
    static final ScriptedDns dns = new ScriptedDns();
    static final ImageOrigin origin = ImageOrigin.start();

    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of(
            "QWEN_IMAGE_OUTBOUND_ALLOW", ImageOrigin.PUBLIC + "/32",
            "QWEN_IMAGE_EDIT_FETCH_TIMEOUT", DEADLINE_SECONDS + "s"), dns);

    @AfterAll
    static void stopOrigin() {
        origin.close();
    }

    /** A path no other test uses. */
    private static String path(String name) {
        return "/" + UUID.randomUUID() + "/" + name;
    }

    /** A host name no other test uses (each is a new destination for the client: a new connection, a new look-up). */
    private static String host(String label) {
        return label + "-" + UUID.randomUUID().toString().substring(0, 8) + ".example.com";
    }

    private static Api.Response edit(String imageUrl) {
        return server.api().edit("{\"prompt\": \"add a hat\", \"image\": \"" + imageUrl + "\"}");
    }

    private static void assertFetchRefused(Api.Response r, String... mentions) {
        assertError(r, 400, "IMAGE_FETCH_FAILED");
        assertThat(r.json().at("/metadata/field").asText()).isEqualTo("image");
        assertThat(r.json().get("message").asText()).contains(mentions).doesNotContainIgnoringCase("webhook");
    }

    // --- what works

    @ParameterizedTest(name = "a {0} at a public URL is fetched and edited")
    @CsvSource({"jpeg,image/jpeg", "png,image/png", "webp,image/webp"})
    void anImageAtAPublicUrlIsFetchedAndEdited(String format, String contentType) {
        String p = path("photo." + format);
        // the Content-Type is a label the origin chose: the format is read from the bytes
        origin.serve(p, "application/octet-stream", Pictures.encode(Pictures.halves(1600, 900), format));

        String id = server.api().editOk("{\"prompt\": \"add a hat\", \"image\": \"" + origin.url(p) + "\"}");
        JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(60));

        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        BufferedImage out = Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
        assertThat(out.getWidth()).isEqualTo(1360);
        assertThat(out.getHeight()).isEqualTo(768);
        assertThat(origin.served()).contains(ImageOrigin.PUBLIC + ":" + origin.port() + " " + p);
    }

    @Test
    void aPublicNameIsFetchedAtTheAddressItResolvedTo() {
        String name = host("cdn");
        dns.always(name, ImageOrigin.PUBLIC);
        String p = path("photo.png");
        origin.serve(p, "image/png", Pictures.png(640, 480));

        assertThat(edit(origin.url(name, p)).status()).isEqualTo(200);
        assertThat(origin.served()).contains(name + ":" + origin.port() + " " + p);
    }

    @Test
    void redirectsAreFollowedUpToThree() {
        // given a chain of three redirects, absolute and relative, that ends at the image
        String end = path("photo.jpg");
        origin.serve(end, "image/jpeg", Pictures.jpeg(640, 480));
        String third = path("3");
        String second = path("2");
        String first = path("1");
        origin.redirect(third, 302, end);
        origin.redirect(second, 307, origin.url(third));
        origin.redirect(first, 301, origin.url(second));

        assertThat(edit(origin.url(first)).status()).isEqualTo(200);
        assertThat(origin.served()).containsSubsequence(List.of(first, second, third, end).stream()
                .map(p -> ImageOrigin.PUBLIC + ":" + origin.port() + " " + p).toList());
    }

    // --- internal addresses, however they are reached

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "loopback                  | 127.0.0.1        | a loopback address",
            "private 10/8              | 10.0.0.1         | a private address",
            "private 192.168/16        | 192.168.1.1      | a private address",
            "link-local cloud metadata | 169.254.169.254  | a link-local address",
            "IPv4-mapped IPv6 loopback | [::ffff:127.0.0.1] | a loopback address",
            "IPv4-compatible IPv6      | [::127.0.0.1]    | IPv4-compatible",
            "this machine by name      | localhost        | points at this machine"})
    void anInternalAddressIsRefusedBeforeAnyConnection(String what, String host, String why) {
        Api.Response r = edit("http://" + host + ":" + origin.port() + path("latest/meta-data"));

        assertFetchRefused(r, why, "QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThat(origin.internalHits()).isEmpty();
    }

    @ParameterizedTest(name = "a public-looking name resolving to {0} is refused")
    @ValueSource(strings = {"10.1.2.3", "192.168.0.10", "169.254.169.254", "127.0.0.1", "fd00::1"})
    void aPublicLookingNameThatResolvesInwardIsRefused(String address) {
        String name = host("images");
        dns.always(name, address);

        Api.Response r = edit(origin.url(name, path("photo.jpg")));

        assertFetchRefused(r, name + " resolves to", "QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThat(origin.internalHits()).isEmpty();
        assertThat(dns.lookups(name)).isEqualTo(1);
    }

    @Test
    void aNameWhoseDnsAnswersAnIpv4MappedLoopbackAddressIsRefused() throws Exception {
        // DNS hands an AAAA record of ::ffff:127.0.0.1 over as an IPv6 address; it reaches 127.0.0.1 all the same
        String name = host("mapped");
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        InetAddress raw = java.net.Inet6Address.getByAddress(null, mapped, -1);
        dns.script(name, n -> List.of(raw));

        assertFetchRefused(edit(origin.url(name, path("photo.jpg"))), "127.0.0.1", "a loopback address");
        assertThat(origin.internalHits()).isEmpty();
    }

    @Test
    void aNameThatAnswersPublicThenPrivateIsLookedUpOnceAndConnectedToWhereItWasChecked() {
        // given a rebinding name: the first answer is the public stand-in, every later one the internal service
        String name = host("rebind");
        dns.script(name, n -> List.of(ScriptedDns.address(n == 0 ? ImageOrigin.PUBLIC : ImageOrigin.INTERNAL)));
        String p = path("photo.png");
        origin.serve(p, "image/png", Pictures.png(640, 480));

        // when an edit fetches from it
        Api.Response r = edit(origin.url(name, p));

        // then the one look-up was checked, and the connection went to the address it answered
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(dns.lookups(name)).as("look-ups of " + name).isEqualTo(1);
        assertThat(origin.served()).contains(name + ":" + origin.port() + " " + p);
        assertThat(origin.internalHits()).isEmpty();
    }

    @Test
    void aRedirectToAnInternalAddressIsRefused() {
        String p = path("moved.jpg");
        origin.redirect(p, 302, "http://" + ImageOrigin.INTERNAL + ":" + origin.port() + "/admin/secrets");

        assertFetchRefused(edit(origin.url(p)), "127.0.0.1", "a loopback address");
        assertThat(origin.internalHits()).isEmpty();
    }

    @Test
    void aRedirectToANameThatResolvesToAPrivateAddressIsRefused() {
        String name = host("intranet");
        dns.always(name, "10.20.30.40");
        String p = path("moved.jpg");
        origin.redirect(p, 301, origin.url(name, "/photo.jpg"));

        assertFetchRefused(edit(origin.url(p)), name + " resolves to 10.20.30.40", "a private address");
        assertThat(dns.lookups(name)).isEqualTo(1);
    }

    @Test
    void aRedirectToAnotherSchemeIsRefused() {
        String p = path("moved.jpg");
        origin.redirect(p, 302, "file:///etc/passwd");

        assertFetchRefused(edit(origin.url(p)), "https://");
    }

    @Test
    void aChainOfFourRedirectsIsRefused() {
        String end = path("photo.jpg");
        origin.serve(end, "image/jpeg", Pictures.jpeg(640, 480));
        String next = end;
        for (int i = 0; i < 4; i++) {
            String hop = path("hop" + i);
            origin.redirect(hop, 302, next);
            next = hop;
        }

        assertFetchRefused(edit(origin.url(next)), "redirected more than 3 times");
        assertThat(origin.served()).noneMatch(s -> s.endsWith(end));
    }

    // --- origins that answer badly

    @ParameterizedTest(name = "an origin answering {0} fails the fetch")
    @CsvSource({"404,HTTP 404 (not found)", "403,HTTP 403 (forbidden)", "500,HTTP 500 (a server error)",
            "503,HTTP 503 (a server error)"})
    void anOriginThatAnswersAnErrorFailsTheFetch(int status, String said) {
        String p = path("photo.jpg");
        origin.status(p, status);

        assertFetchRefused(edit(origin.url(p)), said);
    }

    @Test
    void aNameThatDoesNotResolveFailsTheFetch() {
        assertFetchRefused(edit("http://nowhere.example.invalid/photo.jpg"), "nowhere.example.invalid", "does not resolve");
    }

    @Test
    void aClosedPortFailsTheFetch() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getByName(ImageOrigin.PUBLIC))) {
            closed = s.getLocalPort();
        }
        assertFetchRefused(edit("http://" + ImageOrigin.PUBLIC + ":" + closed + "/photo.jpg"), "could not connect");
    }

    @Test
    void aBodyThatDripsForeverIsCutOffAtTheDeadline() {
        // given an origin that sends its headers at once, then one byte every 100 ms, for ever
        String p = path("slow.jpg");
        origin.route(p, ex -> {
            ex.getResponseHeaders().set("Content-Type", "image/jpeg");
            ex.sendResponseHeaders(200, 0);
            OutputStream body = ex.getResponseBody();
            body.write(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF});
            while (true) {
                body.write(0);
                body.flush();
                Api.sleep(100);
            }
        });

        long start = System.nanoTime();
        Api.Response r = edit(origin.url(p));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertFetchRefused(r, "did not arrive in full within " + DEADLINE_SECONDS + " s");
        assertThat(took).as("the whole fetch ends at its deadline").isLessThan(Duration.ofSeconds(DEADLINE_SECONDS + 4));
    }

    @Test
    void anOriginThatNeverAnswersIsCutOffAtTheDeadline() {
        String p = path("stalled.jpg");
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        origin.route(p, ex -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        long start = System.nanoTime();
        Api.Response r = edit(origin.url(p));

        assertFetchRefused(r, "did not arrive in full within " + DEADLINE_SECONDS + " s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(DEADLINE_SECONDS + 4));
        never.countDown();
    }

    @Test
    void theDeadlineIsTenSecondsUnlessConfigured() {
        assertThat(ServerConfig.of(Map.of()).edit().fetchTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(server.server().server().config().edit().fetchTimeout()).isEqualTo(Duration.ofSeconds(DEADLINE_SECONDS));
    }

    @Test
    void anEndlessBodyStopsAtTheSizeLimit() {
        // given an origin that streams zeros for ever (chunked: no length announced)
        String p = path("endless.jpg");
        origin.route(p, ex -> {
            ex.sendResponseHeaders(200, 0);
            OutputStream body = ex.getResponseBody();
            byte[] block = new byte[64 * 1024];
            block[0] = (byte) 0xFF;
            block[1] = (byte) 0xD8;
            block[2] = (byte) 0xFF;
            while (true) {
                body.write(block);
                block[0] = 0;
            }
        });

        Api.Response r = edit(origin.url(p));

        assertError(r, 400, "IMAGE_TOO_LARGE");
        assertThat(r.json().get("message").asText()).contains("larger than 20 MB", "give a smaller file");
    }

    @Test
    void aBodyAnnouncedLargerThanTheLimitIsNotRead() {
        String p = path("huge.jpg");
        origin.route(p, ex -> {
            ex.sendResponseHeaders(200, 30_000_000L);
            OutputStream body = ex.getResponseBody();
            byte[] block = new byte[64 * 1024];
            for (long n = 0; n < 30_000_000L; n += block.length) {
                body.write(block, 0, (int) Math.min(block.length, 30_000_000L - n));
            }
        });

        Api.Response r = edit(origin.url(p));

        assertError(r, 400, "IMAGE_TOO_LARGE");
    }

    // --- webhooks go out through the same guard

    @Test
    void aWebhookToANameThatResolvesToAPrivateAddressIsRefusedByTheSameGuard() {
        // given a webhook URL that is fine at submit (a name) and resolves to a private address at delivery
        String name = host("hooks");
        dns.always(name, "10.9.8.7");
        double refusedBefore = webhooks("refused");

        String id = server.api().submitOk("{\"prompt\": \"hooked\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \""
                + origin.url(name, "/hook") + "\"}}}");
        server.api().awaitFinished(id, Duration.ofSeconds(60));

        // then the delivery was refused (given up, not retried) after the one look-up of the shared resolver
        until(() -> webhooks("refused") > refusedBefore);
        assertThat(dns.lookups(name)).isEqualTo(1);
        assertThat(origin.served()).noneMatch(s -> s.startsWith(name));
    }

    @Test
    void aWebhookToTheAllowListedHostIsDeliveredThroughTheSameGuard() {
        // given a name resolving to the address QWEN_IMAGE_OUTBOUND_ALLOW lets through
        String name = host("receiver");
        dns.always(name, ImageOrigin.PUBLIC);
        String p = path("hook");
        java.util.concurrent.atomic.AtomicReference<String> agent = new java.util.concurrent.atomic.AtomicReference<>();
        origin.route(p, ex -> {
            agent.set(ex.getRequestHeaders().getFirst("User-Agent"));
            ex.sendResponseHeaders(204, -1);
        });

        server.api().submitOk("{\"prompt\": \"hooked\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \""
                + origin.url(name, p) + "\"}}}");

        until(() -> origin.served().contains(name + ":" + origin.port() + " " + p));
        assertThat(agent.get()).isEqualTo("qwen-image-server");
    }

    @Test
    void imageFetchesSendTheServicesNeutralUserAgent() {
        String p = path("photo.png");
        java.util.concurrent.atomic.AtomicReference<String> agent = new java.util.concurrent.atomic.AtomicReference<>();
        byte[] png = Pictures.png(320, 240);
        origin.route(p, ex -> {
            agent.set(ex.getRequestHeaders().getFirst("User-Agent"));
            ex.sendResponseHeaders(200, png.length);
            ex.getResponseBody().write(png);
        });

        assertThat(edit(origin.url(p)).status()).isEqualTo(200);
        assertThat(agent.get()).isEqualTo("qwen-image-server");
    }

    private static double webhooks(String outcome) {
        return server.api().get("/metrics").body().lines()
                .filter(l -> l.startsWith("qwen_image_webhooks_total{") && l.contains("outcome=\"" + outcome + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static void until(java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within 20 s");
            }
            Api.sleep(50);
        }
    }
}
