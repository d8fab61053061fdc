package dev.qwenimage.sdk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;

/**
 * The picture an {@link EditRequest} edits: a link the server fetches, or the file's bytes, which
 * travel in the request as base64 (the API's {@code image} field takes either).
 */
public sealed interface EditImage {

    /** The {@code image} field's value: the URL, or the bytes in base64. */
    String wireValue();

    /** An {@code http(s)} link to the picture; the server fetches it. */
    record Url(URI url) implements EditImage {
        public Url {
            Objects.requireNonNull(url, "url");
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
                throw new IllegalArgumentException("an image URL is http:// or https:// with a host; got " + url);
            }
        }

        @Override
        public String wireValue() {
            return url.toString();
        }
    }

    /** The picture's file as bytes (JPEG, PNG or WebP; the server reads the format from them). */
    record Bytes(byte[] bytes) implements EditImage {
        public Bytes {
            Objects.requireNonNull(bytes, "bytes");
            if (bytes.length == 0) {
                throw new IllegalArgumentException("the image is empty");
            }
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public String wireValue() {
            return Base64.getEncoder().encodeToString(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Bytes[" + bytes.length + " bytes]";
        }
    }

    /** A link the server fetches. */
    static EditImage url(String url) {
        Objects.requireNonNull(url, "url");
        URI uri;
        try {
            uri = URI.create(url.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a URL: " + url, e);
        }
        return new Url(uri);
    }

    /** The file's bytes. */
    static EditImage bytes(byte[] bytes) {
        return new Bytes(bytes);
    }

    /**
     * The bytes of the file at {@code file}, read now.
     *
     * @throws UncheckedIOException when it cannot be read
     */
    static EditImage file(Path file) {
        Objects.requireNonNull(file, "file");
        try {
            return new Bytes(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the image " + file + ": " + e.getMessage(), e);
        }
    }
}
