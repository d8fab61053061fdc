package dev.qwenimage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One allow-list for every outbound call (webhooks and edits' input images):
 * QWEN_IMAGE_OUTBOUND_ALLOW, with QWEN_IMAGE_WEBHOOK_ALLOW, its older name, still read and merged
 * into it; and the edit fetch's deadline.
 */
class OutboundAllowSettingTest {

    @Test
    void theAllowListIsEmptyByDefault() {
        assertThat(ServerConfig.of(Map.of()).outboundAllow()).isEmpty();
    }

    @Test
    void theNewAndTheDeprecatedSettingAreMergedEachEntryOnce() {
        ServerConfig config = ServerConfig.of(Map.of(
                "QWEN_IMAGE_OUTBOUND_ALLOW", "images.internal, 10.20.0.0/16",
                "QWEN_IMAGE_WEBHOOK_ALLOW", "hooks.internal,10.20.0.0/16"));

        assertThat(config.outboundAllow()).containsExactly("images.internal", "10.20.0.0/16", "hooks.internal");
    }

    @Test
    void theDeprecatedSettingAloneStillWorks() {
        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", "127.0.0.1/32")).outboundAllow()).containsExactly("127.0.0.1/32");
    }

    @Test
    void aBadEntryIsRefusedNamingTheSettingThatHoldsIt() {
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_OUTBOUND_ALLOW", "10.0.0.0/99")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", "10.0.0.0/99")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("QWEN_IMAGE_WEBHOOK_ALLOW");
    }

    @Test
    void settingTheDeprecatedNameIsWarnedAbout() {
        assertThat(SettingNames.deprecatedVariables(Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", "10.0.0.0/8", "QWEN_IMAGE_PORT", "1")))
                .singleElement().asString().startsWith("QWEN_IMAGE_WEBHOOK_ALLOW is deprecated").contains("QWEN_IMAGE_OUTBOUND_ALLOW");
        assertThat(SettingNames.deprecatedVariables(Map.of("QWEN_IMAGE_WEBHOOK_ALLOW", " "))).isEmpty();
        assertThat(SettingNames.deprecatedVariables(Map.of("QWEN_IMAGE_OUTBOUND_ALLOW", "10.0.0.0/8"))).isEmpty();
    }

    @Test
    void theFetchDeadlineIsTenSecondsAndMayBeSetWithinBounds() {
        assertThat(ServerConfig.of(Map.of()).edit().fetchTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_EDIT_FETCH_TIMEOUT", "1500ms")).edit().fetchTimeout())
                .isEqualTo(Duration.ofMillis(1500));
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_EDIT_FETCH_TIMEOUT", "2m")))
                .hasMessageContaining("QWEN_IMAGE_EDIT_FETCH_TIMEOUT must be at most 60s");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_EDIT_FETCH_TIMEOUT", "10ms")))
                .hasMessageContaining("QWEN_IMAGE_EDIT_FETCH_TIMEOUT must be at least");
    }
}
