package dev.qwenimage.outbound;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * The HTTP client for users' URLs. Every call is checked twice over: the URL's syntax
 * ({@link OutboundUrl}), then, when a connection is opened, the one resolution of its host by the
 * {@link OutboundGuard}, whose checked addresses are the only ones the connection may go to (Jetty's
 * socket address resolver is the guard itself, so there is no second look-up to rebind). TLS still
 * uses the host name for SNI and certificate checks. No redirects, no cookies, no proxy. One client
 * (one guard, one resolver) is built at start-up and shared by every outbound caller.
 */
public final class OutboundHttp implements AutoCloseable {
    /** The User-Agent of every outbound call: the service's name, the same whatever the call is for. */
    public static final String USER_AGENT = "qwen-image-server";
    private final OutboundGuard guard;
    private final HttpClient client = new HttpClient();

    /** The guard's refusal, carried through Jetty's failure path. */
    private static final class Refusal extends IOException {
        Refusal(String reason) {
            super(reason, null);
        }
    }

    /** The guard's "does not resolve", carried the same way. */
    private static final class NoSuchHost extends UnknownHostException {
        NoSuchHost(String reason) {
            super(reason);
        }
    }

    public OutboundHttp(OutboundGuard guard, Resolver dns, Duration connectTimeout, String userAgent) {
        this.guard = guard;
        client.setExecutor(new VirtualThreadPool());
        client.setFollowRedirects(false);
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setIdleTimeout(30_000);
        client.setDestinationIdleTimeout(60_000); // receivers come and go: forget idle ones
        client.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, userAgent));
        SslContextFactory.Client tls = new SslContextFactory.Client();
        tls.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host, whatever address was reached
        client.setSslContextFactory(tls);
        client.setSocketAddressResolver((host, port, context, promise) -> resolve(host, port, dns, promise));
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the outbound HTTP client: " + e.getMessage(), e);
        }
    }

    /** The guard every call of this client is checked by. */
    public OutboundGuard guard() {
        return guard;
    }

    private void resolve(String host, int port, Resolver dns, Promise<List<InetSocketAddress>> promise) {
        try {
            switch (guard.resolve(host, dns)) {
                case OutboundGuard.Resolution.Reach(var addresses) ->
                        promise.succeeded(addresses.stream().map(a -> new InetSocketAddress(a, port)).toList());
                case OutboundGuard.Resolution.Refused(String reason) -> promise.failed(new Refusal(reason));
                case OutboundGuard.Resolution.Unresolved(String reason) -> promise.failed(new NoSuchHost(reason));
            }
        } catch (RuntimeException e) {
            promise.failed(e);
        }
    }

    /** Sends {@code r}; every outcome is an {@link OutboundResult}, nothing but an interruption is thrown. */
    public OutboundResult send(OutboundRequest r) throws InterruptedException {
        OutboundUrl url;
        switch (OutboundUrl.parse(r.url())) {
            case OutboundUrl.Parsed.Invalid(String reason) -> {
                return new OutboundResult.Refused("the URL " + reason);
            }
            case OutboundUrl.Parsed.Valid(OutboundUrl u) -> url = u;
        }
        Optional<String> early = guard.problemWithoutLookup(url);
        if (early.isPresent()) {
            return new OutboundResult.Refused(early.get());
        }
        long timeoutMs = Math.max(1, r.timeout().toMillis());
        String contentType = r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("Content-Type"))
                .map(Map.Entry::getValue).findFirst().orElse("application/octet-stream");
        Request request = client.newRequest(url.uri())
                .method(r.method())
                .timeout(timeoutMs, TimeUnit.MILLISECONDS)
                .headers(h -> r.headers().forEach((k, v) -> {
                    if (!k.equalsIgnoreCase("Content-Type")) {
                        h.put(k, v);
                    }
                }));
        r.body().ifPresent(b -> request.body(new BytesRequestContent(contentType, b)));
        InputStreamResponseListener listener = new InputStreamResponseListener();
        request.send(listener);
        Response response;
        try {
            response = listener.get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            request.abort(e);
            return new OutboundResult.Failed("no answer within " + seconds(r.timeout()));
        } catch (ExecutionException e) {
            return failure(e.getCause(), r.timeout());
        } catch (InterruptedException e) {
            request.abort(e);
            throw e;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        response.getHeaders().forEach(f -> headers.computeIfAbsent(f.getLowerCaseName(), k -> new java.util.ArrayList<>()).add(f.getValue()));
        long declared = response.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > r.maxBodyBytes() && !response.getHeaders().contains(HttpHeader.CONTENT_ENCODING)) {
            // announced longer than what is kept: not one byte of it is read
            request.abort(new IOException("answer of " + declared + " bytes, more than " + r.maxBodyBytes()));
            return new OutboundResult.Answered(response.getStatus(), Map.copyOf(headers), new byte[0], true);
        }
        try (InputStream in = listener.getInputStream()) {
            byte[] body = in.readNBytes(r.maxBodyBytes() + 1);
            boolean truncated = body.length > r.maxBodyBytes();
            if (truncated) {
                request.abort(new IOException("answer longer than " + r.maxBodyBytes() + " bytes"));
                body = java.util.Arrays.copyOf(body, r.maxBodyBytes());
            }
            return new OutboundResult.Answered(response.getStatus(), Map.copyOf(headers), body, truncated);
        } catch (IOException e) {
            return failure(e, r.timeout());
        }
    }

    private static OutboundResult failure(Throwable error, Duration timeout) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            switch (t) {
                case Refusal refusal -> {
                    return new OutboundResult.Refused(refusal.getMessage());
                }
                case NoSuchHost unresolved -> {
                    return new OutboundResult.Unresolved(unresolved.getMessage());
                }
                case UnknownHostException u -> {
                    return new OutboundResult.Unresolved("the host does not resolve");
                }
                case TimeoutException te -> {
                    return new OutboundResult.Failed("no answer within " + seconds(timeout));
                }
                case SocketTimeoutException te -> {
                    return new OutboundResult.Failed("could not connect in time");
                }
                case ConnectException c -> {
                    return new OutboundResult.Failed("could not connect (" + message(c) + ")");
                }
                case SSLException s -> {
                    return new OutboundResult.Failed("TLS failed: " + message(s));
                }
                default -> {
                }
            }
        }
        return new OutboundResult.Failed("the exchange failed: " + message(error));
    }

    private static String message(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            // stopping: nothing left to do with it
        }
    }
}
