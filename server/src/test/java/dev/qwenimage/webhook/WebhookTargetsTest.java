package dev.qwenimage.webhook;

import static org.assertj.core.api.Assertions.assertThat;

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
            "http://100.64.0.1/x", "http://0.0.0.0/x", "ftp://example.com/x", "https://user:pw@example.com/x", "not a url"})
    void internalOrMalformedTargetsAreRefused(String url) {
        assertThat(strict.problemWithoutLookup(url)).isPresent();
    }

    @Test
    void publicTargetsPass() {
        assertThat(strict.problemWithoutLookup("https://hooks.example.com/qwen")).isEmpty();
        assertThat(strict.problemWithoutLookup("http://93.184.216.34/qwen")).isEmpty();
    }

    @Test
    void namesThatResolveInwardAreRefusedAtDeliveryTime() {
        assertThat(strict.problemAfterLookup(URI.create("http://localhost.:9/x"))).isPresent();
    }

    @Test
    void allowListedHostsAndRangesPass() {
        WebhookTargets allow = new WebhookTargets(List.of("hooks.internal", "10.20.0.0/16", "127.0.0.1/32"));
        assertThat(allow.problemWithoutLookup("http://hooks.internal/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.20.3.4/x")).isEmpty();
        assertThat(allow.problemWithoutLookup("http://10.21.3.4/x")).isPresent();
        assertThat(allow.problemAfterLookup(URI.create("http://127.0.0.1:8080/x"))).isEmpty();
    }
}
