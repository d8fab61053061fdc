package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A header that names one thing (who calls, which retry, what the body is) sent twice would let a
 * proxy that reads the last copy and this service, which would read the first, disagree: such
 * requests are refused with 400 and the contract's body. Written as raw HTTP/1.1 on a socket,
 * because HTTP clients merge or refuse repeated headers themselves.
 */
class DuplicateHeadersTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BODY = "{\"prompt\": \"a cat\", \"size\": \"256*256\"}";

    record RawResponse(int status, String head, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    @Test
    void twoAuthorizationHeadersAreRefusedEvenWhenTheFirstIsValid() throws IOException {
        RawResponse r = post("/v3/async/qwen-image-txt2img", "Authorization: Bearer " + TestServer.KEY + "\r\n"
                + "Authorization: Bearer " + TestServer.OTHER_KEY + "\r\n" + "Content-Type: application/json\r\n", BODY);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("code").asInt()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).isEqualTo("DUPLICATE_HEADER");
        assertThat(r.json().at("/metadata/header").asText()).isEqualTo("Authorization");
        assertThat(r.json().get("message").asText()).contains("Authorization");
    }

    @Test
    void twoAuthorizationHeadersAreRefusedOnPollsToo() throws IOException {
        RawResponse r = get("/v3/async/task-result?task_id=x", "Authorization: Bearer " + TestServer.KEY + "\r\n"
                + "Authorization: " + TestServer.KEY + "\r\n");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).isEqualTo("DUPLICATE_HEADER");
    }

    @ParameterizedTest(name = "{0} sent twice is refused")
    @ValueSource(strings = {"Idempotency-Key", "Content-Type"})
    void otherSingleValuedHeadersSentTwiceAreRefused(String header) throws IOException {
        String value = header.equals("Content-Type") ? "application/json" : "retry-1";
        String other = header.equals("Content-Type") ? "text/plain" : "retry-2";
        RawResponse r = post("/v3/async/qwen-image-txt2img", "Authorization: Bearer " + TestServer.KEY + "\r\n"
                + (header.equals("Content-Type") ? "" : "Content-Type: application/json\r\n")
                + header + ": " + value + "\r\n" + header + ": " + other + "\r\n", BODY);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).isEqualTo("DUPLICATE_HEADER");
        assertThat(r.json().at("/metadata/header").asText()).isEqualTo(header);
    }

    @Test
    void twoHostHeadersAreRefused() throws IOException {
        RawResponse r = raw("GET /v3/async/task-result?task_id=x HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n"
                + "Authorization: Bearer " + TestServer.KEY + "\r\nConnection: close\r\n\r\n");
        assertThat(r.status()).as(r.head() + "\n" + r.body()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).as(r.body()).isEqualTo("DUPLICATE_HEADER");
        assertThat(r.json().at("/metadata/header").asText()).isEqualTo("Host");
    }

    @Test
    void twoDifferentContentLengthsAreRefused() throws IOException {
        RawResponse r = raw("POST /v3/async/qwen-image-txt2img HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + TestServer.KEY + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + BODY.length() + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + BODY);
        assertThat(r.status()).as(r.head() + "\n" + r.body()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).as(r.body()).isEqualTo("DUPLICATE_HEADER");
        assertThat(r.json().at("/metadata/header").asText()).isEqualTo("Content-Length");
    }

    @Test
    void requestsTheHttpLayerRefusesBeforeAnyRouteStillGetTheContractBody() throws IOException {
        RawResponse malformed = raw("GET /healthz HTTP/1.1\r\nHost: localhost\r\nthis line has no colon\r\nConnection: close\r\n\r\n");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.head()).containsIgnoringCase("Content-Type: application/json");
        assertThat(malformed.json().get("code").asInt()).isEqualTo(400);
        assertThat(malformed.json().get("reason").asText()).isEqualTo("BAD_REQUEST");
        assertThat(malformed.json().has("message")).isTrue();
        assertThat(malformed.json().get("metadata").isObject()).isTrue();

        RawResponse huge = raw("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(64 * 1024)
                + "\r\nConnection: close\r\n\r\n");
        assertThat(huge.status()).isEqualTo(431);
        assertThat(huge.json().get("code").asInt()).isEqualTo(431);
        assertThat(huge.json().get("reason").asText()).isEqualTo("HEADERS_TOO_LARGE");

        RawResponse longUri = raw("GET /healthz?x=" + "a".repeat(64 * 1024) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertThat(longUri.status()).isEqualTo(414);
        assertThat(longUri.json().get("reason").asText()).isEqualTo("URI_TOO_LONG");
    }

    @Test
    void oneOfEachIsServed() throws IOException {
        RawResponse r = post("/v3/async/qwen-image-txt2img", "Authorization: Bearer " + TestServer.KEY + "\r\n"
                + "Content-Type: application/json\r\nIdempotency-Key: once\r\n", BODY);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("task_id").asText()).isNotBlank();
    }

    private RawResponse post(String path, String headers, String body) throws IOException {
        return raw("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers + "Content-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body);
    }

    private RawResponse get(String path, String headers) throws IOException {
        return raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers + "Connection: close\r\n\r\n");
    }

    private RawResponse raw(String request) throws IOException {
        URI base = URI.create(server.api().baseUrl());
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String head = split < 0 ? text : text.substring(0, split);
            String body = split < 0 ? "" : text.substring(split + 4);
            if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = unchunk(body);
            }
            int status = Integer.parseInt(head.substring(9, 12));
            return new RawResponse(status, head, body);
        }
    }

    private static String unchunk(String chunked) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < chunked.length()) {
            int eol = chunked.indexOf("\r\n", i);
            int size = Integer.parseInt(chunked.substring(i, eol).strip(), 16);
            if (size == 0) {
                break;
            }
            out.append(chunked, eol + 2, eol + 2 + size);
            i = eol + 2 + size + 2;
        }
        return out.toString();
    }
}
