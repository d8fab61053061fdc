package dev.qwenimage.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** SSRF protection: internal addresses are refused unless allow-listed. */
class WebhookTargetsTest {
    private final WebhookTargets strict = new WebhookTargets(List.of());

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1/x", "http://localhost:8080/x", "http://10.1.2.3/x", "http://192.168.0.10/x",
            "http://172.16.5.5/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://[fd00::1]/x",
            "http://100.64.0.1/x", "http://0.0.0.0/x", "http://0.1.2.3/x", "http://198.18.0.1/x",
            "http://240.0.0.1/x", "http://255.255.255.255/x", "http://[::ffff:10.0.0.1]/x", "http://[64:ff9b::a9fe:a9fe]/x", "ftp://example.com/x", "https://user:pw@example.com/x", "not a url"})
    void internalOrMalformedTargetsAreRefused(String url) {
        assertThat(strict.problemWithoutLookup(url)).isPresent();
    }

    @Test
    void publicTargetsPass() {
        assertThat(strict.problemWithoutLookup("https://hooks.example.com/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://93.184.216.34/qwen")).isEmpty();
    }

    @Test
    void namesThatResolveInwardAreRefusedAtDeliveryTime() throws Exception {
        // this machine's own name passes the submit-time check (a name, not an address) but resolves inward
        String own = InetAddress.getLocalHost().getHostName();
        assertThat(strict.problemWithoutLookup("http://" + own + ":9/x")).isEmpty();
        assertThat(strict.lookUp(URI.create("http://" + own + ":9/x"))).isInstanceOf(WebhookTargets.Verdict.Refused.class);
    }

    @Test
    void aNameThatDoesNotResolveIsRetriedLaterNotRefused() {
        // .invalid never resolves (RFC 2606): like a DNS outage, it is worth another try later
        assertThat(strict.lookUp(URI.create("https://hooks.example.invalid/x")))
                .isInstanceOf(WebhookTargets.Verdict.Unresolved.class);
    }

    @Test
    void allowListedHostsAndRangesPass() {
        WebhookTargets allow = new WebhookTargets(List.of("hooks.internal", "10.20.0.0/16", "127.0.0.1/32"));
        assertThat(allow.problemWithoutLookup("http://hooks.internal/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.20.3.4/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.21.3.4/x")).isPresent();
        assertThat(allow.lookUp(URI.create("http://127.0.0.1:8080/x"))).isInstanceOf(WebhookTargets.Verdict.Deliver.class);
    }
}
