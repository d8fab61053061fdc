package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One rule per field on every door: what the SDK refuses before sending, the server refuses with
 * the field's reason when a client sends it raw; what the SDK lets through, the server takes.
 */
class SdkAndServerAgreeTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    @ParameterizedTest(name = "prompt {0} is refused by both")
    @ValueSource(strings = {"\u0000", "a c\u0000t", "a cat\u0007", "a cat\u007f", "a cat\u0085", "a cat \ud800", "\udc00 a cat",
            " \n\t ", "\u00a0\u3000", "\u200b"})
    void aPromptOneRefusesTheOtherRefuses(String prompt) {
        assertThatThrownBy(() -> GenerateRequest.of(prompt)).isInstanceOf(IllegalArgumentException.class);
        Api.Response r = server.api().submit("{\"prompt\": \"" + jsonEscaped(prompt) + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.reason()).isEqualTo("INVALID_PROMPT");
    }

    @ParameterizedTest(name = "size \"{0}\" is refused by both")
    @ValueSource(strings = {"0256*0256", "00000256*256", "+512*512", "512 * 512", "512*512*512"})
    void aSizeOneRefusesTheOtherRefuses(String size) {
        assertThatThrownBy(() -> GenerateRequest.builder("a cat").size(size)).isInstanceOf(IllegalArgumentException.class);
        Api.Response r = server.api().submit("{\"prompt\": \"a cat\", \"size\": \"" + size + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.reason()).isEqualTo("INVALID_SIZE");
    }

    @ParameterizedTest(name = "prompt {0} is taken by both")
    @ValueSource(strings = {"a cat\non a mat\tat noon\r", "\ud83d\ude00 a smiling cat", "\ud83d\udc69\u200d\ud83d\udcbb", "  猫  "})
    void aPromptTheSdkLetsThroughTheServerTakes(String prompt) {
        try (QwenImageClient client = QwenImageClient.builder().baseUrl(server.api().baseUrl()).apiKey(TestServer.KEY)
                .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200)).build()) {
            String id = client.submit(GenerateRequest.builder(prompt).size(" 256*256 ").build());
            assertThat(client.get(id).status()).isNotEqualTo(TaskStatus.FAILED);
        }
    }

    /** The text as the body of a JSON string, everything outside printable ASCII as \\u escapes (lone surrogates too). */
    private static String jsonEscaped(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
