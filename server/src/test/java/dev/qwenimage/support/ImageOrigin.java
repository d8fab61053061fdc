package dev.qwenimage.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPOutputStream;

/**
 * Where edit tests keep their input images: an HTTP server on {@value #PUBLIC} (allow-listed in the
 * tests, it stands for a public host) and, on the same port, an "internal service" on loopback
 * {@value #INTERNAL} that must never be reached: what it receives is recorded, and anything it
 * answers is a secret. A test adds its own paths ({@link #route}); every request is recorded as
 * {@code "<Host header> <path>"}.
 */
public final class ImageOrigin implements AutoCloseable {
    /** The address that stands for a public host (the tests allow-list 127.0.0.2/32). */
    public static final String PUBLIC = "127.0.0.2";
    /** A loopback address, as an internal service of the operator's would have. */
    public static final String INTERNAL = "127.0.0.1";

    private final HttpServer origin;
    private final HttpServer internal;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, HttpHandler> routes = new ConcurrentHashMap<>();
    private final List<String> served = new CopyOnWriteArrayList<>();
    private final List<String> internalHits = new CopyOnWriteArrayList<>();

    private ImageOrigin(HttpServer origin, HttpServer internal) {
        this.origin = origin;
        this.internal = internal;
        origin.createContext("/", exchange -> {
            served.add(exchange.getRequestHeaders().getFirst("Host") + " " + exchange.getRequestURI().getPath());
            HttpHandler h = routes.get(exchange.getRequestURI().getPath());
            try (exchange) {
                if (h == null) {
                    exchange.sendResponseHeaders(404, -1);
                } else {
                    h.handle(exchange);
                }
            } catch (IOException e) {
                // the client went away (a cut-off fetch): nothing to answer
            }
        });
        internal.createContext("/", exchange -> {
            internalHits.add(exchange.getRequestHeaders().getFirst("Host") + " " + exchange.getRequestURI().getPath());
            try (exchange) {
                byte[] secret = "internal secret".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                exchange.sendResponseHeaders(200, secret.length);
                exchange.getResponseBody().write(secret);
            }
        });
        origin.setExecutor(threads);
        internal.setExecutor(threads);
        origin.start();
        internal.start();
    }

    /** Starts both servers on one free port. */
    public static ImageOrigin start() {
        for (int attempt = 0; ; attempt++) {
            HttpServer origin = null;
            try {
                origin = HttpServer.create(new InetSocketAddress(PUBLIC, 0), 64);
                int port = origin.getAddress().getPort();
                HttpServer internal = HttpServer.create(new InetSocketAddress(INTERNAL, port), 64);
                return new ImageOrigin(origin, internal);
            } catch (BindException e) {
                origin.stop(0);
                if (attempt > 20) {
                    throw new UncheckedIOException(e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    public int port() {
        return origin.getAddress().getPort();
    }

    /** http://{@code host}:port{@code path}: the host may be a name the test's DNS resolves. */
    public String url(String host, String path) {
        return "http://" + host + ":" + port() + path;
    }

    /** A URL of the public stand-in by its address. */
    public String url(String path) {
        return url(PUBLIC, path);
    }

    public ImageOrigin route(String path, HttpHandler handler) {
        routes.put(path, handler);
        return this;
    }

    /** {@code path} answers 200 with {@code body}. */
    public ImageOrigin serve(String path, String contentType, byte[] body) {
        return route(path, ex -> {
            ex.getResponseHeaders().set("Content-Type", contentType);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        });
    }

    /** {@code path} answers 200 with {@code body} gzip-encoded on the wire ({@code Content-Encoding: gzip}). */
    public ImageOrigin serveGzipped(String path, String contentType, byte[] body) {
        byte[] gzipped = gzip(body);
        return route(path, ex -> {
            ex.getResponseHeaders().set("Content-Type", contentType);
            ex.getResponseHeaders().set("Content-Encoding", "gzip");
            ex.sendResponseHeaders(200, gzipped.length);
            ex.getResponseBody().write(gzipped);
        });
    }

    /** {@code path} answers {@code status} with a Location of {@code location}. */
    public ImageOrigin redirect(String path, int status, String location) {
        return route(path, ex -> {
            ex.getResponseHeaders().set("Location", location);
            ex.sendResponseHeaders(status, -1);
        });
    }

    /** {@code path} answers {@code status} with a short text body. */
    public ImageOrigin status(String path, int status) {
        return route(path, ex -> {
            byte[] text = ("status " + status).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(status, text.length);
            ex.getResponseBody().write(text);
        });
    }

    /** "<Host header> <path>" of every request the public stand-in received. */
    public List<String> served() {
        return List.copyOf(served);
    }

    /** "<Host header> <path>" of every request the internal service received: none, in every test. */
    public List<String> internalHits() {
        return List.copyOf(internalHits);
    }

    /** The bytes the wire carries for {@code body} gzip-encoded. */
    public static byte[] gzip(byte[] body) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (OutputStream z = new GZIPOutputStream(out)) {
            z.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        origin.stop(0);
        internal.stop(0);
        threads.shutdownNow();
    }
}
