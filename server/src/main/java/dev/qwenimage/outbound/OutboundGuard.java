package dev.qwenimage.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which URLs the service's outbound calls (webhooks, edits' input images) may reach: one guard,
 * built once at start-up and shared by every caller. By default only public addresses: a host
 * that is, or resolves to, an internal address ({@link AddressPolicy}) is refused, and so is
 * {@code localhost}, so that a client cannot make the service probe its own network (SSRF). The
 * operator allow-lists host names and CIDR ranges that are meant to be reachable.
 * {@link #problemWithoutLookup} judges a URL at once (syntax and literal addresses; a submit);
 * {@link #resolve} does the one DNS resolution a connection uses and checks every address it
 * returns ({@link OutboundHttp} connects to those addresses only). Its messages speak of "the URL"
 * and its host, never of what the call is for: the caller says that.
 */
public final class OutboundGuard {
    private final String allowSetting;
    private final Set<String> allowedHosts;
    private final AddressPolicy addresses;

    /**
     * @param allowList    host names (exact, case-insensitive) and CIDR ranges (10.0.0.0/8, fd00::/8) always allowed
     * @param allowSetting the setting that holds the allow-list, named in refusals
     * @throws IllegalArgumentException when an entry is neither a host name nor a CIDR range
     */
    public OutboundGuard(List<String> allowList, String allowSetting) {
        this.allowSetting = allowSetting;
        this.allowedHosts = allowList.stream().map(String::strip).filter(a -> !a.isEmpty() && !a.contains("/"))
                .map(OutboundGuard::normalise).collect(Collectors.toUnmodifiableSet());
        this.addresses = new AddressPolicy(allowList.stream().map(String::strip).filter(a -> a.contains("/"))
                .map(AddressPolicy.Cidr::parse).toList());
    }

    /** What a resolution for a connection found. */
    public sealed interface Resolution {
        /** Connect to these addresses, and only these. */
        record Reach(List<InetAddress> addresses) implements Resolution {
        }

        /** The host is, or resolves to, an internal address: final. */
        record Refused(String reason) implements Resolution {
        }

        /** The name does not resolve now (DNS outage, a record not yet published): may work later. */
        record Unresolved(String reason) implements Resolution {
        }
    }

    /** The problem with {@code url} judged without DNS (syntax, literal addresses, localhost); empty when acceptable. */
    public Optional<String> problemWithoutLookup(String url) {
        return switch (OutboundUrl.parse(url)) {
            case OutboundUrl.Parsed.Invalid(String reason) -> Optional.of("the URL " + reason);
            case OutboundUrl.Parsed.Valid(OutboundUrl u) -> problemWithoutLookup(u);
        };
    }

    /** As {@link #problemWithoutLookup(String)}, for a URL already parsed. */
    public Optional<String> problemWithoutLookup(OutboundUrl url) {
        if (allowedHosts.contains(url.host())) {
            return Optional.empty();
        }
        if (url.host().equals("localhost") || url.host().endsWith(".localhost")) {
            return Optional.of(thisMachine(url.host()));
        }
        return url.literal().flatMap(a -> addressProblem(url.host(), a));
    }

    /**
     * The one resolution of {@code host} a connection uses: every address it resolves to must be
     * public (or allow-listed), else the whole host is refused; an allow-listed name is reached at
     * whatever it resolves to.
     */
    public Resolution resolve(String host, Resolver dns) {
        String h = normalise(host);
        List<InetAddress> found;
        try {
            // as the addresses will be connected to: an IPv4-mapped IPv6 answer (::ffff:a.b.c.d,
            // which DNS hands over unconverted) is the IPv4 address it reaches, and judged as that
            found = (isLiteral(h) ? List.of(InetAddress.getByName(h)) : dns.resolve(h)).stream().map(OutboundGuard::canonical).toList();
        } catch (UnknownHostException e) {
            return new Resolution.Unresolved("the URL's host " + h + " does not resolve");
        }
        if (found.isEmpty()) {
            return new Resolution.Unresolved("the URL's host " + h + " does not resolve");
        }
        if (!allowedHosts.contains(h)) {
            if (h.equals("localhost") || h.endsWith(".localhost")) {
                return new Resolution.Refused(thisMachine(h));
            }
            for (InetAddress a : found) {
                Optional<String> p = addressProblem(h, a);
                if (p.isPresent()) {
                    return new Resolution.Refused(p.get());
                }
            }
        }
        return new Resolution.Reach(List.copyOf(found));
    }

    /** An IP address written out (IPv4 as four numbers, or IPv6): it is its own answer, no look-up is made. */
    private static boolean isLiteral(String host) {
        return host.contains(":") || (host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")
                && java.util.Arrays.stream(host.split("\\.")).allMatch(p -> Integer.parseInt(p) <= 255));
    }

    /** {@code a} as the JDK makes it from its bytes: an IPv4-mapped IPv6 address becomes the IPv4 address. */
    private static InetAddress canonical(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress());
        } catch (UnknownHostException impossible) {
            return a; // four or sixteen bytes always make an address
        }
    }

    private String thisMachine(String host) {
        return "the URL points at this machine (" + host + "); such targets are refused unless allow-listed (" + allowSetting + ")";
    }

    private Optional<String> addressProblem(String host, InetAddress a) {
        String where = host.equalsIgnoreCase(a.getHostAddress()) ? "the URL's address " + host + " is "
                : "the URL's host " + host + " resolves to " + a.getHostAddress() + ", ";
        return addresses.problemWith(a).map(what -> where + what
                + "; such targets are refused unless allow-listed (" + allowSetting + ")");
    }

    private static String normalise(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
