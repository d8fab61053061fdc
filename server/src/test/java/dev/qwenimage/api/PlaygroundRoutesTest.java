package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import dev.qwenimage.webhook.WebhookSigner;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The playground over plain HTTP: the page at {@code /}, its assets with their content types and
 * cache headers, and the API's JSON errors untouched beside it.
 */
class PlaygroundRoutesTest {
    private static final Pattern ASSET_REF = Pattern.compile("(?:href|src)=\"(/playground/[^\"]+)\"");
    private static final Pattern MODULE_IMPORT = Pattern.compile("from \"\\./([^\"]+)\"");
    private static final Path RESOURCES = Path.of("src/main/resources/playground");

    @TempDir
    static Path dataDir;
    static TestServer server;
    static Api api;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, Map.of());
        api = server.api();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void rootServesThePageAsHtmlThatIsAlwaysRevalidated() {
        Api.Response r = get("/", Map.of("Accept", "text/html"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(header(r, "Content-Type")).isEqualTo("text/html;charset=utf-8");
        assertThat(header(r, "Cache-Control")).isEqualTo("no-cache");
        assertThat(header(r, "ETag")).matches("\"[0-9a-f]{16}\"");
        assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.body()).startsWith("<!doctype html>").contains("<title>Qwen-Image playground</title>")
                .contains("<script type=\"module\" src=\"/playground/").doesNotContain("{{assets}}");
    }

    @Test
    void thePageForbidsInlineScriptsAndForeignConnections() {
        String csp = header(get("/", Map.of()), "Content-Security-Policy");

        assertThat(csp).contains("script-src 'self'").contains("connect-src 'self'").contains("frame-ancestors 'none'")
                .doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
        for (String name : Playground.ASSETS.stream().filter(n -> !n.endsWith(".svg")).toList()) {
            // nothing is fetched from elsewhere: no absolute URL in any script or style sheet
            assertThat(read(name)).as(name).doesNotContainPattern("\\son[a-z]+\\s*=").doesNotContain("http://")
                    .doesNotContain("https://");
        }
        assertThat(read(Playground.PAGE)).doesNotContainPattern("\\son[a-z]+\\s*=").doesNotContain("<script>")
                .doesNotContain("style=\"");
    }

    @Test
    void headAnswersWithTheHeadersOfGet() {
        Api.Response head = api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(header(head, "Content-Type")).isEqualTo("text/html;charset=utf-8");
        assertThat(header(head, "ETag")).isEqualTo(header(get("/", Map.of()), "ETag"));
    }

    @Test
    void aFreshPageCopyIsNotSentTwice() {
        String etag = header(get("/", Map.of()), "ETag");

        Api.Response again = get("/", Map.of("If-None-Match", etag));

        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(get("/", Map.of("If-None-Match", "\"something-else\"")).status()).isEqualTo(200);
    }

    @Test
    void everyAssetThePageAndItsModulesNameIsServedWithItsTypeAndCachedForGood() {
        Set<String> paths = new LinkedHashSet<>();
        Matcher refs = ASSET_REF.matcher(get("/", Map.of()).body());
        while (refs.find()) {
            paths.add(refs.group(1));
        }
        assertThat(paths).isNotEmpty();
        String base = paths.iterator().next().replaceAll("/[^/]+$", "");
        assertThat(base).matches("/playground/[0-9a-f]{12}");

        List<String> modules = new ArrayList<>(paths.stream().filter(p -> p.endsWith(".js")).toList());
        for (int i = 0; i < modules.size(); i++) {
            Matcher imports = MODULE_IMPORT.matcher(get(modules.get(i), Map.of()).body());
            while (imports.find()) {
                String path = base + "/" + imports.group(1);
                if (paths.add(path)) {
                    modules.add(path);
                }
            }
        }

        assertThat(paths).extracting(p -> p.substring(base.length() + 1))
                .contains("app.js", "api.js", "sizes.js", "gallery.js", "format.js", "playground.css", "favicon.svg");
        for (String path : paths) {
            Api.Response r = get(path, Map.of());
            assertThat(r.status()).as(path).isEqualTo(200);
            assertThat(header(r, "Content-Type")).as(path).isEqualTo(Playground.contentType(path));
            assertThat(header(r, "Cache-Control")).as(path).isEqualTo("public, max-age=31536000, immutable");
            assertThat(header(r, "X-Content-Type-Options")).as(path).isEqualTo("nosniff");
            assertThat(r.body()).as(path).isEqualTo(read(path.substring(base.length() + 1)));
        }
    }

    @Test
    void everyFileOfThePlaygroundIsServed() throws IOException {
        List<String> onDisk;
        try (Stream<Path> files = Files.list(RESOURCES)) {
            onDisk = files.map(p -> p.getFileName().toString()).toList();
        }
        List<String> served = new ArrayList<>(Playground.ASSETS);
        served.add(Playground.PAGE);
        assertThat(served).containsExactlyInAnyOrderElementsOf(onDisk);
    }

    @Test
    void assetUrlsChangeWithTheirContent() {
        String base = Playground.assetBase(Playground.load().version());
        assertThat(get("/", Map.of()).body()).contains(base + "/app.js");

        assertError(get("/playground/000000000000/app.js", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/nope.js", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/index.html", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/%2e%2e%2fapp.js", Map.of()), 404, "NOT_FOUND");
        assertError(get("/playground/app.js", Map.of()), 404, "NOT_FOUND");
    }

    @Test
    void unknownApiPathsStillAnswerTheJsonErrorEvenToABrowser() {
        Map<String, String> browser = Map.of("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");

        Api.Response unknown = get("/v3/async/nope", browser);
        assertError(unknown, 404, "NOT_FOUND");
        assertThat(header(unknown, "Content-Type")).startsWith("application/json");
        assertError(get("/v3/nope/deeper", browser), 404, "NOT_FOUND");
        assertError(get("/index.html", browser), 404, "NOT_FOUND");
        assertError(get("/favicon.ico", browser), 404, "NOT_FOUND");
        assertError(api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))), 405, "METHOD_NOT_ALLOWED");
    }

    @Test
    void theApiAndHealthWorkBesideThePlayground() {
        assertThat(get("/healthz", Map.of()).json().get("status").asText()).isEqualTo("ok");
        String taskId = api.submitOk("{\"prompt\": \"beside the playground\", \"size\": \"256*256\"}");
        assertThat(api.awaitFinished(taskId, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
    }

    @Test
    void aNodeThatServesNoApiServesNoPlayground(@TempDir Path images) {
        UrlSigner signer = new UrlSigner("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8), Clock.systemUTC());
        HttpApi workerHttp = new HttpApi(new HttpApi.Deps(Optional.empty(), Optional.empty(), new LocalBlobStore(images, signer),
                signer, Duration.ofHours(1), Optional.empty(), "127.0.0.1", () -> Map.of("status", "ok"), taskId -> {
                }, new WebhookSigner("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8))));
        Javalin worker = workerHttp.create("127.0.0.1", 0).start();
        try {
            Api workerApi = new Api("http://127.0.0.1:" + worker.port(), TestServer.KEY);
            assertError(workerApi.send(HttpRequest.newBuilder(URI.create(workerApi.baseUrl() + "/")).GET()), 404, "NOT_FOUND");
            assertThat(workerApi.send(HttpRequest.newBuilder(URI.create(workerApi.baseUrl() + "/healthz")).GET()).status())
                    .isEqualTo(200);
        } finally {
            worker.stop();
        }
    }

    private static Api.Response get(String path, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api.baseUrl() + path)).GET();
        headers.forEach(request::header);
        return api.send(request);
    }

    private static String header(Api.Response r, String name) {
        return r.raw().headers().firstValue(name).orElse(null);
    }

    private static String read(String name) {
        try {
            return Files.readString(RESOURCES.resolve(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
