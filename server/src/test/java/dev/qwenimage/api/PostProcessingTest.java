package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.image.Watermark;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.JpegLabels;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the client downloads: the visible mark only when asked for, the implicit AIGC label always (unless off). */
class PostProcessingTest {
    @TempDir
    Path dataDir;

    private QwenImageServer start(Color fill, Map<String, String> extra) {
        ScriptedEngine engine = new ScriptedEngine().otherwise(call -> {
            BufferedImage img = new BufferedImage(call.request().width(), call.request().height(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(fill);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.dispose();
            return new GenerationResult.Success(img);
        });
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY));
        values.putAll(extra);
        return QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), engine);
    }

    private static byte[] generate(QwenImageServer server, String size, boolean watermark) {
        Api api = new Api(server.localUrl(), TestServer.KEY);
        String id = api.submitOk("{\"prompt\": \"post\", \"size\": \"" + size + "\", \"watermark\": " + watermark + "}");
        JsonNode result = api.awaitFinished(id, Duration.ofSeconds(30));
        assertThat(result.at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        return Api.fetch(result.at("/images/0/image_url").asText()).body();
    }

    /** Pixels in {@code box} that differ clearly from {@code bg} (JPEG noise stays well under 40). */
    private static int markedPixels(byte[] jpeg, Rectangle box, Color bg) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(jpeg));
        int n = 0;
        for (int y = box.y; y < box.y + box.height; y++) {
            for (int x = box.x; x < box.x + box.width; x++) {
                int rgb = img.getRGB(x, y);
                int diff = Math.abs(((rgb >> 16) & 0xff) - bg.getRed()) + Math.abs(((rgb >> 8) & 0xff) - bg.getGreen())
                        + Math.abs((rgb & 0xff) - bg.getBlue());
                n += diff > 40 ? 1 : 0;
            }
        }
        return n;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"256*256, white", "256*256, black", "1024*1024, white", "1024*1024, black", "1536*1536, white", "1536*1536, black"})
    void theVisibleMarkIsThereOnlyWhenTheClientAsksForIt(String size, String background) throws Exception {
        Color bg = background.equals("white") ? Color.WHITE : Color.BLACK;
        int side = Integer.parseInt(size.split("\\*")[0]);
        Rectangle box = new Watermark("AI生成", Watermark.Corner.BOTTOM_RIGHT).bounds(side, side);
        try (QwenImageServer server = start(bg, Map.of())) {
            assertThat(markedPixels(generate(server, size, true), box, bg)).isGreaterThan(box.width * box.height / 10);
            assertThat(markedPixels(generate(server, size, false), box, bg)).isZero();
        }
    }

    @Test
    void theMarkTextAndCornerAreConfigurable() throws Exception {
        Rectangle topLeft = new Watermark("AI", Watermark.Corner.TOP_LEFT).bounds(512, 512);
        try (QwenImageServer server = start(Color.WHITE, Map.of("QWEN_IMAGE_WATERMARK_TEXT", "AI",
                "QWEN_IMAGE_WATERMARK_CORNER", "top-left"))) {
            assertThat(markedPixels(generate(server, "512*512", true), topLeft, Color.WHITE)).isPositive();
        }
    }

    @Test
    void everyImageCarriesTheImplicitLabelWithItsTaskId() throws Exception {
        try (QwenImageServer server = start(Color.GRAY, Map.of("QWEN_IMAGE_AIGC_PRODUCER", "Example AI Ltd."))) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            String id = api.submitOk("{\"prompt\": \"labelled\", \"size\": \"512*512\"}");
            byte[] jpeg = Api.fetch(api.awaitFinished(id, Duration.ofSeconds(30)).at("/images/0/image_url").asText()).body();
            JsonNode label = JpegLabels.aigc(jpeg);
            assertThat(label.get("Label").asText()).isEqualTo("1");
            assertThat(label.get("ContentProducer").asText()).isEqualTo("Example AI Ltd.");
            assertThat(label.get("ProduceID").asText()).isEqualTo(id);
        }
    }

    @Test
    void theImplicitLabelCanBeSwitchedOff() throws Exception {
        try (QwenImageServer server = start(Color.GRAY, Map.of("QWEN_IMAGE_AIGC_LABEL", "off"))) {
            assertThat(JpegLabels.aigc(generate(server, "256*256", false))).isNull();
        }
    }
}
