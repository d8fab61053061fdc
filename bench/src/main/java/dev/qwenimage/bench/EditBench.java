package dev.qwenimage.bench;

import com.sun.net.httpserver.HttpServer;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.edit.InputDecoder;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * What an edit's input costs at submit, against a text-to-image submit in the same run:
 * <ol>
 *   <li>submit latency, one request at a time, of a text-to-image task, of an edit whose 2 MB JPEG
 *       comes base64 in the body, and of one whose JPEG is fetched from a local HTTP server;</li>
 *   <li>the CPU time per image of preparing the input ({@link InputDecoder}: sniff, header, decode,
 *       orientation, flatten, scale, PNG), against a bare {@code ImageIO.read} of the same file.</li>
 * </ol>
 * The engine never comes up, so no generation competes for the CPU; tasks just queue.
 *
 * <p>Usage: {@code ./qwen-image bench edit [--rounds 40] [--warmup 10]}.
 */
final class EditBench {
    private static final String KEY = "bench-key-0123456789";

    private EditBench() {
    }

    /** An engine that edits and never comes up: its tasks wait, so submits are measured alone. */
    private static final class Parked implements Engine {
        @Override
        public String name() {
            return "parked";
        }

        @Override
        public String describe() {
            return "parked (never up)";
        }

        @Override
        public int defaultSteps() {
            return 20;
        }

        @Override
        public Set<TaskKind> kinds() {
            return TaskKind.ALL;
        }

        @Override
        public EngineHealth probe() {
            return new EngineHealth.Down("parked for the benchmark");
        }

