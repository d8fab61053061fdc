package dev.qwenimage.support;

import dev.qwenimage.outbound.Resolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The DNS of the tests: each name answers what its script says for the n-th look-up (0 first), as
 * an attacker's own DNS server could (a public address first, an internal one next); every look-up
 * is counted. A name without a script does not resolve: the tests never reach the real DNS.
 */
public final class ScriptedDns implements Resolver {
    private final Map<String, IntFunction<List<InetAddress>>> scripts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> lookups = new ConcurrentHashMap<>();

    /** {@code host} answers {@code answer(n)} on its n-th look-up. */
    public ScriptedDns script(String host, IntFunction<List<InetAddress>> answer) {
        scripts.put(host, answer);
        return this;
    }

    /** {@code host} always answers {@code addresses}. */
    public ScriptedDns always(String host, String... addresses) {
        List<InetAddress> answer = java.util.Arrays.stream(addresses).map(ScriptedDns::address).toList();
        return script(host, n -> answer);
    }

    /** How often {@code host} was looked up. */
    public int lookups(String host) {
        AtomicInteger n = lookups.get(host);
        return n == null ? 0 : n.get();
    }

    @Override
    public List<InetAddress> resolve(String host) throws UnknownHostException {
        int n = lookups.computeIfAbsent(host, h -> new AtomicInteger()).getAndIncrement();
        IntFunction<List<InetAddress>> script = scripts.get(host);
        if (script == null) {
            throw new UnknownHostException(host);
        }
        return script.apply(n);
    }

    /** An address from its literal (no look-up). */
    public static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }
}
