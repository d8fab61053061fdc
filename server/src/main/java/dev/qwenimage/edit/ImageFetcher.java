package dev.qwenimage.edit;

import dev.qwenimage.health.Bytes;
import dev.qwenimage.outbound.OutboundHttp;
import dev.qwenimage.outbound.OutboundRequest;
import dev.qwenimage.outbound.OutboundResult;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Fetches an edit's input image from the URL a client gave, through the service's one outbound
 * client (the guard webhooks go through too: the address checked is the address connected to, one
 * DNS resolution per connection). Redirects are followed by hand, at most {@value #MAX_REDIRECTS},
 * each target checked again as a new request; one deadline covers the whole fetch, redirects,
 * headers and the body's last byte included (a server that drips its body forever is cut off at
 * it); the body is cut off past the size limit while it streams (and refused unread when its
 * {@code Content-Length} announces more). Every failure is an {@link ImageRejected} that says what
 * happened and what to do: {@code IMAGE_FETCH_FAILED}, or {@code IMAGE_TOO_LARGE} for the size.
 */
public final class ImageFetcher {
    public static final int MAX_REDIRECTS = 3;
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);
    private static final String ACCEPT = "image/jpeg, image/png, image/webp, */*;q=0.1";
    private static final String INSTEAD = "give a public http(s) URL of the image, or send the image itself as base64";

    private final OutboundHttp http;
    private final Duration deadline;
    private final long maxBytes;

    /**
     * @param deadline the whole fetch, redirects included
     * @param maxBytes the most bytes an image may have; a longer body is not read past it
     */
    public ImageFetcher(OutboundHttp http, Duration deadline, long maxBytes) {
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("the deadline must be positive");
        }
        this.http = http;
        this.deadline = deadline;
        this.maxBytes = maxBytes;
    }

    /** The bytes at {@code url}. */
    public byte[] fetch(String url) {
        long end = System.nanoTime() + deadline.toNanos();
        String current = url;
        for (int hop = 0; ; hop++) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw late(url);
            }
            OutboundResult result;
            try {
                result = http.send(OutboundRequest.get(current, Map.of("Accept", ACCEPT), Duration.ofNanos(left),
                        (int) Math.min(Integer.MAX_VALUE - 8, maxBytes)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failed("fetching the image was interrupted; send the request again");
            }
            switch (result) {
                case OutboundResult.Refused r -> throw failed("the image URL " + shown(current) + " may not be fetched: "
                        + r.reason() + "; " + INSTEAD);
                case OutboundResult.Unresolved r -> throw failed("the image URL's host " + host(current)
                        + " does not resolve; check the URL, or send the image itself as base64");
                case OutboundResult.Failed r -> {
                    if (System.nanoTime() - end >= -1_000_000L) {
                        throw late(url);
                    }
                    throw failed("the image could not be fetched from " + shown(current) + ": " + r.reason()
                            + "; check that the URL works, or send the image itself as base64");
                }
                case OutboundResult.Answered a -> {
                    if (a.status() >= 300 && a.status() < 400 && a.status() != 304) {
                        String location = first(a.headers().get("location"));
                        if (location == null || location.isBlank()) {
                            throw failed("the image URL " + shown(current) + " answered " + a.status() + " without a Location; "
                                    + "give the image's own URL");
                        }
                        if (hop >= MAX_REDIRECTS) {
                            throw failed("the image URL " + shown(url) + " redirected more than " + MAX_REDIRECTS
                                    + " times; give the image's own URL (where the redirects end)");
                        }
                        try {
                            current = URI.create(current).resolve(location.strip()).toString();
                        } catch (IllegalArgumentException e) {
                            throw failed("the image URL " + shown(current) + " redirected to a malformed location; "
                                    + "give the image's own URL");
                        }
                        continue;
                    }
                    if (!a.ok()) {
                        throw failed("the image URL " + shown(current) + " answered HTTP " + a.status()
                                + (a.status() == 404 ? " (not found)" : a.status() == 403 ? " (forbidden)"
                                : a.status() == 401 ? " (unauthorized)" : a.status() >= 500 ? " (a server error)" : "")
                                + "; give a URL anyone can GET without signing in, or send the image itself as base64");
                    }
                    if (a.truncated()) {
                        throw new ImageRejected(ImageRejected.IMAGE_TOO_LARGE, "the image at " + shown(url) + " is larger than "
                                + Bytes.human(maxBytes) + ", the most an edit takes: give a smaller file");
                    }
                    return a.body();
                }
            }
        }
    }

    private ImageRejected late(String url) {
        return failed("the image at " + shown(url) + " did not arrive in full within " + seconds(deadline)
                + "; give a URL that answers faster, or send the image itself as base64");
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    private static String host(String url) {
        try {
            String h = URI.create(url).getHost();
            return h == null ? "(none)" : h;
        } catch (IllegalArgumentException e) {
            return "(unreadable)";
        }
    }

    /** The URL as messages show it: without its query (which may hold a signature) and not too long. */
    private static String shown(String url) {
        String s = url;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q) + "?…";
        }
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    private static ImageRejected failed(String message) {
        return new ImageRejected(ImageRejected.IMAGE_FETCH_FAILED, message);
    }
}
