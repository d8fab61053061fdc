package dev.qwenimage.outbound;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Which IP addresses are internal: loopback, private, link-local, CGNAT, multicast, reserved and
 * documentation ranges of IPv4 and IPv6, and IPv6 addresses that carry an internal IPv4 address
 * inside them (IPv4-compatible and -mapped {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::a.b.c.d},
 * 6to4 {@code 2002:aabb:ccdd::}, Teredo). Ranges on the operator's allow-list are never internal.
 */
final class AddressPolicy {
    private record Range(Cidr cidr, String what) {
    }

    private static final List<Range> INTERNAL = List.of(
            range("0.0.0.0/8", "a 'this network' address"),
            range("10.0.0.0/8", "a private address"),
            range("100.64.0.0/10", "a carrier-grade NAT address"),
            range("127.0.0.0/8", "a loopback address"),
            range("169.254.0.0/16", "a link-local address"),
            range("172.16.0.0/12", "a private address"),
            range("192.0.0.0/24", "an IETF protocol address"),
            range("192.0.2.0/24", "a documentation address"),
            range("192.88.99.0/24", "a 6to4 relay address"),
            range("192.168.0.0/16", "a private address"),
            range("198.18.0.0/15", "a benchmarking address"),
            range("198.51.100.0/24", "a documentation address"),
            range("203.0.113.0/24", "a documentation address"),
            range("224.0.0.0/4", "a multicast address"),
            range("240.0.0.0/4", "a reserved address"),
            // IPv6: the unspecified and loopback addresses and the IPv4-compatible and -translated
            // forms, none of them reachable publicly as written (IPv4-mapped ::ffff:a.b.c.d
            // addresses are judged as the IPv4 address they reach)
            range("::/96", "a reserved (IPv4-compatible) IPv6 address"),
            range("::ffff:0:0:0/96", "an IPv4-translated IPv6 address"),
            range("64:ff9b:1::/48", "a local NAT64 address"),
            range("100::/64", "a discard-only address"),
            range("2001:2::/48", "a benchmarking address"),
            range("2001:10::/28", "a reserved (ORCHID) address"),
            range("2001:db8::/32", "a documentation address"),
            range("3fff::/20", "a documentation address"),
            range("5f00::/16", "a segment-routing address"),
            range("fc00::/7", "a unique-local (private) address"),
            range("fe80::/10", "a link-local address"),
            range("fec0::/10", "a site-local address"),
            range("ff00::/8", "a multicast address"));
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");
    private static final Cidr TEREDO = Cidr.parse("2001::/32");

    private final List<Cidr> allowed;

    AddressPolicy(List<Cidr> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    /** Why {@code a} must not be reached ("a private address"), or empty when it may be. */
    Optional<String> problemWith(InetAddress a) {
        for (Cidr c : allowed) {
            if (c.contains(a)) {
                return Optional.empty();
            }
        }
        return internal(a);
    }

    private static Optional<String> internal(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return Optional.of(kind(a).orElse("an internal address"));
        }
        Optional<String> kind = kind(a);
        if (kind.isPresent()) {
            return kind;
        }
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            if (isIpv4Mapped(b)) {
                return embedded(b, 12, false, "IPv4-mapped");
            }
            if (NAT64.contains(a)) {
                return embedded(b, 12, false, "NAT64");
            }
            if (SIX_TO_FOUR.contains(a)) {
                return embedded(b, 2, false, "6to4");
            }
            if (TEREDO.contains(a)) {
                // the Teredo server's address in plain, the client's (the peer reached) inverted
                Optional<String> server = embedded(b, 4, false, "Teredo");
                return server.isPresent() ? server : embedded(b, 12, true, "Teredo");
            }
        }
        return Optional.empty();
    }

    /** ::ffff:a.b.c.d held as an IPv6 address (the guard converts them; this is the policy's own defence). */
    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    private static Optional<String> kind(InetAddress a) {
        return INTERNAL.stream().filter(r -> r.cidr().contains(a)).map(Range::what).findFirst();
    }

    /** The IPv4 address in bytes {@code at..at+3} of an IPv6 address, judged as itself. */
    private static Optional<String> embedded(byte[] v6, int at, boolean inverted, String scheme) {
        byte[] v4 = new byte[4];
        for (int i = 0; i < 4; i++) {
            v4[i] = (byte) (inverted ? ~v6[at + i] : v6[at + i]);
        }
        try {
            Inet4Address inner = (Inet4Address) InetAddress.getByAddress(v4);
            return internal(inner).map(what -> "a " + scheme + " address of " + inner.getHostAddress() + ", " + what);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are an IPv4 address", e);
        }
    }

    private static Range range(String cidr, String what) {
        return new Range(Cidr.parse(cidr), what);
    }

    /** An address range such as 10.0.0.0/8 or fd00::/8. */
    record Cidr(byte[] network, int bits) {
        /** Parses {@code a.b.c.d/n} or {@code v6/n}; IllegalArgumentException when it is not one. */
        static Cidr parse(String text) {
            String[] parts = text.strip().split("/", 2);
            if (parts.length != 2 || !(parts[0].contains(":") || parts[0].matches("[0-9.]+"))) {
                throw new IllegalArgumentException("not a CIDR range: " + text);
            }
            try {
                byte[] net = InetAddress.getByName(parts[0].contains(":") ? "[" + parts[0] + "]" : parts[0]).getAddress();
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
