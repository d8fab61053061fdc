package dev.qwenimage.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A webhook URL the service would not (or could not) call is refused at submit with 400 INVALID_WEBHOOK_URL, never a 500. */
class WebhookUrlsAtSubmitTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "ftp://example.com/x", "not a url", "http://", "http:///x", "https://user:pw@example.com/x",
            "https://example.com:99999/x", "https://example.com:0/x", "https://example.com:-1/x",
            "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com/x",
            "https://-x.example.com/x", "http://[::1/x",
            "http://127.0.0.1/x", "http://localhost/x", "http://localhost./x", "http://hooks.localhost/x", "http://10.0.0.1/x",
            "http://169.254.169.254/latest/meta-data", "http://127.1/x", "http://2130706433/x", "http://0177.0.0.1/x",
            "http://[::1]/x", "http://[::127.0.0.1]/x", "http://[::ffff:127.0.0.1]/x", "http://[::ffff:0:a00:1]/x",
            "http://[64:ff9b::7f00:1]/x", "http://[2002:a00:1::1]/x", "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/x",
            "http://[fe80::1]/x", "http://[fd12::1]/x", "http://[ff02::1]/x", "http://224.0.0.1/x", "http://192.0.2.1/x"})
    void aBadWebhookUrlIsRefusedAtSubmit(String url) {
        Api.Response r = server.api().submit("{\"prompt\": \"a\", \"extra\": {\"webhook\": {\"url\": \"" + url + "\"}}}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("reason").asText()).isEqualTo("INVALID_WEBHOOK_URL");
        assertThat(r.json().at("/metadata/field").asText()).isEqualTo("extra.webhook.url");
        assertThat(r.json().get("message").asText()).startsWith("webhook url");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"https://hooks.example.com/qwen", "https://hooks.example.com:8443/qwen?x=1",
            "http://93.184.216.34/qwen", "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com/x"})
    void aPublicWebhookUrlIsAccepted(String url) {
        assertThat(server.api().submit("{\"prompt\": \"a\", \"size\": \"256*256\", \"extra\": {\"webhook\": {\"url\": \"" + url
                + "\"}}}").status()).isEqualTo(200);
    }
}