        @Override
        public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
            return new GenerationResult.TransientFailure("parked");
        }
    }

    static void run(Map<String, String> opts) throws Exception {
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "40"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "10"));
        byte[] jpeg = photo(2_000_000);
        System.out.printf(Locale.ROOT, "input: a %dx%d JPEG of %.2f MB%n", 2400, 1600, jpeg.length / 1e6);

        HttpServer host = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        host.createContext("/photo.jpg", ex -> {
            ex.getResponseHeaders().add("Content-Type", "image/jpeg");
            ex.sendResponseHeaders(200, jpeg.length);
            ex.getResponseBody().write(jpeg);
            ex.close();
        });
        host.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        host.start();
        Path dir = Files.createTempDirectory("qwen-edit-bench");
        String url = "http://127.0.0.1:" + host.getAddress().getPort() + "/photo.jpg";
        String txt2img = "{\"prompt\": \"a lighthouse at dusk\", \"size\": \"1024*1024\"}";
        String inline = "{\"prompt\": \"make the sky purple\", \"image\": \"" + Base64.getEncoder().encodeToString(jpeg) + "\"}";
        String byUrl = "{\"prompt\": \"make the sky purple\", \"image\": \"" + url + "\"}";
        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", dir.toString(),
                "QWEN_IMAGE_API_KEYS", KEY, "QWEN_IMAGE_LOG_LEVEL", "warn", "QWEN_IMAGE_OUTBOUND_ALLOW", "127.0.0.1/32",
                "QWEN_IMAGE_MAX_QUEUED_PER_KEY", "0", "QWEN_IMAGE_MAX_QUEUED", "0", "QWEN_IMAGE_NO_ENGINE_TIMEOUT", "0")),
                Clock.systemUTC(), new Parked())) {
            HttpClient http = HttpClient.newHttpClient();
            String base = server.localUrl();
            List<long[]> samples = List.of(new long[rounds], new long[rounds], new long[rounds]);
            String[] bodies = {txt2img, inline, byUrl};
            String[] paths = {"/v3/async/qwen-image-txt2img", "/v3/async/qwen-image-edit", "/v3/async/qwen-image-edit"};
            for (int i = 0; i < warmup + rounds; i++) {
                for (int k = 0; k < 3; k++) { // interleaved, so drift hits all three alike
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + paths[k]))
                            .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(bodies[k])).build(), HttpResponse.BodyHandlers.ofString());
                    long took = System.nanoTime() - t0;
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException(paths[k] + " answered " + r.statusCode() + ": " + r.body());
                    }
                    if (i >= warmup) {
                        samples.get(k)[i - warmup] = took;
                    }
                }
            }
            double base50 = percentile(samples.get(0), 50);
            System.out.println();
            System.out.println("| submit (one at a time) | p50 ms | p90 ms | p50 vs text-to-image |");
            System.out.println("|---|---:|---:|---:|");
            String[] names = {"text-to-image (baseline)", "edit, 2 MB JPEG in base64", "edit, 2 MB JPEG by URL (local server)"};
            for (int k = 0; k < 3; k++) {
                System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1fx |%n", names[k], percentile(samples.get(k), 50) / 1e6,
                        percentile(samples.get(k), 90) / 1e6, percentile(samples.get(k), 50) / base50);
            }
        } finally {
            host.stop(0);
        }

        // CPU per image of preparing the input, on this thread, against a plain decode of the same file
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        InputDecoder decoder = new InputDecoder(50_000_000);
        long[] plain = new long[rounds];
        long[] prepared = new long[rounds];
        for (int i = 0; i < warmup + rounds; i++) {
            long c0 = cpu.getCurrentThreadCpuTime();
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(jpeg));
            long c1 = cpu.getCurrentThreadCpuTime();
            decoder.decode(jpeg);
            long c2 = cpu.getCurrentThreadCpuTime();
            if (img == null) {
                throw new IllegalStateException("cannot read the bench JPEG");
            }
            if (i >= warmup) {
                plain[i - warmup] = c1 - c0;
                prepared[i - warmup] = c2 - c1;
            }
        }
        System.out.println();
        System.out.println("| CPU per input image (one thread) | p50 ms | p90 ms | vs plain decode |");
        System.out.println("|---|---:|---:|---:|");
        System.out.printf(Locale.ROOT, "| ImageIO.read of the JPEG (baseline) | %.1f | %.1f | 1.0x |%n", percentile(plain, 50) / 1e6,
                percentile(plain, 90) / 1e6);
        System.out.printf(Locale.ROOT, "| InputDecoder.decode: sniff, header, decode, EXIF, flatten, scale to %s, PNG | %.1f | %.1f | %.2fx |%n",
                dev.qwenimage.edit.EditSize.forInput(2400, 1600), percentile(prepared, 50) / 1e6, percentile(prepared, 90) / 1e6, percentile(prepared, 50) / percentile(plain, 50));
    }

    /** A photo-like 2400x1600 JPEG of about {@code target} bytes: gradients, shapes and grain. */
    static byte[] photo(int target) throws Exception {
        BufferedImage img = new BufferedImage(2400, 1600, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setPaint(new GradientPaint(0, 0, new Color(70, 120, 200), 0, 1000, new Color(250, 200, 150)));
        g.fillRect(0, 0, 2400, 1600);
        Random random = new Random(7);
        for (int i = 0; i < 300; i++) {
            g.setColor(new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256), 120));
            g.fillOval(random.nextInt(2400), 600 + random.nextInt(1000), 20 + random.nextInt(200), 20 + random.nextInt(200));
        }
        g.dispose();
        for (int y = 0; y < 1600; y++) {
            for (int x = 0; x < 2400; x++) {
                int p = img.getRGB(x, y);
                int n = random.nextInt(25) - 12;
                int r = Math.clamp(((p >> 16) & 0xff) + n, 0, 255);
                int gg = Math.clamp(((p >> 8) & 0xff) + n, 0, 255);
                int b = Math.clamp((p & 0xff) + n, 0, 255);
                img.setRGB(x, y, r << 16 | gg << 8 | b);
            }
        }
        byte[] best = null;
        for (float q = 0.95f; q >= 0.5f; q -= 0.05f) {
            best = jpeg(img, q);
            if (best.length <= target) {
                break;
            }
        }
        return best;
    }

    private static byte[] jpeg(BufferedImage img, float quality) throws Exception {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            writer.write(null, new IIOImage(img, null, null), p);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static double percentile(long[] values, int p) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
