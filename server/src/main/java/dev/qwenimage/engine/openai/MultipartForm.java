package dev.qwenimage.engine.openai;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@code multipart/form-data} body (RFC 7578), as OpenAI's {@code POST /v1/images/edits} takes
 * it: text fields without a content type (read as UTF-8, as curl's {@code -F} sends them) and file
 * parts with a filename and their media type. The JDK client has no such body publisher.
 */
final class MultipartForm {
    private static final byte[] CRLF = {'\r', '\n'};

    private final String boundary;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    MultipartForm() {
        byte[] random = new byte[12];
        ThreadLocalRandom.current().nextBytes(random);
        this.boundary = "qwen-image-" + HexFormat.of().formatHex(random);
    }

    /** The request's Content-Type header, with this body's boundary. */
    String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    MultipartForm field(String name, String value) {
        head("Content-Disposition: form-data; name=\"" + quoted(name) + "\"");
        write(CRLF);
        write(value.getBytes(StandardCharsets.UTF_8));
        write(CRLF);
        return this;
    }

    MultipartForm file(String name, String filename, String mediaType, byte[] content) {
        head("Content-Disposition: form-data; name=\"" + quoted(name) + "\"; filename=\"" + quoted(filename) + "\"");
        line("Content-Type: " + mediaType);
        write(CRLF);
        write(content);
        write(CRLF);
        return this;
    }

    /** The body, closed by the final boundary. */
    byte[] toByteArray() {
        ByteArrayOutputStream all = new ByteArrayOutputStream(out.size() + boundary.length() + 8);
        all.writeBytes(out.toByteArray());
        all.writeBytes(("--" + boundary + "--").getBytes(StandardCharsets.US_ASCII));
        all.writeBytes(CRLF);
        return all.toByteArray();
    }

    private void head(String disposition) {
        line("--" + boundary);
        line(disposition);
    }

    private void line(String text) {
        write(text.getBytes(StandardCharsets.UTF_8));
        write(CRLF);
    }

    private void write(byte[] bytes) {
        out.writeBytes(bytes);
    }

    /** A name or filename inside quotes: RFC 7578 escapes a quote and line breaks as percent-encoding. */
    private static String quoted(String s) {
        return s.replace("\"", "%22").replace("\r", "%0D").replace("\n", "%0A");
    }
}
