package dev.qwenimage.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SSRF protection: internal addresses, however they are written, are refused unless allow-listed. */
class OutboundGuardTest {
    private final OutboundGuard strict = new OutboundGuard(List.of(), "QWEN_IMAGE_OUTBOUND_ALLOW");

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = {"http://127.0.0.1/x", "http://localhost:8080/x", "http://localhost./x", "http://a.localhost/x",
            "http://10.1.2.3/x", "http://192.168.0.10/x", "http://172.16.5.5/x", "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/x", "http://0.0.0.0/x", "http://0.1.2.3/x", "http://198.18.0.1/x", "http://192.0.2.1/x",
            "http://224.0.0.1/x", "http://240.0.0.1/x", "http://255.255.255.255/x",
            "http://[::1]/x", "http://[::]/x", "http://[fd00::1]/x", "http://[fe80::1]/x", "http://[ff02::1]/x",
            // IPv4 inside IPv6: mapped, compatible, translated, NAT64, 6to4, Teredo (client 10.0.0.1 inverted)
            "http://[::ffff:10.0.0.1]/x", "http://[::127.0.0.1]/x", "http://[::ffff:0:127.0.0.1]/x", "http://[64:ff9b::a9fe:a9fe]/x",
            "http://[64:ff9b:1::1]/x", "http://[2002:7f00:1::]/x", "http://[2002:c0a8:101::1]/x",
            "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/x", "http://[2001:db8::1]/x",
            // numbers other parsers read as other addresses
            "http://127.1/x", "http://2130706433/x", "http://0177.0.0.1/x", "http://127.0.0.01/x", "http://256.1.1.1/x",
            // syntax
            "ftp://example.com/x", "https://user:pw@example.com/x", "https://@example.com/x", "not a url", "", "http:///x",
            "http://example.com:99999/x", "http://example.com:0/x", "http://exa_mple.com/x", "http://-bad.example.com/x",
            "http://[::1/x", "http://[zz::1]/x"})
    void internalOrMalformedTargetsAreRefused(String url) {
        assertThat(strict.problemWithoutLookup(url)).isPresent();
    }

    @Test
    void hostNamesBreakingDnsLimitsAreRefusedWithoutThrowing() {
        assertThat(strict.problemWithoutLookup("https://" + "a".repeat(64) + ".example.com/x")).get().asString().contains("63");
        assertThat(strict.problemWithoutLookup("https://" + ("a".repeat(60) + ".").repeat(5) + "com/x")).get().asString().contains("253");
        assertThat(strict.problemWithoutLookup("https://example.com/" + "x".repeat(2100))).get().asString().contains("2048");
        assertThat(strict.problemWithoutLookup("https://" + "a".repeat(63) + ".example.com/x")).isEmpty();
    }

    @Test
    void publicTargetsPass() {
        assertThat(strict.problemWithoutLookup("https://hooks.example.com/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("https://hooks.example.com.:8443/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://93.184.216.34/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://[2606:2800:220:1:248:1893:25c8:1946]/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://[::ffff:93.184.216.34]/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://[64:ff9b::5db8:d822]/qwen")).as("NAT64 of a public address").isEmpty();
        assertThat(strict.problemWithoutLookup("http://[2002:5db8:d822::1]/qwen")).as("6to4 of a public address").isEmpty();
        assertThat(strict.problemWithoutLookup("https://xn--bcher-kva.example/qwen")).isEmpty();
    }

    /**
     * DNS hands IPv4-mapped AAAA records over as IPv6 addresses (the JDK converts only literals):
     * ::ffff:127.0.0.1 from a resolver is loopback all the same, and is connected to as IPv4.
     */
    @Test
    void anIpv4MappedAddressFromDnsIsJudgedAsTheIpv4AddressItReaches() throws Exception {
        byte[] mappedLoopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        byte[] mappedMetadata = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 169, (byte) 254, (byte) 169, (byte) 254};
        byte[] mappedPublic = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 93, (byte) 184, (byte) 216, 34};
        for (byte[] inward : List.of(mappedLoopback, mappedMetadata)) {
            java.net.InetAddress raw = java.net.Inet6Address.getByAddress(null, inward, -1);
            assertThat(raw).isInstanceOf(java.net.Inet6Address.class);
            assertThat(strict.resolve("hooks.example.com", host -> List.of(raw)))
                    .isInstanceOf(OutboundGuard.Resolution.Refused.class);
        }
        java.net.InetAddress raw = java.net.Inet6Address.getByAddress(null, mappedPublic, -1);
        assertThat(strict.resolve("hooks.example.com", host -> List.of(raw)))
                .isEqualTo(new OutboundGuard.Resolution.Reach(List.of(address("93.184.216.34"))));
    }

    @Test
    void everyAddressANameResolvesToIsChecked() {
        Resolver rebinding = host -> List.of(address("93.184.216.34"), address("10.0.0.7"));
        assertThat(strict.resolve("hooks.example.com", rebinding)).isInstanceOf(OutboundGuard.Resolution.Refused.class);
        Resolver publicOnly = host -> List.of(address("93.184.216.34"));
        assertThat(strict.resolve("hooks.example.com", publicOnly))
                .isEqualTo(new OutboundGuard.Resolution.Reach(List.of(address("93.184.216.34"))));
    }

    @Test
    void namesThatResolveInwardAreRefusedAndNamesThatDoNotResolveAreUnresolved() throws Exception {
        String own = InetAddress.getLocalHost().getHostName();
        assertThat(strict.problemWithoutLookup("http://" + own + ":9/x")).isEmpty();
        assertThat(strict.resolve(own, Resolver.SYSTEM)).isInstanceOf(OutboundGuard.Resolution.Refused.class);
        // .invalid never resolves (RFC 2606): like a DNS outage, it is worth another try later
        assertThat(strict.resolve("hooks.example.invalid", Resolver.SYSTEM)).isInstanceOf(OutboundGuard.Resolution.Unresolved.class);
    }

    @Test
    void allowListedHostsAndRangesPass() {
        OutboundGuard allow = new OutboundGuard(List.of("hooks.internal", "10.20.0.0/16", "127.0.0.1/32", "fd00::/8"),
                "QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThat(allow.problemWithoutLookup("http://hooks.internal/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://HOOKS.internal./x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.20.3.4/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.21.3.4/x")).isPresent();
        assertThat(allow.problemWithoutLookup("http://[fd00::5]/x")).isEmpty();
        assertThat(allow.resolve("127.0.0.1", Resolver.SYSTEM)).isInstanceOf(OutboundGuard.Resolution.Reach.class);
        assertThat(allow.resolve("hooks.internal", host -> List.of(address("10.99.0.1"))))
                .as("an allow-listed name is reached wherever it resolves").isInstanceOf(OutboundGuard.Resolution.Reach.class);
    }

    @Test
    void refusalsNameTheAddressAndTheSetting() {
        assertThat(strict.problemWithoutLookup("http://[::ffff:0:127.0.0.1]/x")).get().asString()
                .startsWith("the URL's address").contains("QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThat(strict.problemWithoutLookup("http://[2002:7f00:1::]/x")).get().asString().contains("6to4").contains("127.0.0.1");
    }

    /** One guard serves webhooks and image fetches alike: its messages speak of the URL, never of what it is for. */
    @Test
    void refusalsAreNeutralAboutWhatTheUrlIsFor() {
        List<String> messages = new java.util.ArrayList<>();
        strict.problemWithoutLookup("http://127.0.0.1/x").ifPresent(messages::add);
        strict.problemWithoutLookup("http://localhost/x").ifPresent(messages::add);
        strict.problemWithoutLookup("ftp://example.com/x").ifPresent(messages::add);
        if (strict.resolve("images.example.com", host -> List.of(address("10.0.0.7"))) instanceof OutboundGuard.Resolution.Refused r) {
            messages.add(r.reason());
        }
        if (strict.resolve("images.example.invalid", host -> List.of()) instanceof OutboundGuard.Resolution.Unresolved u) {
            messages.add(u.reason());
        }
        assertThat(messages).hasSize(5).allSatisfy(m -> assertThat(m).startsWith("the URL").doesNotContainIgnoringCase("webhook"));
        assertThat(messages.get(3)).isEqualTo("the URL's host images.example.com resolves to 10.0.0.7, a private address; "
                + "such targets are refused unless allow-listed (QWEN_IMAGE_OUTBOUND_ALLOW)");
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
