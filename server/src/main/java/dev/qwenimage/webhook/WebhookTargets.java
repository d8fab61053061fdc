package dev.qwenimage.webhook;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

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

    /** What a look-up of a webhook target found just before a delivery. */
    public sealed interface Verdict {
        /** Deliver. */
        record Deliver() implements Verdict {}

        /** Never deliver to this URL: it is malformed or reaches inward. Final. */
        record Refused(String reason) implements Verdict {}

        /** The name does not resolve now (DNS outage, a record not yet published): try again later. */
        record Unresolved(String reason) implements Verdict {}
    }

    /**
     * Whether to deliver to {@code uri} now: everything {@link #problemWithoutLookup} checks, plus
     * every address its host resolves to.
     */
    public Verdict lookUp(URI uri) {
        Optional<String> syntax = problemWithoutLookup(uri.toString());
        if (syntax.isPresent()) {
            return new Verdict.Refused(syntax.get());
        }
        if (allowedHosts.contains(normalise(uri.getHost()))) {
            return new Verdict.Deliver();
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(normalise(uri.getHost()))) {
                Optional<String> p = problemWithAddress(uri.getHost(), a);
                if (p.isPresent()) {
                    return new Verdict.Refused(p.get());
                }
            }
            return new Verdict.Deliver();
        } catch (UnknownHostException e) {
            return new Verdict.Unresolved("webhook host " + uri.getHost() + " does not resolve");
        }
    }

    private Optional<String> problemWithAddress(String host, InetAddress a) {
        for (Cidr c : allowedRanges) {
            if (c.contains(a)) {
                return Optional.empty();
            }
        }
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress() || INTERNAL.stream().anyMatch(c -> c.contains(a)) || isNat64OfInternal(a)) {
            return Optional.of("webhook url " + host + " resolves to the internal address " + a.getHostAddress()
                    + "; such targets are refused unless allow-listed (QWEN_IMAGE_WEBHOOK_ALLOW)");
        }
        return Optional.empty();
    }

    /** Ranges that are not public beyond what {@link InetAddress}'s own tests cover. */
    private static final List<Cidr> INTERNAL = Stream.of(
            "0.0.0.0/8",        // "this network"
            "100.64.0.0/10",    // carrier-grade NAT
            "192.0.0.0/24",     // IETF protocol assignments
            "198.18.0.0/15",    // benchmarking
            "240.0.0.0/4",      // reserved, and the broadcast address
            "fc00::/7",         // unique-local
            "2001:db8::/32")    // documentation
            .map(Cidr::parse).toList();
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");

    /** A NAT64 address (64:ff9b::a.b.c.d) reaches the IPv4 address in its last four bytes. */
    private boolean isNat64OfInternal(InetAddress a) {
        if (!NAT64.contains(a)) {
            return false;
        }
        byte[] b = a.getAddress();
        try {
            return problemWithAddress("", InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]})).isPresent();
        } catch (UnknownHostException e) {
            return true;
        }
    }

    private static String normalise(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return IDN.toASCII(h, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
    }

    private static boolean isLiteralAddress(String h) {
        return h.matches("[0-9.]+") || h.contains(":");
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
