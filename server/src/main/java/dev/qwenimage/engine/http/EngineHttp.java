package dev.qwenimage.engine.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Redaction;
import dev.qwenimage.engine.GenerationResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.awt.image.BufferedImage;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javax.imageio.ImageIO;

/**
 * The HTTP side every remote engine shares: one JDK {@link HttpClient} per engine, JSON in and
 * out, and one rule for what a failed call means. A call that could not reach the engine, timed
 * out, or got 408, 429 or 5xx is {@linkplain EngineCallException#isTransient() transient} (the task
 * may pass elsewhere or later); any other 4xx is permanent (the request itself is wrong).
 */
public final class EngineHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient client;
    private final Map<String, String> headers;
    private final String engineName;

    /**
     * @param engineName used in failure messages ("comfyui-1 at http://gpu1:8188: ...")
     * @param base       the engine's base URL; request paths are appended to it. User credentials
     *                   in it ({@code http://user:pass@host}) are sent as HTTP Basic
     *                   authentication and kept out of {@link #base()}, so no message shows them
     * @param headers    sent with every request (e.g. an Authorization header)
     */
    public EngineHttp(String engineName, URI base, Duration connectTimeout, Map<String, String> headers) {
        this.engineName = engineName;
        this.base = withoutUserInfo(base);
        this.headers = new LinkedHashMap<>(headers);
        if (base.getRawUserInfo() != null) {
            if (headers.keySet().stream().anyMatch("Authorization"::equalsIgnoreCase)) {
                throw new ConfigException("engine '" + engineName + "' (" + Redaction.url(base) + ") has user credentials in "
                        + "its URL and a key; give one of them (a request carries one Authorization header)");
            }
            this.headers.put("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    base.getUserInfo().getBytes(StandardCharsets.UTF_8)));
        }
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /** The base URL, without user credentials. */
    public URI base() {
        return base;
    }

    /** The headers every request to this engine carries (its Authorization, if any). */
    public Map<String, String> headers() {
        return java.util.Collections.unmodifiableMap(headers);
    }

    /** {@code url} without its {@code user:password@} part. */
    static URI withoutUserInfo(URI url) {
        if (url.getRawUserInfo() == null) {
            return url;
        }
        return URI.create(url.toString().replaceFirst("^([A-Za-z][A-Za-z0-9+.\\-]*://)[^/?#]*@", "$1"));
    }

    public HttpClient client() {
        return client;
    }

    public static ObjectMapper json() {
        return JSON;
    }

    /** {@code base + path}; {@code path} starts with '/' and may carry a query. */
    public URI uri(String path) {
        return URI.create(base.toString() + path);
    }

    /** An answer with any status; callers decide what a status means with {@link #requireOk}. */
    public record Response(int status, byte[] body, HttpHeaders headers) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonNode json() throws EngineCallException {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new EngineCallException(true, "answered HTTP " + status + " with a body that is not JSON: " + abbreviate(text()));
            }
        }

        public boolean ok() {
            return status >= 200 && status < 300;
        }

        public Optional<String> header(String name) {
            return headers.firstValue(name);
        }
    }

    public Response get(String path, Duration timeout) throws EngineCallException, InterruptedException {
        return send(request(path, timeout).GET());
    }

    public Response postJson(String path, Object body, Duration timeout) throws EngineCallException, InterruptedException {
        byte[] bytes;
        try {
            bytes = body instanceof byte[] b ? b : JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot render request body", e);
        }
        return send(request(path, timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    }

    public Response delete(String path, Duration timeout) throws EngineCallException, InterruptedException {
        return send(request(path, timeout).DELETE());
    }

    /** A GET of an absolute URL (an image link an engine handed out), with this engine's headers only when on its host. */
    public Response getAbsolute(URI url, Duration timeout) throws EngineCallException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(timeout).GET();
        if (sameOrigin(url)) {
            headers.forEach(b::header);
        }
        return send(b);
    }

    public HttpRequest.Builder request(String path, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(timeout);
        headers.forEach(b::header);
        return b;
    }

    public Response send(HttpRequest.Builder request) throws EngineCallException, InterruptedException {
        HttpRequest r = request.build();
        try {
            HttpResponse<byte[]> response = client.send(r, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(response.statusCode(), response.body(), response.headers());
        } catch (IOException e) {
            throw callFailure(r, e);
        }
    }

    /**
     * Like {@link #send(HttpRequest.Builder)}, but the call is dropped (its connection closed) as
     * soon as {@code aborter}'s cancellation fires; it then fails with a transient
     * {@link EngineCallException}, so callers check their cancellation first when a call fails.
     */
    public Response send(HttpRequest.Builder request, CallAborter aborter) throws EngineCallException, InterruptedException {
        HttpRequest r = request.build();
        String what = r.method() + " " + r.uri().getPath();
        if (aborter.aborted()) {
            throw new EngineCallException(true, "call not made, the generation was cancelled (" + what + ")");
        }
        CompletableFuture<HttpResponse<byte[]>> call = client.sendAsync(r, HttpResponse.BodyHandlers.ofByteArray());
        aborter.track(call);
        try {
            HttpResponse<byte[]> response = call.get();
            return new Response(response.statusCode(), response.body(), response.headers());
        } catch (CancellationException e) {
            throw new EngineCallException(true, "call aborted, the generation was cancelled (" + what + ")");
        } catch (ExecutionException e) {
            if (aborter.aborted() || e.getCause() instanceof CancellationException) {
                throw new EngineCallException(true, "call aborted, the generation was cancelled (" + what + ")");
            }
            if (e.getCause() instanceof IOException io) {
                throw callFailure(r, io);
            }
            throw new EngineCallException(true, "connection failed: " + e.getCause());
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        } finally {
            aborter.done(call);
        }
    }

    private static EngineCallException callFailure(HttpRequest r, IOException e) {
        return switch (e) {
            case HttpConnectTimeoutException t ->
                    new EngineCallException(true, "could not connect within the timeout (" + r.method() + " " + r.uri().getPath() + ")");
            case HttpTimeoutException t ->
                    new EngineCallException(true, "did not answer in time (" + r.method() + " " + r.uri().getPath() + ")");
            case ConnectException c -> new EngineCallException(true, "is not reachable (connection refused)");
            default -> new EngineCallException(true, "connection failed: " + describe(e));
        };
    }

    /**
     * Throws unless the answer is 2xx: 408, 425, 429 and 5xx are transient, every other status
     * permanent. {@code what} names the call for the message, e.g. "POST /prompt".
     */
    public static Response requireOk(Response r, String what) throws EngineCallException {
        if (r.ok()) {
            return r;
        }
        boolean transientStatus = r.status() == 408 || r.status() == 425 || r.status() == 429 || r.status() >= 500;
        throw new EngineCallException(transientStatus, what + " answered HTTP " + r.status()
                + (r.body().length == 0 ? "" : ": " + abbreviate(r.text())));
    }

    /** The failure as a task outcome, with this engine named in the reason. */
    public GenerationResult failure(EngineCallException e) {
        String reason = engineName + " at " + base + " " + e.getMessage();
        return e.isTransient() ? new GenerationResult.TransientFailure(reason) : new GenerationResult.PermanentFailure(reason);
    }

    /** Decodes a PNG, JPEG, GIF or BMP (what ImageIO reads); a body that is no image is a transient failure. */
    public static BufferedImage decodeImage(byte[] bytes, String what) throws EngineCallException {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) {
                throw new EngineCallException(true, what + " is not an image this server can read (" + bytes.length + " bytes)");
            }
            return img;
        } catch (IOException e) {
            throw new EngineCallException(true, what + " could not be decoded: " + e.getMessage());
        }
    }

    public static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() <= 300 ? one : one.substring(0, 300) + "…";
    }

    private boolean sameOrigin(URI url) {
        return url.getHost() != null && url.getHost().equalsIgnoreCase(base.getHost()) && url.getPort() == base.getPort()
                && url.getScheme().equalsIgnoreCase(base.getScheme());
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return (m == null || m.isBlank()) ? e.getClass().getSimpleName() : m;
    }
}
