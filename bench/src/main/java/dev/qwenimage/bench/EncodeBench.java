package dev.qwenimage.bench;

import dev.qwenimage.image.ImagePipeline;
import dev.qwenimage.image.ImageType;
import dev.qwenimage.image.JpegEncoder;
import dev.qwenimage.image.Watermark;
import dev.qwenimage.safety.NsfwPolicy;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * Encoding the served image, side by side with libjpeg-turbo itself: the same pixels (1024x1024,
 * quality 90, 4:2:0) through the service's encoders (libjpeg-turbo in-process, the ImageIO
 * fallback, PNG and WebP), through {@code tjbench} (libjpeg-turbo's own in-process benchmark of
 * the same TurboJPEG call: the time to beat) and through {@code cjpeg} as a whole process (PPM in,
 * JPEG file out). Every row is measured in the same run; the service's encoders take turns, one
 * encode each per round, so that a change of machine load hits all of them alike.
 *
 * <p>{@code ./qwen-image bench encode [--image photo.jpg] [--size 1024] [--quality 90] [--rounds 60]}
 */
final class EncodeBench {
    private EncodeBench() {
    }

    record Row(String name, long[] nanos, byte[] file) {
    }

    static void run(Map<String, String> opts) throws Exception {
        int size = Integer.parseInt(opts.getOrDefault("size", "1024"));
        int quality = Integer.parseInt(opts.getOrDefault("quality", "90"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "60"));
        Optional<Path> image = Optional.ofNullable(opts.get("image")).map(Path::of);
        BufferedImage rgb = Pictures.picture(image, size);
        System.out.printf("qwen-image bench encode: %d cores, JDK %s, %dx%d %s, quality %d, %d rounds%n%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), size, size,
                image.map(Path::toString).orElse("generated photo-like picture"), quality, rounds);

        Map<String, Function<BufferedImage, byte[]>> ours = new LinkedHashMap<>();
        Optional<JpegEncoder> turbo = Optional.empty();
        try {
            turbo = Optional.of(JpegEncoder.choose(JpegEncoder.Choice.TURBOJPEG));
        } catch (IllegalStateException e) {
            System.out.println("libturbojpeg cannot be loaded (" + e.getMessage() + "); its rows are left out");
        }
        turbo.ifPresent(t -> ours.put("JPEG: " + t.describe(), img -> t.encode(img, quality)));
        JpegEncoder imageIo = JpegEncoder.choose(JpegEncoder.Choice.IMAGEIO);
        ours.put("JPEG: ImageIO (the pure-Java fallback)", img -> imageIo.encode(img, quality));
        ImagePipeline pipeline = new ImagePipeline(quality, turbo.orElse(imageIo),
                new Watermark("AI生成", Watermark.Corner.BOTTOM_RIGHT), Optional.empty(), NsfwPolicy.off());
        ours.put("PNG: ImageIO (lossless)", img -> pipeline.encode(img, ImageType.PNG));
        ours.put("WebP: ImageIO plugin (lossy, same quality)", img -> pipeline.encode(img, ImageType.WEBP));

        int warmup = Math.max(10, rounds / 3);
        List<Row> rows = new ArrayList<>();
        Map<String, long[]> times = new LinkedHashMap<>();
        Map<String, byte[]> files = new LinkedHashMap<>();
        ours.keySet().forEach(k -> times.put(k, new long[rounds]));
        for (int r = -warmup; r < rounds; r++) {
            for (var e : ours.entrySet()) {
                long t0 = System.nanoTime();
                byte[] file = e.getValue().apply(rgb);
                long t = System.nanoTime() - t0;
                if (r >= 0) {
                    times.get(e.getKey())[r] = t;
                }
                files.put(e.getKey(), file);
            }
        }
        ours.keySet().forEach(k -> rows.add(new Row(k, times.get(k), files.get(k))));

        Path dir = Files.createTempDirectory("qwen-bench-encode");
        Path ppm = dir.resolve("in.ppm");
        Pictures.writePpm(rgb, ppm);
        OptionalDoubleMs tj = tjbench(ppm, quality, size);
        Optional<Row> cjpeg = cjpeg(ppm, dir.resolve("out.jpg"), quality, Math.min(rounds, 40));

        double baselineMs = tj.ms().orElse(cjpeg.map(c -> median(c.nanos()) / 1e6).orElse(Double.NaN));
        Integer baselineSize = cjpeg.map(c -> c.file().length).orElse(null);
        System.out.println("| encoder | p50 ms | p90 ms | bytes | PSNR dB | time vs libjpeg-turbo | size vs cjpeg |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        if (tj.ms().isPresent()) {
            System.out.printf("| libjpeg-turbo in C: tjbench, TurboJPEG compress, BGRX 4:2:0 (baseline) | %.2f | | | | 1.00x | |%n",
                    tj.ms().get());
        } else {
            System.out.println("| tjbench not found (Debian/Ubuntu: apt-get install libjpeg-turbo-progs) | | | | | | |");
        }
        if (cjpeg.isPresent()) {
            printRow(cjpeg.get(), rgb, baselineMs, baselineSize, "cjpeg -quality " + quality + " as a process (PPM file in, file out)");
        } else {
            System.out.println("| cjpeg not found (Debian/Ubuntu: apt-get install libjpeg-turbo-progs) | | | | | | |");
        }
        for (Row row : rows) {
            printRow(row, rgb, baselineMs, baselineSize, row.name());
        }
        System.out.println();
        if (tj.line() != null) {
            System.out.println("tjbench said: " + tj.line().strip());
        }
    }

