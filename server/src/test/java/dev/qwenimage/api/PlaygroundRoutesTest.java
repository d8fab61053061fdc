package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.LocalPostgres;
import dev.qwenimage.support.LocalS3;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The playground over plain HTTP: the page at {@code /}, its assets with their content types and
 * cache headers, and the API's JSON errors untouched beside it.
 */
class PlaygroundRoutesTest {
    private static final Pattern ASSET_REF = Pattern.compile("(?:href|src)=\"(/assets/[^\"]+)\"");
    private static final Pattern MODULE_IMPORT = Pattern.compile("from \"\\./([^\"]+)\"");
    private static final Path RESOURCES = Path.of("src/main/resources/web");

    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @Test
    void rootServesThePageAsHtmlThatIsAlwaysRevalidated() {
        Api.Response r = get("/", Map.of("Accept", "text/html"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(header(r, "Content-Type")).isEqualTo("text/html;charset=utf-8");
        assertThat(header(r, "Cache-Control")).isEqualTo("no-cache");
        assertThat(header(r, "ETag")).matches("\"[0-9a-f]{16}\"");
        assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.body()).startsWith("<!doctype html>").contains("<title>Qwen-Image playground</title>")
                .contains("<script type=\"module\" src=\"/assets/").doesNotContain("{{assets}}");
    }

    @Test
    void thePageForbidsInlineScriptsAndForeignConnections() {
        String csp = header(get("/", Map.of()), "Content-Security-Policy");

        assertThat(csp).contains("script-src 'self'").contains("connect-src 'self'").contains("frame-ancestors 'none'")
                .doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
        assertNoInlineCodeAndNoForeignUrls();
    }

    /** What the pages' policies allow holds in their files (the playground's and the admin page's): nothing inline, nothing from elsewhere. */
    static void assertNoInlineCodeAndNoForeignUrls() {
        for (String name : WebPages.ASSETS.stream().filter(n -> !n.endsWith(".svg")).toList()) {
            // nothing is fetched from elsewhere: no absolute URL in any script or style sheet (the SVG
            // namespace, a name that is never fetched, aside)
            assertThat(read(name).replace("\"http://www.w3.org/2000/svg\"", "")).as(name)
                    .doesNotContainPattern("\\son[a-z]+\\s*=").doesNotContain("http://").doesNotContain("https://");
        }
        for (WebPages.Page page : WebPages.PAGES) {
            assertThat(read(page.file())).as(page.file()).doesNotContainPattern("\\son[a-z]+\\s*=").doesNotContain("<script>")
                    .doesNotContain("style=\"").doesNotContain("http://").doesNotContain("https://");
        }
    }

    @Test
    void headAnswersWithTheHeadersOfGet() {
        Api.Response head = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/"))
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
        List<String> names = assertAssetsServed(server.api(), "/");

        assertThat(names).contains("app.js", "api.js", "sizes.js", "gallery.js", "format.js", "edit.js", "playground.css", "favicon.svg");
    }

    /**
     * Follows what {@code page} names (links, scripts, and what its modules import in turn), checks
     * that each is served as it is on disk, with its type and cached for good; the files' names.
     */
    static List<String> assertAssetsServed(Api api, String page) {
        Set<String> paths = new LinkedHashSet<>();
        Matcher refs = ASSET_REF.matcher(get(api, page, Map.of()).body());
        while (refs.find()) {
            paths.add(refs.group(1));
        }
        assertThat(paths).isNotEmpty();
        String base = paths.iterator().next().replaceAll("/[^/]+$", "");
        assertThat(base).matches("/assets/[0-9a-f]{12}");

        List<String> modules = new ArrayList<>(paths.stream().filter(p -> p.endsWith(".js")).toList());
        for (int i = 0; i < modules.size(); i++) {
            Matcher imports = MODULE_IMPORT.matcher(get(api, modules.get(i), Map.of()).body());
            while (imports.find()) {
                String path = base + "/" + imports.group(1);
                if (paths.add(path)) {
                    modules.add(path);
                }
            }
        }

        for (String path : paths) {
            Api.Response r = get(api, path, Map.of());
            assertThat(r.status()).as(path).isEqualTo(200);
            assertThat(header(r, "Content-Type")).as(path).isEqualTo(WebPages.contentType(path));
            assertThat(header(r, "Cache-Control")).as(path).isEqualTo("public, max-age=31536000, immutable");
            assertThat(header(r, "X-Content-Type-Options")).as(path).isEqualTo("nosniff");
            assertThat(r.body()).as(path).isEqualTo(read(path.substring(base.length() + 1)));
        }
        return paths.stream().map(p -> p.substring(base.length() + 1)).toList();
    }

    @Test
    void everyFileOfTheWebPagesIsServed() throws IOException {
        List<String> onDisk;
        try (Stream<Path> files = Files.list(RESOURCES)) {
            onDisk = files.map(p -> p.getFileName().toString()).toList();
        }
        List<String> served = new ArrayList<>(WebPages.ASSETS);
        WebPages.PAGES.forEach(p -> served.add(p.file()));
        assertThat(served).containsExactlyInAnyOrderElementsOf(onDisk);
    }

    @Test
    void assetUrlsChangeWithTheirContent() {
        String base = WebPages.assetBase(WebPages.load().version());
        assertThat(get("/", Map.of()).body()).contains(base + "/app.js");

        assertError(get("/assets/000000000000/app.js", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/nope.js", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/index.html", Map.of()), 404, "NOT_FOUND");
        assertError(get(base + "/%2e%2e%2fapp.js", Map.of()), 404, "NOT_FOUND");
        assertError(get("/assets/app.js", Map.of()), 404, "NOT_FOUND");
        assertError(get("/playground/" + WebPages.load().version() + "/app.js", Map.of()), 404, "NOT_FOUND");
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
        assertError(server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))), 405, "METHOD_NOT_ALLOWED");
    }

    @Test
    void theApiAndHealthWorkBesideThePlayground() {
        assertThat(get("/healthz", Map.of()).json().get("status").asText()).isEqualTo("ok");
        String taskId = server.api().submitOk("{\"prompt\": \"beside the playground\", \"size\": \"256*256\"}");
        assertThat(server.api().awaitFinished(taskId, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
    }

    @Test
    void anApiNodeServesThePlaygroundAndAWorkerNodeDoesNot(@TempDir Path apiData, @TempDir Path workerData) {
        try (LocalPostgres pg = LocalPostgres.freshSchema(); LocalS3 s3 = LocalS3.start()) {
            Map<String, String> shared = new HashMap<>(s3.env());
            shared.put("QWEN_IMAGE_DB_URL", pg.url());
            shared.put("QWEN_IMAGE_URL_SECRET", "playground-shared-secret-0123456789");
            Map<String, String> apiRole = new HashMap<>(shared);
            apiRole.put("QWEN_IMAGE_ROLE", "api");
            Map<String, String> workerRole = new HashMap<>(shared);
            workerRole.put("QWEN_IMAGE_ROLE", "worker");
            try (TestServer apiNode = TestServer.start(apiData, apiRole); TestServer workerNode = TestServer.start(workerData, workerRole)) {
                Api onApi = apiNode.api();
                Api onWorker = workerNode.api();

                Api.Response page = onApi.send(HttpRequest.newBuilder(URI.create(onApi.baseUrl() + "/")).GET());
                assertThat(page.status()).isEqualTo(200);
                assertThat(header(page, "Content-Type")).isEqualTo("text/html;charset=utf-8");

                assertError(onWorker.send(HttpRequest.newBuilder(URI.create(onWorker.baseUrl() + "/")).GET()), 404, "NOT_FOUND");
                assertError(onWorker.send(HttpRequest.newBuilder(URI.create(onWorker.baseUrl() + "/assets/"
                        + WebPages.load().version() + "/app.js")).GET()), 404, "NOT_FOUND");
                assertError(onWorker.send(HttpRequest.newBuilder(URI.create(onWorker.baseUrl() + "/admin")).GET()), 404, "NOT_FOUND");
                assertThat(onWorker.send(HttpRequest.newBuilder(URI.create(onWorker.baseUrl() + "/healthz")).GET()).status())
                        .isEqualTo(200);
            }
        }
    }

    private static Api.Response get(String path, Map<String, String> headers) {
        return get(server.api(), path, headers);
    }

    static Api.Response get(Api api, String path, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api.baseUrl() + path)).GET();
        headers.forEach(request::header);
        return api.send(request);
    }

    static String header(Api.Response r, String name) {
        return r.raw().headers().firstValue(name).orElse(null);
    }

    /** A file of the web pages as it is in the source tree. */
    static String read(String name) {
        try {
            return Files.readString(RESOURCES.resolve(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
