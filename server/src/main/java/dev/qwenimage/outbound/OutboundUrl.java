package dev.qwenimage.outbound;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A URL the service may call, checked for syntax alone (no DNS): http or https, a host, no user
 * credentials, a port in 1..65535, at most {@value #MAX_LENGTH} characters, and a host that is a
 * canonical IPv4 address, an IPv6 literal, or a DNS name of labels of at most 63 characters and at
 * most 253 in all (IDN names in their ASCII form). {@link #parse} never throws: any input is
 * either {@link Parsed.Valid} or {@link Parsed.Invalid} with a reason for people.
 *
 * @param uri     the URL as given (what the request is sent to)
 * @param host    the host in ASCII lower case, without IPv6 brackets and without a trailing dot
 * @param port    the port, the scheme's default when the URL names none
 * @param literal the address when the host is an IP literal
 */
public record OutboundUrl(URI uri, String host, int port, Optional<InetAddress> literal) {
    public static final int MAX_LENGTH = 2048;
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern DOTTED_QUAD = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");

    /** The outcome of {@link #parse}. */
    public sealed interface Parsed {
        record Valid(OutboundUrl url) implements Parsed {
        }

        /** {@code reason} completes "the URL ...", e.g. "has no host". */
        record Invalid(String reason) implements Parsed {
        }
    }

    public boolean secure() {
        return uri.getScheme().equalsIgnoreCase("https");
    }

    /** Checks {@code text}; never throws. */
    public static Parsed parse(String text) {
        if (text == null || text.isBlank()) {
            return invalid("is empty");
        }
        String t = text.strip();
        if (t.length() > MAX_LENGTH) {
            return invalid("is longer than " + MAX_LENGTH + " characters");
        }
        URI uri;
        try {
            uri = new URI(t);
        } catch (URISyntaxException e) {
            return invalid("is not a valid URL (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return invalid("must start with https:// or http://");
        }
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            return invalid("must not carry user credentials");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            return invalid("has no valid host");
        }
        int port = uri.getPort();
        if (port == -1) {
            port = scheme.equals("https") ? 443 : 80;
        } else if (port < 1 || port > 65535) {
            return invalid("has the port " + port + "; a port is 1 to 65535");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            try {
                // bracketed: a literal or an error, never a DNS look-up
                InetAddress a = InetAddress.getByName(host);
                return new Parsed.Valid(new OutboundUrl(uri, a.getHostAddress().toLowerCase(Locale.ROOT), port, Optional.of(a)));
            } catch (UnknownHostException e) {
                return invalid("has an invalid IPv6 address " + abbreviate(host));
            }
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (name.matches("[0-9.]+")) {
            // only the four-number form: 127.1, 2130706433 or 0177.0.0.1 mean different addresses to different parsers
            if (!DOTTED_QUAD.matcher(name).matches() || java.util.Arrays.stream(name.split("\\.")).anyMatch(p -> Integer.parseInt(p) > 255)) {
                return invalid("has the host " + abbreviate(host) + ", which is not an IPv4 address written as four numbers 0-255");
            }
            try {
                InetAddress a = InetAddress.getByName(name);
                return new Parsed.Valid(new OutboundUrl(uri, name, port, Optional.of(a)));
            } catch (UnknownHostException e) {
                return invalid("has an invalid IPv4 address " + abbreviate(host));
            }
        }
        String ascii;
        try {
            ascii = IDN.toASCII(name, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return invalid("has a host name that is not valid (labels are at most 63 characters): " + abbreviate(host));
        }
        if (ascii.length() > 253) {
            return invalid("has a host name longer than 253 characters");
        }
        for (String label : ascii.split("\\.", -1)) {
            if (label.length() > 63) {
                return invalid("has a host name with a label longer than 63 characters");
            }
            if (!LABEL.matcher(label).matches()) {
                return invalid("has a host name that is not valid: " + abbreviate(host));
            }
        }
        return new Parsed.Valid(new OutboundUrl(uri, ascii, port, Optional.empty()));
    }

    private static Parsed invalid(String reason) {
        return new Parsed.Invalid(reason);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
