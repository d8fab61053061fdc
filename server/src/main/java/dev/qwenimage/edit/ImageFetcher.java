package dev.qwenimage.edit;

import dev.qwenimage.outbound.OutboundHttp;
import dev.qwenimage.outbound.OutboundRequest;
import dev.qwenimage.outbound.OutboundResult;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Fetches an edit's input image from the URL a client gave, through the service's outbound client
 * (the same guard as webhooks: the address checked is the address connected to). Redirects are
 * followed by hand, at most {@value #MAX_REDIRECTS}, each target checked again as a new request;
 * one deadline covers the whole fetch, redirects included; the body is cut off past the size
 * limit while it streams. Every failure is an {@link ImageRejected} that says what happened.
 */
public final class ImageFetcher {
    public static final int MAX_REDIRECTS = 3;
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

    private final OutboundHttp http;
    private final Duration deadline;
    private final long maxBytes;

    public ImageFetcher(OutboundHttp http, Duration deadline, long maxBytes) {
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
                throw failed("the image at " + shown(url) + " did not arrive within " + deadline.toSeconds() + " s");
            }
            OutboundResult result;
            try {
                result = http.send(OutboundRequest.get(current, Map.of("Accept", "image/jpeg, image/png, image/webp, */*;q=0.1"),
                        Duration.ofNanos(left), (int) Math.min(Integer.MAX_VALUE - 8, maxBytes)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failed("fetching the image was interrupted");
            }
            switch (result) {
                case OutboundResult.Refused r -> throw failed("the image URL " + shown(current) + " may not be fetched: " + r.reason());
                case OutboundResult.Unresolved r -> throw failed("the image URL's host " + host(current) + " does not resolve");
                case OutboundResult.Failed r -> throw failed("the image could not be fetched from " + shown(current) + ": " + r.reason()
                        .replace("no answer within", "it did not arrive within"));
                case OutboundResult.Answered a -> {
                    if (a.status() >= 300 && a.status() < 400 && a.status() != 304) {
                        String location = first(a.headers().get("location"));
                        if (location == null) {
                            throw failed("the image URL " + shown(current) + " answered " + a.status() + " without a Location");
                        }
                        if (hop >= MAX_REDIRECTS) {
                            throw failed("the image URL redirected more than " + MAX_REDIRECTS + " times; give the image's own URL");
                        }
                        try {
                            current = URI.create(current).resolve(location.strip()).toString();
                        } catch (IllegalArgumentException e) {
                            throw failed("the image URL redirected to a malformed location");
                        }
                        continue;
                    }
                    if (!a.ok()) {
                        throw failed("the image URL " + shown(current) + " answered HTTP " + a.status()
                                + (a.status() == 404 ? " (not found)" : a.status() == 403 ? " (forbidden)" : "")
                                + "; give a URL anyone can GET without signing in");
                    }
                    if (a.truncated()) {
                        throw new ImageRejected(ImageRejected.IMAGE_TOO_LARGE, "the image at " + shown(url) + " is larger than "
                                + dev.qwenimage.health.Bytes.human(maxBytes) + ", the most an edit takes: give a smaller file");
                    }
                    return a.body();
                }
            }
        }
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
