package dev.qwenimage.api;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The browser playground: plain HTML, CSS and JavaScript modules from the classpath (no build step,
 * nothing fetched from elsewhere), served at {@code /} and {@code /playground/<version>/<file>}.
 *
 * <p>The page itself is always revalidated ({@code no-cache} with an ETag), and it names its assets
 * under a version derived from their content, so the assets can be cached for good: a new release
 * changes the version and with it every asset URL. Everything is read once at start-up.
 */
final class Playground {
    static final String RESOURCES = "playground/";
    /** The files under {@value #RESOURCES}; the page is a template where {{assets}} is the assets' base path. */
    static final String PAGE = "index.html";
    static final List<String> ASSETS = List.of("app.js", "api.js", "sizes.js", "gallery.js", "format.js", "playground.css", "favicon.svg");

    private static final String PAGE_CACHE = "no-cache";
    private static final String ASSET_CACHE = "public, max-age=31536000, immutable";
    /**
     * Scripts only from this server (so no inline handlers), images from anywhere over http(s)
     * because image links may point to an S3 bucket, API calls only to this server.
     */
    private static final String CONTENT_SECURITY_POLICY = String.join("; ",
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' http: https: data:",
            "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'");

    private record File(byte[] body, String contentType, String etag) {
    }

    private final String version;
    private final File page;
    private final Map<String, File> assets;

    private Playground(String version, File page, Map<String, File> assets) {
        this.version = version;
        this.page = page;
        this.assets = assets;
    }

    /** Reads the playground's files from the classpath; a missing file is a packaging error. */
    static Playground load() {
        Map<String, File> assets = new LinkedHashMap<>();
        MessageDigest all = sha256();
        for (String name : ASSETS) {
            byte[] body = read(name);
            all.update(name.getBytes(StandardCharsets.UTF_8));
            all.update(body);
            assets.put(name, file(body, contentType(name)));
        }
        String version = HexFormat.of().formatHex(all.digest()).substring(0, 12);
        String html = new String(read(PAGE), StandardCharsets.UTF_8).replace("{{assets}}", assetBase(version));
        return new Playground(version, file(html.getBytes(StandardCharsets.UTF_8), contentType(PAGE)), assets);
    }

    /** The path every asset URL starts with, e.g. {@code /playground/3f2a9c01b7de}. */
    static String assetBase(String version) {
        return "/playground/" + version;
    }

    String version() {
        return version;
    }

    void page(Context ctx) {
        ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        ctx.header("Referrer-Policy", "no-referrer");
        send(ctx, page, PAGE_CACHE);
    }

    void asset(Context ctx) {
        File file = ctx.pathParam("version").equals(version) ? assets.get(ctx.pathParam("file")) : null;
        if (file == null) {
            throw new ApiError(404, "NOT_FOUND", "no such endpoint: " + ctx.method() + " " + ctx.path());
        }
        send(ctx, file, ASSET_CACHE);
    }

    private static void send(Context ctx, File file, String cacheControl) {
        ctx.header("Cache-Control", cacheControl);
        ctx.header("ETag", file.etag());
        ctx.header("X-Content-Type-Options", "nosniff");
        if (matches(ctx.header("If-None-Match"), file.etag())) {
            ctx.status(304);
            return;
        }
        ctx.status(200).contentType(file.contentType()).result(file.body());
    }

    /** If-None-Match holds one or more entity tags (possibly weak) or {@code *}. */
    private static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String tag : ifNoneMatch.split(",")) {
            String t = tag.strip();
            if (t.equals("*") || t.equals(etag) || t.equals("W/" + etag)) {
                return true;
            }
        }
        return false;
    }

    private static File file(byte[] body, String contentType) {
        return new File(body, contentType, "\"" + HexFormat.of().formatHex(sha256().digest(body)).substring(0, 16) + "\"");
    }

    static String contentType(String name) {
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return switch (ext) {
            case "html" -> "text/html;charset=utf-8";
            case "js" -> "text/javascript;charset=utf-8";
            case "css" -> "text/css;charset=utf-8";
            case "svg" -> "image/svg+xml";
            default -> throw new IllegalArgumentException("no content type known for " + name);
        };
    }

    private static byte[] read(String name) {
        String resource = RESOURCES + name;
        try (InputStream in = Playground.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the playground file " + resource + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
