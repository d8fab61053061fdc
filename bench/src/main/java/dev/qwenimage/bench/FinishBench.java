package dev.qwenimage.bench;

import dev.qwenimage.image.AigcLabel;
import dev.qwenimage.image.ImagePipeline;
import dev.qwenimage.image.ImageType;
import dev.qwenimage.image.JpegEncoder;
import dev.qwenimage.image.Watermark;
import dev.qwenimage.safety.NsfwModel;
import dev.qwenimage.safety.NsfwVerdict;
import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskIds;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.sqlite.SqliteTaskStore;
import dev.qwenimage.worker.TaskRunner;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What finishing one generated image costs a worker, stage by stage, in CPU time of the thread
 * that does it (and wall time, which adds the disk's fsync): the engine's decoded 1024x1024
 * picture made exact RGB, the NSFW verdict, the visible watermark, JPEG, the AIGC label, the
 * atomic file write and the SUCCEED commit on the embedded store. These are the stages and the
 * calls a worker's finisher makes, in its order. Two encoders take turns image by image in the
 * same run: libjpeg-turbo (the default where it is installed) and the ImageIO fallback (what
 * every image cost before), so the ratio between them is this run's own.
 *
 * <p>{@code ./qwen-image bench finish [--images 60] [--image photo.jpg]}
 */
final class FinishBench {
    private FinishBench() {
    }

    private static final List<String> STAGES = List.of("resize", "nsfw", "watermark", "encode", "label", "store", "succeed");

    static void run(Map<String, String> opts) throws Exception {
        int images = Integer.parseInt(opts.getOrDefault("images", "60"));
        int size = 1024;
        Optional<Path> file = Optional.ofNullable(opts.get("image")).map(Path::of);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure a thread's CPU time");
        }
        // what an engine's PNG decodes to (ImageIO gives 3-byte BGR): the resize stage makes it exact RGB
        BufferedImage generated = Pictures.picture(file, size);
        BufferedImage decoded = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = decoded.createGraphics();
        g.drawImage(generated, 0, 0, null);
        g.dispose();

        Map<String, JpegEncoder> encoders = new LinkedHashMap<>();
        try {
            encoders.put("libjpeg-turbo", JpegEncoder.choose(JpegEncoder.Choice.TURBOJPEG));
        } catch (IllegalStateException e) {
            System.out.println("libturbojpeg cannot be loaded (" + e.getMessage() + "); only the ImageIO rows are measured");
        }
        encoders.put("ImageIO (before)", JpegEncoder.choose(JpegEncoder.Choice.IMAGEIO));

        NsfwModel model = NsfwModel.loadDefault();
        Watermark watermark = new Watermark("AI生成", Watermark.Corner.BOTTOM_RIGHT);
        AigcLabel label = new AigcLabel("qwen-image-server");
        Path dir = Files.createTempDirectory("qwen-bench-finish");
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("images"), new UrlSigner(new byte[32], Clock.systemUTC()));
        SqliteTaskStore store = SqliteTaskStore.open(dir.resolve("tasks.db"));
        int warmup = 15;
        int total = (images + warmup) * encoders.size();
        for (int i = 0; i < total; i++) {
            store.insert(new NewTask(TaskIds.next(Clock.systemUTC()), "bench",
                    new TaskSpec("finish " + i, "", size, size, true, i, OptionalInt.empty()), 3, Instant.now()));
        }
        System.out.printf("qwen-image bench finish: %d cores, JDK %s, %dx%d %s, %d images per encoder after %d warm-up,"
                        + " watermark on, NSFW on, embedded store in %s%n%n", Runtime.getRuntime().availableProcessors(),
                Runtime.version(), size, size, file.map(Path::toString).orElse("generated photo-like picture"), images, warmup, dir);

        Map<String, long[][]> cpu = new LinkedHashMap<>();
        Map<String, long[][]> wall = new LinkedHashMap<>();
        encoders.keySet().forEach(k -> {
            cpu.put(k, new long[STAGES.size()][images]);
            wall.put(k, new long[STAGES.size()][images]);
        });
        for (int i = -warmup; i < images; i++) {
            for (var e : encoders.entrySet()) {
                Task task = store.claim("bench-worker", "gpu", Instant.now(), Duration.ofMinutes(5)).orElseThrow();
                long[] c = new long[STAGES.size() + 1];
                long[] w = new long[STAGES.size() + 1];
                int s = 0;
                c[s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                BufferedImage rgb = ImagePipeline.resize(decoded, size, size);
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                Optional<NsfwVerdict> verdict = Optional.of(NsfwVerdict.of(model.classify(rgb).unsafe(), 0.8));
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                watermark.apply(rgb);
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                byte[] jpeg = e.getValue().encode(rgb, 90);
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                byte[] labelled = label.embed(jpeg, ImageType.JPEG, task.id());
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                String key = TaskRunner.imageKey(task.id(), ImageType.JPEG);
                blobs.put(key, labelled, ImageType.JPEG.contentType());
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                if (!store.succeed(task.id(), "bench-worker", key, verdict, 2000, Instant.now())) {
                    throw new IllegalStateException("SUCCEED refused for " + task.id());
                }
                c[++s] = threads.getCurrentThreadCpuTime();
                w[s] = System.nanoTime();
                if (i >= 0) {
                    for (int k = 0; k < STAGES.size(); k++) {
                        cpu.get(e.getKey())[k][i] = c[k + 1] - c[k];
                        wall.get(e.getKey())[k][i] = w[k + 1] - w[k];
                    }
                }
            }
        }
        store.close();

        List<String> names = new ArrayList<>(encoders.keySet());
        StringBuilder header = new StringBuilder("| stage |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String n : names) {
            header.append(" CPU p50 ms, ").append(n).append(" | wall p50 ms |");
            rule.append("---:|---:|");
        }
        System.out.println(header);
        System.out.println(rule);
        for (int k = 0; k < STAGES.size(); k++) {
            StringBuilder row = new StringBuilder("| " + STAGES.get(k) + " |");
            for (String n : names) {
                row.append(String.format(" %.2f | %.2f |", p50(cpu.get(n)[k]) / 1e6, p50(wall.get(n)[k]) / 1e6));
            }
            System.out.println(row);
        }
        StringBuilder sum = new StringBuilder("| **all stages, per image (p50 of the sums)** |");
        Map<String, Double> totals = new LinkedHashMap<>();
        for (String n : names) {
            double c = p50(sums(cpu.get(n))) / 1e6;
            totals.put(n, c);
            sum.append(String.format(" **%.2f** | %.2f |", c, p50(sums(wall.get(n))) / 1e6));
        }
        System.out.println(sum);
        StringBuilder p99 = new StringBuilder("| all stages, p99 |");
        for (String n : names) {
            long[] s = sums(cpu.get(n));
            long[] ws = sums(wall.get(n));
            Arrays.sort(s);
            Arrays.sort(ws);
            p99.append(String.format(" %.2f | %.2f |", Bench.pct(s, 99) / 1e6, Bench.pct(ws, 99) / 1e6));
        }
        System.out.println(p99);
        System.out.println();
        if (names.size() == 2) {
            System.out.printf("CPU per finished image with %s: %.0f%% of the same stages with %s in this run.%n", names.get(0),
                    100 * totals.get(names.get(0)) / totals.get(names.get(1)), names.get(1));
        }
    }

    private static long[] sums(long[][] stages) {
        long[] s = new long[stages[0].length];
        for (long[] stage : stages) {
            for (int i = 0; i < s.length; i++) {
                s[i] += stage[i];
            }
        }
        return s;
    }

    private static double p50(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return Bench.pct(s, 50);
    }
}
