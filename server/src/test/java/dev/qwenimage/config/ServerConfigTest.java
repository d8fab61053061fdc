package dev.qwenimage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.qwenimage.engine.EngineSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsRunWithNothingSet() {
        ServerConfig c = ServerConfig.load(Map.of(), Map.of());
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.dataDir()).isEqualTo(Path.of("./data").toAbsolutePath().normalize());
        assertThat(c.apiKeys()).isEmpty();
        assertThat(c.engines()).extracting(EngineSpec::kind, EngineSpec::name).containsExactly(tuple("preview", "preview"));
        assertThat(c.workers()).isEmpty();
        assertThat(c.slotsFor(c.engines().getFirst())).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.previewSteps()).isEqualTo(20);
        assertThat(c.jpegQuality()).isEqualTo(90);
        assertThat(c.urlTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(c.retention()).isEqualTo(Duration.ofHours(24));
        assertThat(c.maxPromptLength()).isEqualTo(2000);
        assertThat(c.publicUrl()).isEmpty();
    }

    @Test
    void environmentOverridesTheFileAndExplicitOverridesBoth() throws Exception {
        Path file = dir.resolve("qwen.properties");
        Files.writeString(file, "QWEN_IMAGE_PORT=9000\nQWEN_IMAGE_WORKERS=3\nQWEN_IMAGE_JPEG_QUALITY=70\n");
        ServerConfig c = ServerConfig.load(
                Map.of("QWEN_IMAGE_CONFIG", file.toString(), "QWEN_IMAGE_PORT", "9100", "QWEN_IMAGE_API_KEYS", " a , b ,,"),
                Map.of("QWEN_IMAGE_WORKERS", "5"));
        assertThat(c.port()).isEqualTo(9100);
        assertThat(c.workers()).hasValue(5);
        assertThat(c.jpegQuality()).isEqualTo(70);
        assertThat(c.apiKeys()).containsExactly("a", "b");
    }

    @Test
    void durationsAcceptHumanUnits() {
        ServerConfig c = ServerConfig.of(Map.of("QWEN_IMAGE_RETENTION", "7d", "QWEN_IMAGE_LEASE", "90s",
                "QWEN_IMAGE_PREVIEW_STEP_DELAY", "250ms"));
        assertThat(c.retention()).isEqualTo(Duration.ofDays(7));
        assertThat(c.lease()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.previewStepDelay()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void badValuesAreRefusedWithAMessageNamingTheSetting() {
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PORT", "http")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("QWEN_IMAGE_PORT");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_JPEG_QUALITY", "101")))
                .hasMessageContaining("QWEN_IMAGE_JPEG_QUALITY").hasMessageContaining("1 and 100");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_RETENTION", "soon")))
                .hasMessageContaining("QWEN_IMAGE_RETENTION");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_ENGINES", "dalle")))
                .hasMessageContaining("QWEN_IMAGE_ENGINES").hasMessageContaining("preview, comfyui, sdcpp, openai, ppio");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PUBLIC_URL", "img.example.com")))
                .hasMessageContaining("QWEN_IMAGE_PUBLIC_URL");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PROT", "1")))
                .hasMessageContaining("unknown setting QWEN_IMAGE_PROT");
    }

    @Test
    void splitRolesNeedASharedPostgresStore() {
        assertThat(ServerConfig.of(Map.of()).role()).isEqualTo(Role.ALL);
        assertThat(ServerConfig.of(Map.of()).database().embedded()).isTrue();
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "api")))
                .hasMessageContaining("QWEN_IMAGE_ROLE=api").hasMessageContaining("QWEN_IMAGE_DB_URL");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "scheduler")))
                .hasMessageContaining("all, api or worker");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_DB_URL", "jdbc:mysql://db/qwen?password=hunter2")))
                .hasMessageContaining("PostgreSQL JDBC URL").hasMessageNotContaining("hunter2");
        ServerConfig worker = ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "worker",
                "QWEN_IMAGE_DB_URL", "jdbc:postgresql://db:5432/qwen?password=hunter2"));
        assertThat(worker.role().runsWorkers()).isTrue();
        assertThat(worker.role().servesApi()).isFalse();
        assertThat(worker.database().toString()).doesNotContain("hunter2");
    }

    @Test
    void readmeDocumentsEverySetting() throws Exception {
        Path readme = Path.of("..", "README.md");
        assertThat(readme).exists();
        String text = Files.readString(readme);
        List<String> missing = Setting.ALL.stream().map(Setting::env).filter(env -> !text.contains("`" + env + "`")).toList();
        assertThat(missing).as("settings missing from the README's configuration table").isEmpty();
    }
}
