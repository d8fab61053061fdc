package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static dev.qwenimage.api.PlaygroundRoutesTest.assertAssetsServed;
import static dev.qwenimage.api.PlaygroundRoutesTest.assertNoInlineCodeAndNoForeignUrls;
import static dev.qwenimage.api.PlaygroundRoutesTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin page over plain HTTP: {@code /admin} is a public page that holds no data (the data
 * comes from {@code /admin/v1/...} with the admin token), served like the playground: revalidated
 * itself, its assets versioned and cached for good, under a policy that runs only this server's scripts.
 */
class AdminPageRoutesTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @Test
    void adminServesThePageAsHtmlThatIsAlwaysRevalidated() {
        Api.Response r = get("/admin", Map.of("Accept", "text/html"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(header(r, "Content-Type")).isEqualTo("text/html;charset=utf-8");
        assertThat(header(r, "Cache-Control")).isEqualTo("no-cache");
        assertThat(header(r, "ETag")).matches("\"[0-9a-f]{16}\"");
        assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(header(r, "Referrer-Policy")).isEqualTo("no-referrer");
        assertThat(r.body()).startsWith("<!doctype html>").contains("<title>Qwen-Image admin</title>")
                .contains("<script type=\"module\" src=\"/assets/").doesNotContain("{{assets}}");
    }

    @Test
    void thePageRunsOnlyThisServersScriptsTalksOnlyToItAndShowsNoForeignImages() {
        String csp = header(get("/admin", Map.of()), "Content-Security-Policy");

        assertThat(List.of(csp.split("; "))).containsExactly("default-src 'self'", "script-src 'self'", "style-src 'self'",
                "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
                "object-src 'none'");
        assertNoInlineCodeAndNoForeignUrls();
    }

    @Test
    void thePageIsPublicAndTheSameForEveryone() {
        Api.Response anonymous = get("/admin", Map.of());
        Api.Response withAKey = get("/admin", Map.of("Authorization", "Bearer " + TestServer.KEY));

        assertThat(anonymous.status()).isEqualTo(200);
        assertThat(withAKey.status()).isEqualTo(200);
        assertThat(withAKey.body()).isEqualTo(anonymous.body());
        assertThat(header(withAKey, "ETag")).isEqualTo(header(anonymous, "ETag"));
        assertThat(anonymous.body()).doesNotContain(TestServer.KEY).doesNotContain(TestServer.OTHER_KEY);
    }

    @Test
    void headAnswersWithTheHeadersOfGetAndAFreshCopyIsNotSentTwice() {
        Api.Response head = server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/admin"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        String etag = header(get("/admin", Map.of()), "ETag");

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(header(head, "Content-Type")).isEqualTo("text/html;charset=utf-8");
        assertThat(header(head, "ETag")).isEqualTo(etag);
        assertThat(header(head, "Content-Security-Policy")).contains("script-src 'self'");
        Api.Response again = get("/admin", Map.of("If-None-Match", etag));
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(etag).isNotEqualTo(header(get("/", Map.of()), "ETag"));
    }

    @Test
    void everyAssetThePageAndItsModulesNameIsServedCachedForGoodAndNoneOfThePlaygrounds() {
        List<String> names = assertAssetsServed(server.api(), "/admin");

        assertThat(names).containsExactlyInAnyOrder("favicon.svg", "playground.css", "admin.css", "admin.js", "api.js",
                "admin-api.js", "keys.js", "usage-chart.js");
        // one asset set and one version for both pages
        String base = WebPages.assetBase(WebPages.load().version());
        assertThat(get("/admin", Map.of()).body()).contains(base + "/admin.js");
        assertThat(get("/", Map.of()).body()).contains(base + "/app.js");
    }

    @Test
    void otherMethodsAndPathsBesideThePageAnswerTheJsonErrors() {
        assertError(server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/admin"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))), 405, "METHOD_NOT_ALLOWED");
        assertError(get("/admin/index.html", Map.of()), 404, "NOT_FOUND");
        assertError(get("/admin.html", Map.of()), 404, "NOT_FOUND");
        assertError(get(WebPages.assetBase(WebPages.load().version()) + "/admin.html", Map.of()), 404, "NOT_FOUND");
    }

    @Test
    void theAdminApiBesideThePageStillWantsTheAdminToken() {
        assertError(get("/admin/v1/keys", Map.of()), 401, "INVALID_ADMIN_TOKEN");
        assertError(get("/admin/v1/keys", Map.of("Authorization", "Bearer " + TestServer.KEY)), 403, "ADMIN_TOKEN_REQUIRED");
        assertThat(server.server().admin().get("/admin/v1/keys").status()).isEqualTo(200);
    }

    private static Api.Response get(String path, Map<String, String> headers) {
        return PlaygroundRoutesTest.get(server.api(), path, headers);
    }
}
