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
    void theConfigurationPrintsNoSecret() {
        ServerConfig c = ServerConfig.of(Map.of("QWEN_IMAGE_API_KEYS", "key-one-0123456789,key-two-0123456789",
                "QWEN_IMAGE_URL_SECRET", "url-secret-0123456789", "QWEN_IMAGE_DB_URL", "jdbc:postgresql://db/qwen?password=pg-pass-1",
                "QWEN_IMAGE_DB_PASSWORD", "pg-pass-2", "QWEN_IMAGE_ENGINES", "openai:http://user:engine-pass@gpu:8000/v1",
                "QWEN_IMAGE_PUBLIC_URL", "https://links:public-pass@img.example.com"));
        assertThat(c.toString()).contains("2 key(s)").contains("port=8080")
                .doesNotContain("key-one").doesNotContain("key-two").doesNotContain("url-secret-0123456789")
                .doesNotContain("pg-pass-1").doesNotContain("pg-pass-2").doesNotContain("engine-pass")
                .doesNotContain("public-pass");
    }

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
        assertThat(c.jpegEncoder()).isEqualTo(dev.qwenimage.image.JpegEncoder.Choice.AUTO);
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
    void aDurationBelowItsBoundSaysTheBoundAsPeopleWriteItAndWhatABareNumberMeant() {
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_RETENTION", "5")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("QWEN_IMAGE_RETENTION must be at least 1m, got '5' (a bare number means seconds: write e.g. 5m, 5h or 5d)");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_LEASE", "500ms")))
                .hasMessage("QWEN_IMAGE_LEASE must be at least 1s, got '500ms'");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_SYNC_TIMEOUT", "soon")))
                .hasMessageStartingWith("QWEN_IMAGE_SYNC_TIMEOUT: not a duration: 'soon'")
                .hasMessageContaining("a bare number means seconds");
    }

    @Test
    void everyDurationSettingTakesCombinedUnitsAndTheLinkLifetimeIsADurationToo() {
        ServerConfig c = ServerConfig.of(Map.of("QWEN_IMAGE_RETENTION", "1d12h", "QWEN_IMAGE_LEASE", "1m30s",
                "QWEN_IMAGE_ENGINE_CHECK", "1.5m", "QWEN_IMAGE_PREVIEW_STEP_DELAY", "0.25s", "QWEN_IMAGE_SYNC_TIMEOUT", "1h30m",
                "QWEN_IMAGE_URL_TTL", "2h"));
        assertThat(c.retention()).isEqualTo(Duration.ofHours(36));
        assertThat(c.lease()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.engineCheck()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.previewStepDelay()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.syncTimeout()).isEqualTo(Duration.ofMinutes(90));
        assertThat(c.urlTtl()).isEqualTo(Duration.ofHours(2));
        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_URL_TTL", "3600")).urlTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_URL_TTL", "0")).urlTtl()).isZero();
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_URL_TTL", "1.5s")))
                .hasMessageContaining("QWEN_IMAGE_URL_TTL").hasMessageContaining("whole seconds");
    }

    @Test
    void badValuesAreRefusedWithAMessageNamingTheSetting() {
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PORT", "http")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("QWEN_IMAGE_PORT");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_JPEG_QUALITY", "101")))
                .hasMessageContaining("QWEN_IMAGE_JPEG_QUALITY").hasMessageContaining("1 and 100");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_JPEG_ENCODER", "mozjpeg")))
                .hasMessageContaining("QWEN_IMAGE_JPEG_ENCODER").hasMessageContaining("auto, turbojpeg or imageio");
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
    void anUnknownNameInTheFileOrOnTheCommandLineIsRefusedWithTheNameMeant() throws Exception {
        Path file = dir.resolve("qwen.properties");
        Files.writeString(file, "QWEN_IMAGE_WROKERS=3\n");
        assertThatThrownBy(() -> ServerConfig.load(Map.of("QWEN_IMAGE_CONFIG", file.toString()), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("unknown setting QWEN_IMAGE_WROKERS in " + file + "; did you mean QWEN_IMAGE_WORKERS?");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_PROT", "1")))
                .hasMessage("unknown setting QWEN_IMAGE_PROT; did you mean QWEN_IMAGE_PORT?");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_FAVOURITE_COLOUR", "blue")))
                .hasMessage("unknown setting QWEN_IMAGE_FAVOURITE_COLOUR (./qwen-image serve --help lists them)");
    }

    @Test
    void aConfigFileThatCannotBeReadSaysWhyAndWhereItWasNamed() {
        Path missing = dir.resolve("missing.properties");
        assertThatThrownBy(() -> ServerConfig.load(Map.of("QWEN_IMAGE_CONFIG", missing.toString()), Map.of()))
                .hasMessage("cannot read the config file " + missing + " (no such file); check QWEN_IMAGE_CONFIG or --config");
        assertThatThrownBy(() -> ServerConfig.load(Map.of("QWEN_IMAGE_CONFIG", dir.toString()), Map.of()))
                .hasMessage("cannot read the config file " + dir + " (it is a directory); check QWEN_IMAGE_CONFIG or --config");
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
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "worker",
                "QWEN_IMAGE_DB_URL", "jdbc:postgresql://db:5432/qwen")))
                .hasMessageContaining("QWEN_IMAGE_S3_ENDPOINT");
        ServerConfig worker = ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "worker",
                "QWEN_IMAGE_DB_URL", "jdbc:postgresql://db:5432/qwen?password=hunter2",
                "QWEN_IMAGE_S3_ENDPOINT", "http://minio:9000", "QWEN_IMAGE_S3_BUCKET", "images"));
        assertThat(worker.role().runsWorkers()).isTrue();
        assertThat(worker.role().servesApi()).isFalse();
        assertThat(worker.database().toString()).doesNotContain("hunter2");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_ROLE", "api",
                "QWEN_IMAGE_DB_URL", "jdbc:postgresql://db:5432/qwen",
                "QWEN_IMAGE_S3_ENDPOINT", "http://minio:9000", "QWEN_IMAGE_S3_BUCKET", "images")))
                .hasMessageContaining("QWEN_IMAGE_URL_SECRET");
    }

    @Test
    void imagesStayOnLocalDiskUnlessAnS3EndpointIsSet() {
        assertThat(ServerConfig.of(Map.of()).s3()).isEmpty();
        assertThat(ServerConfig.of(Map.of("QWEN_IMAGE_S3_REGION", "eu-west-1", "QWEN_IMAGE_S3_PREFIX", "images/")).s3()).isEmpty();
    }

    @Test
    void s3SettingsAreReadTogetherWithTheirDefaults() {
        ServerConfig.S3Settings s3 = ServerConfig.of(Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://minio:9000/",
                "QWEN_IMAGE_S3_BUCKET", "images", "QWEN_IMAGE_S3_ACCESS_KEY", "minioadmin",
                "QWEN_IMAGE_S3_SECRET_KEY", "minio-secret")).s3().orElseThrow();
        assertThat(s3.endpoint()).hasToString("http://minio:9000");
        assertThat(s3.bucket()).isEqualTo("images");
        assertThat(s3.region()).isEqualTo("us-east-1");
        assertThat(s3.hasStaticCredentials()).isTrue();
        assertThat(s3.pathStyle()).isTrue();
        assertThat(s3.prefix()).isEmpty();
        assertThat(s3.publicEndpoint()).isEmpty();
        assertThat(s3.createBucket()).isFalse();
        assertThat(s3.toString()).doesNotContain("minio-secret");

        ServerConfig.S3Settings aws = ServerConfig.of(Map.of("QWEN_IMAGE_S3_ENDPOINT", "https://s3.eu-west-1.amazonaws.com",
                "QWEN_IMAGE_S3_BUCKET", "acme-images", "QWEN_IMAGE_S3_REGION", "eu-west-1", "QWEN_IMAGE_S3_PATH_STYLE", "off",
                "QWEN_IMAGE_S3_PREFIX", "qwen/", "QWEN_IMAGE_S3_PUBLIC_ENDPOINT", "https://img.example.com",
                "QWEN_IMAGE_S3_CREATE_BUCKET", "on")).s3().orElseThrow();
        assertThat(aws.hasStaticCredentials()).isFalse();
        assertThat(aws.region()).isEqualTo("eu-west-1");
        assertThat(aws.pathStyle()).isFalse();
        assertThat(aws.prefix()).isEqualTo("qwen/");
        assertThat(aws.publicEndpoint()).hasValueSatisfying(u -> assertThat(u).hasToString("https://img.example.com"));
        assertThat(aws.createBucket()).isTrue();
    }

    @Test
    void incompleteOrInvalidS3SettingsAreRefused() {
        Map<String, String> base = Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://minio:9000", "QWEN_IMAGE_S3_BUCKET", "images");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_S3_BUCKET", "images")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("QWEN_IMAGE_S3_ENDPOINT is empty");
        assertThatThrownBy(() -> ServerConfig.of(Map.of("QWEN_IMAGE_S3_ENDPOINT", "http://minio:9000")))
                .hasMessageContaining("QWEN_IMAGE_S3_BUCKET must name the bucket");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_ENDPOINT", "minio:9000")))
                .hasMessageContaining("QWEN_IMAGE_S3_ENDPOINT must be an http(s) URL");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_BUCKET", "my/bucket")))
                .hasMessageContaining("QWEN_IMAGE_S3_BUCKET must be a bucket name");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_ACCESS_KEY", "only-the-key")))
                .hasMessageContaining("QWEN_IMAGE_S3_ACCESS_KEY").hasMessageContaining("QWEN_IMAGE_S3_SECRET_KEY");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_PREFIX", "/images/")))
                .hasMessageContaining("QWEN_IMAGE_S3_PREFIX must not start with '/'");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_PATH_STYLE", "sometimes")))
                .hasMessageContaining("QWEN_IMAGE_S3_PATH_STYLE must be on or off");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_PUBLIC_ENDPOINT", "s3.example.com")))
                .hasMessageContaining("QWEN_IMAGE_S3_PUBLIC_ENDPOINT must be an http(s) URL");
        assertThatThrownBy(() -> ServerConfig.of(with(base, "QWEN_IMAGE_S3_REGION", " ")))
                .hasMessageContaining("QWEN_IMAGE_S3_REGION must not be empty");
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> m = new java.util.HashMap<>(base);
        m.put(key, value);
        return m;
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
