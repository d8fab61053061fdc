package dev.qwenimage.api;

import dev.qwenimage.ops.Logging;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answers Jetty writes itself, before or around the routes: a request line, path or header
 * the parser refuses (400), a URI or headers over the size limit (414, 431), an HTTP version or
 * protocol it does not serve (505, 426), an {@code Expect} it cannot meet (417), a failure no
 * route caught (500). Each gets the contract's body from {@link ErrorBody#json}, for every method
 * and whatever the {@code Accept} header says, instead of Jetty's HTML page or an empty body.
 */
final class JettyErrors implements Request.Handler {
    private static final Logger log = LoggerFactory.getLogger(JettyErrors.class);

    /** A stable reason, a message for people and the body's metadata. */
    record Answer(String reason, String message, Map<String, Object> metadata) {
        Answer(String reason, String message) {
            this(reason, message, Map.of());
        }
    }

    /**
     * The answer to a request that names one thing twice: HttpApi's check of the headers it reads
     * and Jetty's own refusal of two Host headers or two Content-Lengths give the same one.
     */
    static Answer duplicate(String header) {
        return new Answer("DUPLICATE_HEADER", "the request has more than one " + header
                + " header; send it once (a proxy and this service could otherwise read different ones)", Map.of("header", header));
    }

    private final Duration requestTimeout;

    JettyErrors(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String detail = request.getAttribute(ErrorHandler.ERROR_MESSAGE) instanceof String s ? s : null;
        Throwable cause = request.getAttribute(ErrorHandler.ERROR_EXCEPTION) instanceof Throwable t ? t : null;
        if (cause instanceof HttpException http) {
            status = http.getCode();
            if (detail == null) {
                detail = http.getReason();
            }
        } else if (isTimeout(cause)) {
            status = HttpStatus.REQUEST_TIMEOUT_408;
        } else if (status < 400) {
            status = HttpStatus.INTERNAL_SERVER_ERROR_500;
        }
        response.setStatus(status);
        if (HttpStatus.hasNoBody(status)) {
            callback.succeeded();
            return true;
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body(request, status, detail, cause)), callback);
        return true;
    }

    /** The error body for {@code status}; a 500 is logged with an id the message quotes. */
    private byte[] body(Request request, int status, String detail, Throwable cause) {
        Answer answer = answer(status, detail, request);
        if (status == HttpStatus.INTERNAL_SERVER_ERROR_500) {
            String errorId = Logging.errorId();
            log.error("HTTP 500 on {} {} (error id {})", request.getMethod(), request.getHttpURI().getPath(), errorId, cause);
            answer = new Answer(answer.reason(), answer.message() + "; quote error id " + errorId + " when reporting it");
        }
        return ErrorBody.json(request.getHttpURI().getPath(), status, answer.reason(), answer.message(), answer.metadata());
    }

    /**
     * A handler in front of the routes that gives a body to an error answer that would leave
     * without one: a failure Javalin catches itself (an exception while it writes a result after
     * the route returned, a read that timed out) sets the status and writes nothing.
     */
    Handler.Wrapper emptyBodies() {
        return new Handler.Wrapper() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return super.handle(request, new Response.Wrapper(request, response) {
                    private boolean wrote;

                    @Override
                    public void write(boolean last, ByteBuffer content, Callback written) {
                        ByteBuffer out = content;
                        int status = getStatus();
                        if (!wrote && last && (content == null || !content.hasRemaining()) && !isCommitted() && status >= 400
                                && !HttpStatus.hasNoBody(status)) {
                            byte[] body = body(request, status, null, null);
                            getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                            getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                            out = ByteBuffer.wrap(body);
                        }
                        wrote |= out != null && out.hasRemaining();
                        super.write(last, out, written);
                    }
                }, callback);
            }
        };
    }

    private Answer answer(int status, String detail, Request request) {
        int headerLimit = request.getConnectionMetaData().getHttpConfiguration().getRequestHeaderSize();
        String generic = HttpStatus.getMessage(status);
        String why = detail == null || detail.isBlank() || detail.equalsIgnoreCase(generic) ? "" : " (" + sanitize(detail) + ")";
        String lower = detail == null ? "" : detail.toLowerCase(Locale.ROOT);
        if (status == HttpStatus.BAD_REQUEST_400 && lower.contains("host") && (lower.contains("duplicate") || lower.contains("multiple"))) {
            return duplicate("Host");
        }
        if (status == HttpStatus.BAD_REQUEST_400 && lower.contains("content-length") && (lower.contains("duplicate") || lower.contains("multiple"))) {
            return duplicate("Content-Length");
        }
        return switch (status) {
            case HttpStatus.BAD_REQUEST_400 -> new Answer("BAD_REQUEST", "the request is not valid HTTP or its path is not "
                    + "allowed" + why + "; it was not processed");
            case HttpStatus.NOT_FOUND_404 -> new Answer("NOT_FOUND", "no such endpoint: " + request.getMethod() + " "
                    + sanitize(request.getHttpURI().getPath()));
            case HttpStatus.METHOD_NOT_ALLOWED_405 -> new Answer("METHOD_NOT_ALLOWED", request.getMethod()
                    + " is not allowed on " + sanitize(request.getHttpURI().getPath()));
            case HttpStatus.REQUEST_TIMEOUT_408 -> timeout(requestTimeout);
            case HttpStatus.PAYLOAD_TOO_LARGE_413 -> new Answer("PAYLOAD_TOO_LARGE", RequestBodies.tooLarge().getMessage());
            case HttpStatus.URI_TOO_LONG_414 -> new Answer("URI_TOO_LONG", "the request line (method, path and query) is "
                    + "longer than " + headerLimit + " bytes");
            case HttpStatus.UNSUPPORTED_MEDIA_TYPE_415 -> new Answer("UNSUPPORTED_MEDIA_TYPE",
                    "the body must be JSON: send Content-Type: application/json");
            case HttpStatus.EXPECTATION_FAILED_417 -> new Answer("EXPECTATION_FAILED", "the Expect header asks for something "
                    + "other than 100-continue, the only expectation this server meets");
            case HttpStatus.UPGRADE_REQUIRED_426 -> new Answer("UPGRADE_REQUIRED", "this server speaks HTTP/1.1 (and HTTP/1.0); "
                    + "send the request over HTTP/1.1");
            case HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431 -> new Answer("HEADERS_TOO_LARGE", "the request line and "
                    + "headers together are larger than " + headerLimit + " bytes");
            case HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505 -> new Answer("HTTP_VERSION_NOT_SUPPORTED",
                    "this server speaks HTTP/1.1 and HTTP/1.0" + why);
            case HttpStatus.SERVICE_UNAVAILABLE_503 -> new Answer("SERVICE_UNAVAILABLE", "the server cannot take the request "
                    + "now (it may be stopping); try again shortly");
            case HttpStatus.INTERNAL_SERVER_ERROR_500 -> new Answer("INTERNAL_ERROR", "internal error");
            default -> new Answer(generic.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_").replaceAll("^_|_$", ""),
                    generic + why);
        };
    }

    /** The answer to a request that did not arrive in full within the deadline (or stalled past the idle timeout). */
    static Answer timeout(Duration requestTimeout) {
        return new Answer("REQUEST_TIMEOUT", "the request did not arrive in full within " + seconds(requestTimeout)
                + " (headers and body together, or it stalled); send it again without pausing");
    }

    static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Jetty's detail, or a path, as safe text: printable, and short. */
    private static String sanitize(String s) {
        if (s == null) {
            return "";
        }
        String printable = s.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return printable.length() <= 200 ? printable : printable.substring(0, 200) + "…";
    }
}
