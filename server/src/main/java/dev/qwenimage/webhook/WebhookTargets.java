package dev.qwenimage.webhook;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which webhook URLs the service will call. By default only public addresses: a URL whose host
 * is, or resolves to, a loopback, private (RFC 1918, unique-local), link-local, CGNAT or
 * unspecified address is refused, so that a client cannot make the service probe its own network
 * (SSRF). Operators allow-list hosts or CIDR ranges that are meant to be reachable. The check runs
 * at submit (syntax and literal addresses) and again before every delivery (after DNS
 * resolution, so a name that later resolves inward is caught).
 */
public final class WebhookTargets {
    private final List<String> allowedHosts;
    private final List<Cidr> allowedRanges;

    /** @param allowList host names (exact, case-insensitive) and CIDR ranges (e.g. 10.0.0.0/8) always allowed */
    public WebhookTargets(List<String> allowList) {
        this.allowedHosts = allowList.stream().filter(a -> !a.contains("/")).map(a -> a.toLowerCase(Locale.ROOT)).toList();
        this.allowedRanges = allowList.stream().filter(a -> a.contains("/")).map(Cidr::parse).toList();
    }

    /** The problem with {@code url} as a webhook target, judged without DNS; empty when acceptable. */
    public Optional<String> problemWithoutLookup(String url) {
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            return Optional.of("webhook url is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.of("webhook url must start with https:// or http://");
        }
        String host = uri.getHost();
        if (host == null || host.isBlank()) {
            return Optional.of("webhook url has no host");
        }
        if (uri.getUserInfo() != null) {
            return Optional.of("webhook url must not carry user credentials");
        }
        if (url.length() > 2048) {
            return Optional.of("webhook url is longer than 2048 characters");
        }
        String h = normalise(host);
        if (allowedHosts.contains(h)) {
            return Optional.empty();
        }
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return Optional.of("webhook url points at this machine (" + host + "); such targets are refused unless allow-listed");
        }
        if (isLiteralAddress(h)) {
            try {
                return problemWithAddress(host, InetAddress.getByName(h));
            } catch (UnknownHostException e) {
                return Optional.of("webhook url has an invalid address " + host);
            }
        }
        return Optional.empty();
    }

    /**
     * The problem with delivering to {@code uri} now: everything {@link #problemWithoutLookup}
     * checks, plus every address its host resolves to. Empty when acceptable.
     */
    public Optional<String> problemAfterLookup(URI uri) {
        Optional<String> syntax = problemWithoutLookup(uri.toString());
        if (syntax.isPresent() || allowedHosts.contains(normalise(uri.getHost()))) {
            return syntax;
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(normalise(uri.getHost()))) {
                Optional<String> p = problemWithAddress(uri.getHost(), a);
                if (p.isPresent()) {
                    return p;
                }
            }
            return Optional.empty();
        } catch (UnknownHostException e) {
            return Optional.of("webhook host " + uri.getHost() + " does not resolve");
        }
    }

    private Optional<String> problemWithAddress(String host, InetAddress a) {
        for (Cidr c : allowedRanges) {
            if (c.contains(a)) {
                return Optional.empty();
            }
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress() || isUniqueLocal(a) || isCarrierGradeNat(a)) {
            return Optional.of("webhook url " + host + " resolves to the internal address " + a.getHostAddress()
                    + "; such targets are refused unless allow-listed (QWEN_IMAGE_WEBHOOK_ALLOW)");
        }
        return Optional.empty();
    }

    private static String normalise(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return IDN.toASCII(h, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
    }

    private static boolean isLiteralAddress(String h) {
        return h.matches("[0-9.]+") || h.contains(":");
    }

    private static boolean isUniqueLocal(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 16 && (b[0] & 0xfe) == 0xfc;
    }

    private static boolean isCarrierGradeNat(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
    }

    /** An address range such as 10.0.0.0/8 or fd00::/8. */
    record Cidr(byte[] network, int bits) {
        static Cidr parse(String text) {
            String[] parts = text.strip().split("/", 2);
            try {
                byte[] net = InetAddress.getByName(parts[0]).getAddress();
                int bits = Integer.parseInt(parts[1]);
                if (bits < 0 || bits > net.length * 8) {
                    throw new IllegalArgumentException("prefix length out of range in " + text);
                }
                return new Cidr(net, bits);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("not a CIDR range: " + text);
            }
        }

        boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != network.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((b[i / 8] & mask) != (network[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
