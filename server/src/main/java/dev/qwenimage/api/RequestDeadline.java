package dev.qwenimage.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;

/**
 * A deadline on receiving each request in full, headers and body together, counted from its
 * first byte. The idle timeout alone lets a client hold a connection and a handler for ever by
 * sending a byte every few seconds (slowloris); this cuts such a request once the deadline has
 * passed. A request still in its headers is answered 408 here and its connection closed; one in
 * its body has the timeout delivered to the handler reading it, which answers 408 like any
 * stalled body (see {@link RequestBodies}). A request whose body is in is never cut, however long
 * its answer takes (the OpenAI-compatible door waits minutes for an image).
 *
 * <p>It watches Jetty's HTTP/1.1 connections: every tenth of the deadline (at most a second) it
 * reads each one's parser state and the time its current request began.
 */
final class RequestDeadline extends AbstractLifeCycle {
    private final Server server;
    private final Duration timeout;
    private final long timeoutNanos;
    private final Map<HttpConnection, Watch> open = new ConcurrentHashMap<>();
    private final Connection.Listener tracker = new Connection.Listener() {
        @Override
        public void onOpened(Connection connection) {
            if (connection instanceof HttpConnection http) {
                open.put(http, new Watch());
            }
        }

        @Override
        public void onClosed(Connection connection) {
            open.remove(connection);
        }
    };
    private ScheduledExecutorService sweeper;

    /** What the sweeps know of one connection; only the sweeper thread reads and writes it. */
    private static final class Watch {
        boolean cut;
        long cutRequestBegan;
        /** The request seen past its deadline on the last sweep: one is cut only when two sweeps agree. */
        long lateRequestBegan;
    }

    RequestDeadline(Server server, Duration timeout) {
        this.server = server;
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    protected void doStart() {
        for (Connector connector : server.getConnectors()) {
            connector.addEventListener(tracker);
        }
        sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("request-deadline").daemon(true).factory());
        long period = Math.clamp(timeout.toMillis() / 10, 50, 1000);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        sweeper.shutdownNow();
        for (Connector connector : server.getConnectors()) {
            connector.removeEventListener(tracker);
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        open.forEach((connection, watch) -> {
            try {
                check(connection, watch, now);
            } catch (RuntimeException e) {
                connection.getEndPoint().close(e);
            }
        });
    }

    private void check(HttpConnection connection, Watch watch, long now) {
        HttpParser parser = connection.getParser();
        if (parser.isIdle()) {
            return; // between requests, or this one is in and its answer is on its way
        }
        // the parser's fields are the connection thread's, read here without a lock: a request must
        // look late on two sweeps in a row, with the same start, before it is cut (a torn read of a
        // request that just began, its start still 0, never is)
        long began = parser.getBeginNanoTime();
        long age = now - began;
        if (began == 0 || age < timeoutNanos) {
            return;
        }
        if (watch.lateRequestBegan != began) {
            watch.lateRequestBegan = began;
            return;
        }
        if (watch.cut && watch.cutRequestBegan == began) {
            if (age >= 2 * timeoutNanos) {
                connection.getEndPoint().close(); // told once, and the request is still not done
            }
            return;
        }
        watch.cut = true;
        watch.cutRequestBegan = began;
        if (connection.getHttpChannel().getRequest() == null) {
            answerAndClose(connection.getEndPoint());
        } else if (connection.onIdleExpired(new TimeoutException("the request did not arrive in full within " + timeout))) {
            connection.getEndPoint().close(); // no handler to tell: nothing more to say on it
        }
    }

    /** The 408 for a request still in its headers: no request exists yet for Jetty to answer, so it is written here. */
    private void answerAndClose(EndPoint endPoint) {
        JettyErrors.Answer answer = JettyErrors.timeout(timeout);
        byte[] body = ErrorBody.json(null, 408, answer.reason(), answer.message(), Map.of());
        byte[] head = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        endPoint.write(Callback.from(() -> {
            // half-close first, so that the client reads the answer before the connection goes
            endPoint.shutdownOutput();
            try {
                sweeper.schedule(() -> endPoint.close(), 1, TimeUnit.SECONDS);
            } catch (RejectedExecutionException stopping) {
                endPoint.close();
            }
        }, endPoint::close), ByteBuffer.wrap(head), ByteBuffer.wrap(body));
    }
}