    private static void printRow(Row row, BufferedImage original, double baselineMs, Integer baselineSize, String name) throws IOException {
        long[] sorted = row.nanos().clone();
        Arrays.sort(sorted);
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(row.file()));
        String psnr = decoded == null ? "n/a" : String.format("%.2f", Pictures.psnr(original, decoded));
        System.out.printf("| %s | %.2f | %.2f | %d | %s | %.2fx | %s |%n", name, Bench.pct(sorted, 50) / 1e6, Bench.pct(sorted, 90) / 1e6,
                row.file().length, psnr, Bench.pct(sorted, 50) / 1e6 / baselineMs,
                baselineSize == null || !name.contains("JPEG") && !name.startsWith("cjpeg") ? ""
                        : String.format("%+.1f%%", 100.0 * (row.file().length - baselineSize) / baselineSize));
    }

    private static double median(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return Bench.pct(s, 50);
    }

    record OptionalDoubleMs(Optional<Double> ms, String line) {
    }

    /** tjbench's compression time for one image, from its "Comp Perf" column (megapixels per second). */
    private static OptionalDoubleMs tjbench(Path ppm, int quality, int size) throws Exception {
        List<String> out;
        try {
            out = runFor(List.of("tjbench", ppm.toString(), String.valueOf(quality), "-bgrx", "-subsamp", "420", "-componly",
                    "-nowrite", "-benchtime", "3", "-warmup", "1", "-quiet"));
        } catch (IOException e) {
            return new OptionalDoubleMs(Optional.empty(), null);
        }
        for (String line : out) {
            String[] f = line.trim().split("\\s+");
            // BGRX (TD)  4:2:0  90  1024  1024  602.6  59.79  N/A
            if (f.length >= 8 && f[0].equals("BGRX") && f[4].equals(String.valueOf(size))) {
                double megapixelsPerSecond = Double.parseDouble(f[6]);
                return new OptionalDoubleMs(Optional.of((double) size * size / 1e6 / megapixelsPerSecond * 1000), line);
            }
        }
        throw new IllegalStateException("tjbench gave no result line: " + out);
    }

    private static Optional<Row> cjpeg(Path ppm, Path jpg, int quality, int runs) throws Exception {
        long[] nanos = new long[runs];
        for (int i = -3; i < runs; i++) {
            long t0 = System.nanoTime();
            try {
                runFor(List.of("cjpeg", "-quality", String.valueOf(quality), "-outfile", jpg.toString(), ppm.toString()));
            } catch (IOException e) {
                return Optional.empty();
            }
            if (i >= 0) {
                nanos[i] = System.nanoTime() - t0;
            }
        }
        return Optional.of(new Row("cjpeg", nanos, Files.readAllBytes(jpg)));
    }

    private static List<String> runFor(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(command.getFirst() + " failed: " + out);
        }
        return out.lines().toList();
    }
}
