package dev.qwenimage.edit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.support.Admin;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.JpegLabels;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import io.javalin.Javalin;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edit is a task like any other: idempotency, cancel, webhooks, the visible watermark, the
 * AIGC label, usage and metrics apply to it as to text-to-image, and a submit no engine can run
 * is refused at once.
 */
class EditAsATaskTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of("QWEN_IMAGE_OUTBOUND_ALLOW", "127.0.0.1/32",
            "QWEN_IMAGE_PREVIEW_STEP_DELAY", "20ms"));

    @TempDir
    Path dataDir;

    private static String edit(String extra) {
        return "{\"prompt\": \"turn the square green\", \"image\": \"" + Pictures.base64(Pictures.png(512, 512)) + "\"" + extra + "}";
    }

    @Test
    void theSameIdempotencyKeyAndBodyMakeOneTaskAndAnotherBodyIsRefused() {
        Api api = server.api();
        Api.Response first = api.edit(edit(", \"seed\": 5"), "edit-order-1");
        Api.Response again = api.edit(edit(", \"seed\": 5"), "edit-order-1");
        Api.Response other = api.edit(edit(", \"seed\": 6"), "edit-order-1");

        assertThat(first.status()).isEqualTo(200);
        assertThat(again.json().get("task_id").asText()).isEqualTo(first.json().get("task_id").asText());
        assertThat(other.status()).isEqualTo(422);
        assertThat(other.reason()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
    }

    @Test
    void aRetriedEditWithItsIdempotencyKeyAnswersTheFirstTaskWithoutFetchingTheImageAgain() throws Exception {
        java.util.concurrent.atomic.AtomicInteger downloads = new java.util.concurrent.atomic.AtomicInteger();
        byte[] png = Pictures.png(640, 480);
        com.sun.net.httpserver.HttpServer host = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        host.createContext("/signed.png", ex -> {
            downloads.incrementAndGet();
            ex.sendResponseHeaders(200, png.length);
            ex.getResponseBody().write(png);
            ex.close();
        });
        host.start();
        String body = "{\"prompt\": \"add a hat\", \"image\": \"http://127.0.0.1:" + host.getAddress().getPort() + "/signed.png\"}";
        Api.Response first;
        try {
            first = server.api().edit(body, "edit-by-url-1");
        } finally {
            host.stop(0); // the link has expired by the time the client retries
        }
        Api.Response retry = server.api().edit(body, "edit-by-url-1");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(retry.status()).as(retry.body()).isEqualTo(200);
        assertThat(retry.json().get("task_id").asText()).isEqualTo(first.json().get("task_id").asText());
        assertThat(downloads.get()).isEqualTo(1);
    }

    @Test
    void aQueuedOrRunningEditCanBeCancelled() {
        Api api = server.api();
        String id = api.editOk(edit(""));
        assertThat(api.cancel(id).status()).isEqualTo(200);

        JsonNode done = api.awaitFinished(id, Duration.ofSeconds(30));

        assertThat(done.at("/task/status").asText()).isEqualTo("TASK_STATUS_FAILED");
        assertThat(done.at("/task/reason").asText()).isEqualTo("cancelled");
        assertThat(done.at("/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
    }

    @Test
    void aWatermarkedEditCarriesTheVisibleMarkAndTheAigcLabel() throws Exception {
        Api api = server.api();
        String plain = api.editOk(edit(", \"seed\": 9, \"output_format\": \"jpeg\""));
        String marked = api.editOk(edit(", \"seed\": 9, \"output_format\": \"jpeg\", \"watermark\": true"));

        byte[] plainFile = Api.fetch(api.awaitFinished(plain, Duration.ofSeconds(30)).at("/images/0/image_url").asText()).body();
        byte[] markedFile = Api.fetch(api.awaitFinished(marked, Duration.ofSeconds(30)).at("/images/0/image_url").asText()).body();

        assertThat(JpegLabels.aigc(markedFile).get("ProduceID").asText()).isEqualTo(marked);
        BufferedImage a = Pictures.decode(plainFile);
        BufferedImage b = Pictures.decode(markedFile);
        // the same edit (same input, prompt and seed) differs only where the mark is: the bottom-right corner
        assertThat(differs(a, b, 0, 0, a.getWidth() / 2, a.getHeight() / 2)).isFalse();
        assertThat(differs(a, b, a.getWidth() * 3 / 4, a.getHeight() * 3 / 4, a.getWidth(), a.getHeight())).isTrue();
    }

    @Test
    void theEndOfAnEditIsPostedToItsWebhookWithTheEditTaskType() throws Exception {
        List<JsonNode> received = new CopyOnWriteArrayList<>();
        Javalin receiver = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.jetty.host = "127.0.0.1";
            cfg.jetty.port = 0;
            cfg.routes.post("/hook", ctx -> {
                received.add(new ObjectMapper().readTree(ctx.bodyAsBytes()));
                ctx.status(204);
            });
        }).start();
        try {
            String id = server.api().editOk(edit(", \"extra\": {\"webhook\": {\"url\": \"http://127.0.0.1:" + receiver.port() + "/hook\"}}"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (received.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(received).hasSize(1);
            assertThat(received.getFirst().get("event_type").asText()).isEqualTo("ASYNC_TASK_RESULT");
            assertThat(received.getFirst().at("/payload/task/task_id").asText()).isEqualTo(id);
            assertThat(received.getFirst().at("/payload/task/task_type").asText()).isEqualTo("QWEN_IMAGE_EDIT");
            assertThat(received.getFirst().at("/payload/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        } finally {
            receiver.stop();
        }
    }

    @Test
    void usageAndMetricsCountEditsApartFromTextToImage() {
        Api api = server.api().withKey(TestServer.OTHER_KEY);
        String e = api.editOk(edit(""));
        String t = api.submitOk("{\"prompt\": \"a lighthouse\", \"size\": \"512*512\"}");
        api.awaitFinished(e, Duration.ofSeconds(30));
        api.awaitFinished(t, Duration.ofSeconds(30));

        JsonNode rows = server.server().admin().get("/admin/v1/usage").json().get("rows");
        JsonNode bob = null;
        for (JsonNode r : rows) {
            if (r.get("name").asText().endsWith("#2")) {
                bob = r;
            }
        }
        assertThat(bob).as("usage of the second key in %s", rows).isNotNull();
        assertThat(bob.get("submitted").asLong()).isEqualTo(2);
        assertThat(bob.get("images").asLong()).isEqualTo(2);
        assertThat(bob.get("edit_submitted").asLong()).isEqualTo(1);
        assertThat(bob.get("edit_succeeded").asLong()).isEqualTo(1);
        assertThat(bob.get("edit_engine_seconds").asDouble()).isPositive();
        String metrics = server.api().get("/metrics").body();
        assertThat(metrics).containsPattern("qwen_image_tasks_finished_total\\{kind=\"edit\",status=\"succeed\"} [1-9]")
                .containsPattern("qwen_image_key_tasks_total\\{event=\"submitted\",key=\"[^\"]+\",kind=\"edit\"} [1-9]");
    }

    @Test
    void withNoEngineThatCanEditAnEditIsRefusedAtOnceAndTextToImageStillRuns() {
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY, "QWEN_IMAGE_NSFW", "off"));
        // a scripted engine draws from text only, as an engine does unless it says it edits
        try (QwenImageServer textOnly = QwenImageServer.start(ServerConfig.of(values), Clock.systemUTC(), new ScriptedEngine("gpu-text"))) {
            Api api = new Api(textOnly.localUrl(), TestServer.KEY);

            Api.Response refused = api.edit(edit(""));

            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.reason()).isEqualTo("NO_EDIT_ENGINE");
            assertThat(refused.json().get("message").asText()).contains("gpu-text").contains("edit");
            String t = api.submitOk("{\"prompt\": \"a lighthouse\", \"size\": \"512*512\"}");
            assertThat(api.awaitFinished(t, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        }
    }

    @Test
    void theEditEndpointTakesALargeBodyWhileTextToImageKeepsItsLimit() {
        Api api = server.api();
        // a 3 MB noise PNG: beyond text-to-image's 64 KiB, well within the edit's 28 MB
        java.util.Random random = new java.util.Random(1);
        BufferedImage noise = new BufferedImage(1000, 1000, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 1000; y++) {
            for (int x = 0; x < 1000; x++) {
                noise.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        String image = Pictures.base64(Pictures.encode(noise, "png"));
        assertThat(image.length()).isGreaterThan(3_000_000);

        assertThat(api.edit("{\"prompt\": \"calm it down\", \"image\": \"" + image + "\"}").status()).isEqualTo(200);
        Api.Response tooLarge = api.submit("{\"prompt\": \"" + "a".repeat(70_000) + "\"}");
        assertThat(tooLarge.status()).isEqualTo(413);
    }

    @Test
    void badEditFieldsAreRefusedWithTheFieldNamed() {
        Api api = server.api();
        String image = Pictures.base64(Pictures.png(64, 64));

        Api.Response noPrompt = api.edit("{\"image\": \"" + image + "\"}");
        Api.Response noImage = api.edit("{\"prompt\": \"x\"}");
        Api.Response format = api.edit("{\"prompt\": \"x\", \"image\": \"" + image + "\", \"output_format\": \"gif\"}");
        Api.Response seed = api.edit("{\"prompt\": \"x\", \"image\": \"" + image + "\", \"seed\": -2}");
        Api.Response notBase64 = api.edit("{\"prompt\": \"x\", \"image\": \"not an image at all!\"}");
        Api.Response gif = api.edit("{\"prompt\": \"x\", \"image\": \"" + Pictures.base64(Pictures.encode(Pictures.halves(32, 32), "gif")) + "\"}");

        assertThat(noPrompt.status()).isEqualTo(400);
        assertThat(noPrompt.reason()).isEqualTo("INVALID_PROMPT");
        assertThat(noImage.reason()).isEqualTo("INVALID_IMAGE");
        assertThat(noImage.json().at("/metadata/field").asText()).isEqualTo("image");
        assertThat(format.reason()).isEqualTo("INVALID_OUTPUT_FORMAT");
        assertThat(format.json().get("message").asText()).contains("jpeg, png or webp");
        assertThat(seed.reason()).isEqualTo("INVALID_SEED");
        assertThat(notBase64.reason()).isEqualTo("INVALID_IMAGE");
        assertThat(gif.status()).isEqualTo(400);
        assertThat(gif.reason()).isEqualTo("INVALID_IMAGE");
        assertThat(gif.json().get("message").asText()).contains("GIF").contains("JPEG, PNG and WebP");
    }

    private static boolean differs(BufferedImage a, BufferedImage b, int x0, int y0, int x1, int y1) {
        for (int y = y0; y < y1; y += 2) {
            for (int x = x0; x < x1; x += 2) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                if (Math.abs(((p >> 16) & 0xff) - ((q >> 16) & 0xff)) > 24 || Math.abs((p & 0xff) - (q & 0xff)) > 24) {
                    return true;
                }
            }
        }
        return false;
    }
}
