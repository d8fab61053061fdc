package dev.qwenimage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.openai.OpenAiImagesEngine;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every configured URL is shown without the credentials it may carry: one rule, wherever it is shown. */
class RedactionTest {
    @Test
    void userCredentialsAndSecretParametersOfEveryUrlInATextAreHidden() {
        assertThat(Redaction.text("openai at http://user:pw@gpu3:8091/v1 is not reachable"))
                .isEqualTo("openai at http://…@gpu3:8091/v1 is not reachable");
        assertThat(Redaction.text("https://token@host/x and http://a:b@c@d:1/p?q=1"))
                .isEqualTo("https://…@host/x and http://…@d:1/p?q=1");
        assertThat(Redaction.text("jdbc:postgresql://db:5432/qwen?user=q&password=s3&sslpassword=k2&ssl=true"))
                .isEqualTo("jdbc:postgresql://db:5432/qwen?user=q&password=…&sslpassword=…&ssl=true");
        assertThat(Redaction.text("jdbc:postgresql://q:s3@db/qwen")).isEqualTo("jdbc:postgresql://…@db/qwen");
        assertThat(Redaction.text("mail alice@example.com about http://host/path@x")).isEqualTo("mail alice@example.com about http://host/path@x");
    }

    @Test
    void configurationErrorsAndDescriptionsNeverShowCredentials() {
        assertThatThrownBy(() -> EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:http://u:engine-pw@gpu:1/v1?slots=many"))
                .hasMessageContaining("slots").hasMessageNotContaining("engine-pw");
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "openai:http://u:engine-pw@gpu:1/v1?key=sk-1").getFirst();
        assertThat(spec.where()).contains("gpu:1").doesNotContain("engine-pw");
        assertThat(spec.toString()).doesNotContain("engine-pw").doesNotContain("sk-1");
        assertThatThrownBy(() -> OpenAiImagesEngine.from(spec))
                .as("a URL with credentials and a key: one Authorization header cannot carry both")
                .isInstanceOf(ConfigException.class).hasMessageNotContaining("engine-pw").hasMessageNotContaining("sk-1");
        assertThatThrownBy(() -> EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "comfyui:http://u:p@ss@gpu:1"))
                .hasMessageContaining("%40").hasMessageNotContaining("p@ss");

        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_DB_URL", "jdbc:postgresql://q:db-pw@db/qwen?password=db-pw2"))
                .database().toString()).doesNotContain("db-pw");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_DB_URL", "jdbc:mysql://q:db-pw@db/qwen")))
                .hasMessageNotContaining("db-pw");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PUBLIC_URL", "https://u:link-pw@img example.com")))
                .hasMessageNotContaining("link-pw");
        ServerConfig.S3Settings s3 = ServerConfig.of(Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://ak:s3-pw@minio:9000",
                "QWEN_IMAGE_S3_BUCKET", "images", "QWEN_IMAGE_S3_PUBLIC_ENDPOINT", "https://x:pub-pw@s3.example.com")).s3().orElseThrow();
        assertThat(s3.describe()).contains("minio:9000").doesNotContain("s3-pw").doesNotContain("pub-pw");
        assertThat(s3.toString()).doesNotContain("s3-pw").doesNotContain("pub-pw");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_S3_ENDPOINT", "ftp://ak:s3-pw@minio", "QWEN_IMAGE_S3_BUCKET", "b")))
                .hasMessageNotContaining("s3-pw");
    }
}
