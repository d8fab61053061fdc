package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.RawHttp;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What Jetty refuses before any route sees the request (bad paths, NUL, overlong UTF-8,
 * conflicting lengths, oversized URI or headers, unknown HTTP versions) is answered with the
 * contract's JSON error body too, for every method: never Jetty's HTML page or an empty body.
 * Sent over a raw socket, since java.net.http refuses to send most of these.
 */
class MalformedRequestsTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    private static final String SUBMIT = "/v3/async/qwen-image-txt2img";
    private static final String AUTH = "Authorization: Bearer " + TestServer.KEY + "\r\nContent-Type: application/json\r\n";

    static Stream<Arguments> refusedByTheParser() {
        return Stream.of(
                Arguments.of("a path climbing above the root", "GET /files/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("encoded dot segments climbing above the root", "GET /files/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("dot segments behind path parameters", "GET /files/..;/..;/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("an encoded NUL in the path", "GET /files/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("overlong UTF-8 in the path", "GET /files/%c0%af HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("a broken percent escape", "GET /files/a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("Content-Length together with chunked", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("two Content-Lengths", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "DUPLICATE_HEADER"),
                Arguments.of("a Content-Length that is not a number", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Content-Length: two\r\n\r\n{}", 400, "BAD_REQUEST"),
                Arguments.of("a transfer coding other than chunked", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Transfer-Encoding: gzip\r\n\r\n{}", 400, "BAD_REQUEST"),
                Arguments.of("no Host header", "GET /healthz HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("a space in a header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("a control byte in the request line", "\u0001\u0002 garbage\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("an absolute URI naming another host", "GET http://elsewhere/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("an odd method on a bad path", "BREW /files/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("PUT on a bad path", "PUT /files/a%00b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("an Accept the error page cannot meet", "GET /files/a%00b HTTP/1.1\r\nHost: x\r\nAccept: image/png\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("an unknown Expect", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Expect: something\r\nContent-Length: 2\r\n\r\n{}", 417, "EXPECTATION_FAILED"),
                Arguments.of("an HTTP version that does not exist", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
                Arguments.of("the HTTP/2 preface without TLS", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 426, "UPGRADE_REQUIRED"),
                Arguments.of("a 20 KB URI", "GET /v3/async/task-result?task_id=" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
                        414, "URI_TOO_LONG"),
                Arguments.of("20 KB of headers", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n",
                        431, "HEADERS_TOO_LARGE"),
                Arguments.of("a malformed chunk", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, "BAD_REQUEST"),
                Arguments.of("a chunked body over 64 KiB", "POST " + SUBMIT + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                        + "Transfer-Encoding: chunked\r\n\r\n" + ("2000\r\n" + "a".repeat(0x2000) + "\r\n").repeat(10) + "0\r\n\r\n",
                        413, "PAYLOAD_TOO_LARGE"),
                Arguments.of("OPTIONS * (the whole server)", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 404, "NOT_FOUND"),
                Arguments.of("an unknown method on a known path", "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
                Arguments.of("OPTIONS on an API path", "OPTIONS /v3/async/task-result HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
                Arguments.of("TRACE", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
                Arguments.of("an unknown method on an unknown path", "BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n", 404, "NOT_FOUND"));
    }

    @ParameterizedTest(name = "{0}: {2} {3}")
    @MethodSource("refusedByTheParser")
    void isAnsweredWithTheContractsJsonBody(String what, String request, int status, String reason) {
        RawHttp.Response r = RawHttp.exchange(server.api().baseUrl(), request);
        assertOnContract(r, status, reason);
    }

    @Test
    void openAiPathsGetTheOpenAiErrorBesideTheContractsFields() {
        RawHttp.Response r = RawHttp.exchange(server.api().baseUrl(), "POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
                + AUTH + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertOnContract(r, 400, "BAD_REQUEST");
        assertThat(r.json().at("/error/code").asText()).isEqualTo("bad_request");
        assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(r.json().at("/error/message").asText()).isEqualTo(r.json().get("message").asText());
    }

    @Test
    void aHeadRequestGetsTheStatusAndTheJsonTypeWithoutABody() {
        RawHttp.Response bad = RawHttp.exchange(server.api().baseUrl(), "HEAD /files/a%00b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.header("Content-Type")).startsWith("application/json");
        RawHttp.Response unknown = RawHttp.exchange(server.api().baseUrl(), "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.header("Content-Type")).startsWith("application/json");
    }

    @Test
    void anAbsoluteFormUriForThisHostIsServed() {
        RawHttp.Response r = RawHttp.exchange(server.api().baseUrl(), "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
    }

    static void assertOnContract(RawHttp.Response r, int status, String reason) {
        assertThat(r.status()).as("status; body %s", r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).as("content type; body %s", r.body()).startsWith("application/json");
        JsonNode body = r.json();
        assertThat(body).as("JSON body, got %s", r.body()).isNotNull();
        assertThat(body.get("code").asInt()).isEqualTo(status);
        assertThat(body.get("reason").asText()).isEqualTo(reason);
        assertThat(body.get("message").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("<");
        assertThat(body.get("metadata").isObject()).isTrue();
    }
}
