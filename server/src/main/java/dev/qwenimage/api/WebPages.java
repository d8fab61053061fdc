package dev.qwenimage.api;

import io.javalin.http.Context;
import io.javalin.http.Handler;
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
 * The browser pages: the playground at {@code /} and the admin page at {@code /admin}. Plain HTML,
 * CSS and JavaScript modules from the classpath (no build step, nothing fetched from elsewhere);
 * both pages take their scripts, style sheets and icon from one asset set at
 * {@code /assets/<version>/<file>}.
 *
 * <p>A page itself is always revalidated ({@code no-cache} with an ETag), and it names its assets
 * under a version derived from their content, so the assets can be cached for good: a new release
 * changes the version and with it every asset URL. Everything is read once at start-up.
 */
final class WebPages {
    static final String RESOURCES = "web/";
    static final List<String> ASSETS = List.of(
            "app.js", "api.js", "sizes.js", "gallery.js", "format.js", "edit.js", "playground.css", "favicon.svg",
            "admin.js", "admin-api.js", "keys.js", "usage-chart.js", "admin.css");

    /** A page: a file under {@value #RESOURCES}, a template where {{assets}} is the assets' base path, and its policy. */
    record Page(String file, String contentSecurityPolicy) {
    }

    /**
     * Scripts only from this server (so no inline handlers), API calls only to this server;
     * images from anywhere over http(s), because image links may point to an S3 bucket.
     */
    static final Page PLAYGROUND = new Page("index.html", policy("img-src 'self' http: https: data:"));
    /** As the playground, but the admin page shows no pictures: images only from this server. */
    static final Page ADMIN = new Page("admin.html", policy("img-src 'self' data:"));
    static final List<Page> PAGES = List.of(PLAYGROUND, ADMIN);

    private static final String PAGE_CACHE = "no-cache";
    private static final String ASSET_CACHE = "public, max-age=31536000, immutable";

    private static String policy(String images) {
        return String.join("; ", "default-src 'self'", "script-src 'self'", "style-src 'self'", images,
                "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'");
    }

    private record File(byte[] body, String contentType, String etag) {
    }

    private final String version;
    private final Map<Page, File> pages;
    private final Map<String, File> assets;

    private WebPages(String version, Map<Page, File> pages, Map<String, File> assets) {
        this.version = version;
        this.pages = pages;
        this.assets = assets;
    }

    /** Reads the pages and their assets from the classpath; a missing file is a packaging error. */
    static WebPages load() {
        Map<String, File> assets = new LinkedHashMap<>();
        MessageDigest all = sha256();
        for (String name : ASSETS) {
            byte[] body = read(name);
            all.update(name.getBytes(StandardCharsets.UTF_8));
            all.update(body);
            assets.put(name, file(body, contentType(name)));
        }
        String version = HexFormat.of().formatHex(all.digest()).substring(0, 12);
        Map<Page, File> pages = new LinkedHashMap<>();
        for (Page page : PAGES) {
            String html = new String(read(page.file()), StandardCharsets.UTF_8).replace("{{assets}}", assetBase(version));
            pages.put(page, file(html.getBytes(StandardCharsets.UTF_8), contentType(page.file())));
        }
        return new WebPages(version, pages, assets);
    }

    /** The path every asset URL starts with, e.g. {@code /assets/3f2a9c01b7de}. */
    static String assetBase(String version) {
        return "/assets/" + version;
    }

    String version() {
        return version;
    }

    /** The handler of GET and HEAD for {@code page}. */
    Handler page(Page page) {
        File file = pages.get(page);
        return ctx -> {
            ctx.header("Content-Security-Policy", page.contentSecurityPolicy());
            ctx.header("Referrer-Policy", "no-referrer");
            send(ctx, file, PAGE_CACHE);
        };
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
        try (InputStream in = WebPages.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the web page file " + resource + " is missing from the classpath");
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
