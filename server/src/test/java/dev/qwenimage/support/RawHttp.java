package dev.qwenimage.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket with exactly the bytes a test writes: for the requests
 * {@code java.net.http} refuses to send (bad paths, NUL, conflicting lengths, oversized headers)
 * and for clients that send slowly.
 */
public final class RawHttp implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An answer as read off the wire; {@code json} is null when the body is not JSON. */
    public record Response(int status, Map<String, String> headers, String body, JsonNode json) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    /** A byte read while waiting for an answer to begin, given back to the next read. */
    private int pushedBack = -1;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** A connection to the server at {@code baseUrl} (http://host:port). */
    public static RawHttp connect(String baseUrl) {
        URI uri = URI.create(baseUrl);
        try {
            Socket s = new Socket(uri.getHost(), uri.getPort());
            s.setSoTimeout(10_000);
            return new RawHttp(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code request} on a new connection and reads one answer. */
    public static Response exchange(String baseUrl, String request) {
        return exchange(baseUrl, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public static Response exchange(String baseUrl, byte[] request) {
        try (RawHttp http = connect(baseUrl)) {
            http.send(request);
            return http.read(request.length >= 4 && new String(request, 0, 4, StandardCharsets.ISO_8859_1).equals("HEAD"));
        }
    }

    public void send(String bytes) {
        send(bytes.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends {@code bytes} one at a time, {@code pause} apart, as a slow client would, and stops as
     * soon as the server has begun to answer (or stopped reading). Returns how many were sent.
     */
    public int trickle(String bytes, Duration pause) {
        byte[] b = bytes.getBytes(StandardCharsets.ISO_8859_1);
        try {
            for (int i = 0; i < b.length; i++) {
                if (answerStarted(pause)) {
                    return i;
                }
                out.write(b[i]);
                out.flush();
            }
            return b.length;
        } catch (IOException e) {
            return -1; // the server closed the connection while we were sending
        }
    }

    /** Waits up to {@code d} for the first byte of an answer, without consuming it. */
    private boolean answerStarted(Duration d) throws IOException {
        if (in.available() > 0) {
            return true;
        }
        socket.setSoTimeout((int) Math.max(1, d.toMillis()));
        try {
            int c = in.read();
            if (c >= 0) {
                pushedBack = c;
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } finally {
            socket.setSoTimeout(10_000);
        }
    }

    private int readByte() throws IOException {
        if (pushedBack >= 0) {
            int c = pushedBack;
            pushedBack = -1;
            return c;
        }
        return in.read();
    }

    /** Reads one answer: status line, headers, and a body of Content-Length bytes (none for a HEAD). */
    public Response read(boolean head) {
        try {
            ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int c = readByte();
                if (c < 0) {
                    throw new IOException("connection closed before an answer; got: " + headBytes.toString(StandardCharsets.ISO_8859_1));
                }
                headBytes.write(c);
                matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
            }
            String[] lines = headBytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
                }
            }
            int length = head ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] body = new byte[length];
            for (int i = 0; i < length; i++) {
                int c = readByte();
                if (c < 0) {
                    throw new IOException("connection closed inside the body");
                }
                body[i] = (byte) c;
            }
            String text = new String(body, StandardCharsets.UTF_8);
            JsonNode json = null;
            if (headers.getOrDefault("content-type", "").startsWith("application/json") && length > 0) {
                json = JSON.readTree(body);
            }
            return new Response(status, headers, text, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the server closes the connection within {@code within} (nothing more arrives, then end of stream). */
    public boolean closedBy(Duration within) {
        try {
            socket.setSoTimeout((int) within.toMillis());
            return readByte() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
