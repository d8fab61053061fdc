package dev.qwenimage.api;

import static dev.qwenimage.api.ErrorResponsesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image links carry an HMAC-signed expiry: valid links serve the image, altered or expired ones get 403. */
class ImageLinksTest {
    @TempDir
    Path dataDir;

    @Test
    void tamperedLinkIsForbidden() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Api api = server.api();
            String url = finishedImageUrl(api);
            assertThat(Api.fetch(url).statusCode()).isEqualTo(200);

            String otherExpiry = url.replaceAll("expires=(\\d+)", "expires=9$1");
            assertError(get(otherExpiry), 403, "INVALID_SIGNATURE");
            String otherSignature = url.replaceAll("signature=.", "signature=A");
            if (!otherSignature.equals(url)) {
                assertError(get(otherSignature), 403, "INVALID_SIGNATURE");
            }
            assertError(get(url.replaceAll("&signature=[^&]*", "")), 403, "INVALID_SIGNATURE");
            assertError(get(url.replaceAll("expires=\\d+&", "")), 403, "INVALID_SIGNATURE");
        }
    }

    @Test
    void linkToAnotherObjectIsForbidden() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            Api api = server.api();
            String url = finishedImageUrl(api);
            // the same signature and expiry on another object's key (last hex digit of the id changed)
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9a-f])\\.jpeg\\?").matcher(url);
            assertThat(m.find()).isTrue();
            String other = url.substring(0, m.start(1)) + (m.group(1).equals("0") ? "1" : "0") + url.substring(m.end(1));
            assertThat(other).isNotEqualTo(url);
            assertError(get(other), 403, "INVALID_SIGNATURE");
        }
    }

    @Test
    void expiredLinkIsForbiddenAndAFreshPollGivesAWorkingOne() {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_URL_TTL", "60"), clock)) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"expiry\", \"size\": \"256*256\"}");
            String url = api.awaitFinished(taskId, Duration.ofSeconds(60)).at("/images/0/image_url").asText();
            assertThat(Api.fetch(url).statusCode()).isEqualTo(200);

            clock.advance(Duration.ofSeconds(61));
            assertError(get(url), 403, "URL_EXPIRED");

            String fresh = api.result(taskId).json().at("/images/0/image_url").asText();
            assertThat(Api.fetch(fresh).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void zeroTtlMeansLinksDoNotExpire() {
        MutableClock clock = MutableClock.startingNow();
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_URL_TTL", "0"), clock)) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"forever\", \"size\": \"256*256\"}");
            var result = api.awaitFinished(taskId, Duration.ofSeconds(60));
            assertThat(result.at("/images/0/image_url_ttl").asText()).isEqualTo("0");
            clock.advance(Duration.ofDays(3650));
            assertThat(Api.fetch(result.at("/images/0/image_url").asText()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void publicUrlSetsTheBaseOfLinks() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_PUBLIC_URL", "https://img.example.com/"))) {
            Api api = server.api();
            String taskId = api.submitOk("{\"prompt\": \"public\", \"size\": \"256*256\"}");
            String url = api.awaitFinished(taskId, Duration.ofSeconds(60)).at("/images/0/image_url").asText();
            assertThat(url).startsWith("https://img.example.com/files/" + taskId + ".jpeg?expires=");
        }
    }

    private static String finishedImageUrl(Api api) {
        String taskId = api.submitOk("{\"prompt\": \"links\", \"size\": \"256*256\"}");
        return api.awaitFinished(taskId, Duration.ofSeconds(60)).at("/images/0/image_url").asText();
    }

    private static Api.Response get(String url) {
        return new Api("", "").send(HttpRequest.newBuilder(URI.create(url)).GET());
    }
}
