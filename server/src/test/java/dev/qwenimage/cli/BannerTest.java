package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up banner tells a newcomer where to point a browser, as well as curl. */
class BannerTest {
    @TempDir
    Path dataDir;

    @Test
    void bannerNamesThePlaygroundUrl() {
        try (TestServer server = TestServer.start(dataDir, Map.of())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Banner.print(new PrintStream(out, true, StandardCharsets.UTF_8), server.server());
            String banner = out.toString(StandardCharsets.UTF_8);

            assertThat(banner).contains("    in a browser: " + server.server().localUrl() + "/ ")
                    .contains("API key    2 key(s) from QWEN_IMAGE_API_KEYS")
                    .contains("curl -s " + server.server().localUrl() + "/v3/async/qwen-image-txt2img");
        }
    }

    @Test
    void bannerSaysWhichJpegEncoderTheWorkersUse() {
        try (TestServer server = TestServer.start(dataDir, Map.of("QWEN_IMAGE_JPEG_ENCODER", "imageio"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Banner.print(new PrintStream(out, true, StandardCharsets.UTF_8), server.server());
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("  jpeg       ImageIO (pure Java; chosen by configuration)");
        }
    }

    @Test
    void bannerShowsConfiguredUrlsWithoutTheirCredentials() {
        try (TestServer server = TestServer.start(dataDir, Map.of(
                "QWEN_IMAGE_ENGINES", "openai:http://alice:engine-secret@127.0.0.1:9/v1",
                "QWEN_IMAGE_PUBLIC_URL", "https://bob:links-secret@img.example.com"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Banner.print(new PrintStream(out, true, StandardCharsets.UTF_8), server.server());
            String banner = out.toString(StandardCharsets.UTF_8);

            assertThat(banner).contains("http://127.0.0.1:9/v1").contains("https://…@img.example.com")
                    .doesNotContain("engine-secret").doesNotContain("links-secret").doesNotContain("alice");
        }
    }
}
