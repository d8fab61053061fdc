package dev.qwenimage.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.safety.NsfwModel;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;

/**
 * The NSFW classifier against nsfwjs, measured in one run on the same images: Java on one thread
 * and on all cores, and nsfwjs in Node on TF.js's WebAssembly backend (SIMD; the fastest backend
 * that installs here: tfjs-node needs a native download) and on its pure-JavaScript CPU backend
 * (slow: a few images). Each figure is the time of nsfwjs's {@code infer()} or Java's
 * {@code classify()} per image, preprocessing (divide, resize) included, decoding excluded: wall
 * time, and CPU time (the measuring thread's for Java on one thread, the whole process's
 * otherwise), which is less disturbed by other work on a shared machine. Java on one thread is
 * measured before and after nsfwjs, so that a change of load during the run shows.
 *
 * <p>Usage: {@code ./qwen-image bench nsfw [--rounds 5] [--cpu-images 4] [--fixtures DIR]}. Needs
 * node and npm for the nsfwjs rows; installs tools/nsfw's pinned packages with {@code npm ci} when
 * tools/nsfw/node_modules is missing.
 */
public final class NsfwBench {
    private NsfwBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Bench.parse(args);
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "5"));
        int cpuImages = Integer.parseInt(opts.getOrDefault("cpu-images", "4"));
        Path root = repositoryRoot();
        Path fixtures = Path.of(opts.getOrDefault("fixtures", root.resolve("server/src/test/resources/nsfw/fixtures").toString()));
        List<String> files;
        try (var list = Files.list(fixtures)) {
            files = list.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".png")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalStateException("no PNG fixtures in " + fixtures);
        }
        List<BufferedImage> images = new ArrayList<>();
        for (String f : files) {
            images.add(ImageIO.read(fixtures.resolve(f).toFile()));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("qwen-image bench nsfw: %d cores, JDK %s, %d images (%s), %d rounds, load average %s%n%n", cores,
                Runtime.version(), images.size(), fixtures, rounds, loadAverage());

        NsfwModel model = NsfwModel.loadDefault();
        List<Row> rows = new ArrayList<>();
        // warm-up: let the JIT compile the kernels (about a second of work)
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < warm) {
            images.forEach(model::classify);
        }
        Path tools = root.resolve("tools/nsfw");
        String why = nodeProblem(tools);
        rows.add(javaOneThread("Java (dev.qwenimage.safety), 1 thread, before nsfwjs", model, images, rounds));
        rows.add(javaAllCores(model, images, rounds, cores));
        if (why == null) {
            JsonNode wasm = node(tools, fixtures, "wasm", rounds, files.size(), 1);
            rows.add(new Row("nsfwjs 4.4.0, tfjs-backend-wasm 4.22.0 (SIMD " + (wasm.path("simd").asBoolean() ? "on" : "off") + ")",
                    wasm.path("threads").asInt(1), wasm.path("images").size(), array(wasm, "msPerImage"),
                    array(wasm, "cpuMsPerImage")));
            rows.add(wasmAllCores(tools, fixtures, rounds, files.size(), cores));
            JsonNode cpu = node(tools, fixtures, "cpu", 1, cpuImages, 0);
            rows.add(new Row("nsfwjs 4.4.0, tfjs CPU backend (pure JS), " + cpu.path("images").size() + " images",
                    1, cpu.path("images").size(), array(cpu, "msPerImage"), array(cpu, "cpuMsPerImage")));
            rows.add(javaOneThread("Java, 1 thread, after nsfwjs", model, images, rounds));
        } else {
            System.out.println("nsfwjs rows skipped: " + why + "\n");
        }
        table(rows);
        System.out.printf("%nload average after: %s%n", loadAverage());
    }

    private record Row(String name, int threads, int images, double[] msPerImage, double[] cpuMsPerImage) {
        double median() {
            return NsfwBench.median(msPerImage);
        }

        double cpuMedian() {
            return NsfwBench.median(cpuMsPerImage);
        }
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static Row javaOneThread(String name, NsfwModel model, List<BufferedImage> images, int rounds) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] ms = new double[rounds];
        double[] cpu = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            long c0 = threads.getCurrentThreadCpuTime();
            for (BufferedImage image : images) {
                model.classify(image);
            }
            cpu[r] = (threads.getCurrentThreadCpuTime() - c0) / 1e6 / images.size();
            ms[r] = (System.nanoTime() - t0) / 1e6 / images.size();
        }
        return new Row(name, 1, images.size(), ms, cpu);
    }

    /** Throughput over all cores: each round classifies every image four times with classifyAll. */
    private static Row javaAllCores(NsfwModel model, List<BufferedImage> images, int rounds, int cores) {
        List<BufferedImage> batch = IntStream.range(0, 4).boxed().flatMap(i -> images.stream()).toList();
        model.classifyAll(batch); // warm the other threads' buffers
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] ms = new double[rounds];
        double[] cpu = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            long c0 = os.getProcessCpuTime();
            model.classifyAll(batch);
            cpu[r] = (os.getProcessCpuTime() - c0) / 1e6 / batch.size();
            ms[r] = (System.nanoTime() - t0) / 1e6 / batch.size();
        }
        return new Row("Java, all cores (classifyAll, " + cores + " threads)", cores, images.size(), ms, cpu);
    }

    private static double[] array(JsonNode result, String field) {
        JsonNode a = result.path(field);
        double[] ms = new double[a.size()];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = a.get(i).asDouble();
        }
        return ms;
    }

    private static void table(List<Row> rows) {
        Row wasm = rows.stream().filter(r -> r.name().contains("wasm") && r.threads() == 1).findFirst().orElse(null);
        System.out.println("| implementation | threads | images | ms per image, wall (median) | wall per round "
                + "| CPU ms per image (median) | images/s | nsfwjs wasm wall / this wall |");
        System.out.println("|---|---:|---:|---:|---|---:|---:|---:|");
        for (Row r : rows) {
            String each = String.join(" ", Arrays.stream(r.msPerImage()).mapToObj(v -> String.format("%.1f", v)).toList());
            System.out.printf("| %s | %d | %d | %.2f | %s | %.2f | %.1f | %s |%n", r.name(), r.threads(), r.images(), r.median(), each,
                    r.cpuMedian(), 1000 / r.median(), wasm == null ? "n/a" : String.format("%.2fx", wasm.median() / r.median()));
        }
        if (wasm != null) {
            double[] java1 = rows.stream().filter(r -> r.threads() == 1 && r.name().startsWith("Java"))
                    .flatMapToDouble(r -> Arrays.stream(r.msPerImage())).toArray();
            double[] java1Cpu = rows.stream().filter(r -> r.threads() == 1 && r.name().startsWith("Java"))
                    .flatMapToDouble(r -> Arrays.stream(r.cpuMsPerImage())).toArray();
            System.out.printf("%nJava on one thread (all %d rounds, before and after): %.2f ms per image wall, %.2f ms CPU;"
                    + " nsfwjs on wasm: %.2f ms wall, %.2f ms CPU. Java is %.2fx as fast by wall time, %.2fx by CPU time.%n",
                    java1.length, median(java1), median(java1Cpu), wasm.median(), wasm.cpuMedian(), wasm.median() / median(java1),
                    wasm.cpuMedian() / median(java1Cpu));
        }
        Row javaAll = rows.stream().filter(r -> r.threads() > 1 && r.name().startsWith("Java")).findFirst().orElse(null);
        Row wasmAll = rows.stream().filter(r -> r.threads() > 1 && r.name().contains("wasm")).findFirst().orElse(null);
        if (javaAll != null && wasmAll != null) {
            System.out.printf("All cores: Java %.2f ms per image, nsfwjs on wasm %.2f ms. Java is %.2fx as fast.%n",
                    javaAll.median(), wasmAll.median(), wasmAll.median() / javaAll.median());
        }
    }

    // ---- nsfwjs in Node -----------------------------------------------------------------------

    /** Why the nsfwjs rows cannot run, or null; installs tools/nsfw's packages when they are missing. */
    private static String nodeProblem(Path tools) throws IOException, InterruptedException {
        if (!Files.isRegularFile(tools.resolve("bench.js"))) {
            return "tools/nsfw/bench.js not found (run from a checkout of the repository)";
        }
        if (!runs("node", "--version")) {
            return "node not found on PATH";
        }
        if (!Files.isDirectory(tools.resolve("node_modules"))) {
            if (!runs("npm", "--version")) {
                return "tools/nsfw/node_modules is missing and npm is not on PATH";
            }
            System.out.println("tools/nsfw/node_modules is missing: installing the pinned packages with"
                    + " `npm ci --ignore-scripts` (nsfwjs, @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, pngjs, jpeg-js)...");
            Process npm = new ProcessBuilder("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund").directory(tools.toFile())
                    .inheritIO().start();
            if (npm.waitFor() != 0) {
                return "`npm ci` failed in tools/nsfw";
            }
            System.out.println();
        }
        return null;
    }

    private static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static JsonNode node(Path tools, Path fixtures, String backend, int rounds, int limit, int warmup)
            throws IOException, InterruptedException {
        return result(startNode(tools, fixtures, backend, rounds, limit, warmup, 0), backend);
    }

    /**
     * nsfwjs's throughput on all cores: Node's wasm backend has one thread, so as many Node
     * processes as cores, each classifying every image per round, all told to begin their measured
     * rounds at one wall-clock moment (after loading and warming up). Wall time per image is the
     * span from that moment to the last process's end, over all the images all of them classified.
     */
    private static Row wasmAllCores(Path tools, Path fixtures, int rounds, int limit, int cores)
            throws IOException, InterruptedException {
        long startAt = System.currentTimeMillis() + 20_000; // load + warm-up of every process, with room to spare
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < cores; i++) {
            processes.add(startNode(tools, fixtures, "wasm", rounds, limit, 1, startAt));
        }
        List<JsonNode> results = new ArrayList<>();
        for (Process p : processes) {
            results.add(result(p, "wasm"));
        }
        if (results.stream().anyMatch(r -> r.path("startedLate").asBoolean())) {
            throw new IllegalStateException("a Node process was not ready 20 s after start; the machine is too busy to measure");
        }
        int images = results.getFirst().path("images").size();
        double[] ms = new double[rounds];
        double[] cpu = new double[rounds];
        // the round-by-round figure: the slowest process's round time over all processes' images
        for (int r = 0; r < rounds; r++) {
            double slowest = 0;
            double cpuSum = 0;
            for (JsonNode res : results) {
                slowest = Math.max(slowest, res.path("msPerImage").get(r).asDouble());
                cpuSum += res.path("cpuMsPerImage").get(r).asDouble();
            }
            ms[r] = slowest / cores;
            cpu[r] = cpuSum / cores;
        }
        long end = results.stream().mapToLong(res -> res.path("endEpochMs").asLong()).max().orElseThrow();
        System.out.printf("nsfwjs wasm on %d processes: %.2f ms per image over the whole span (%d ms for %d x %d x %d images)%n%n",
                cores, (double) (end - startAt) / ((long) cores * images * rounds), end - startAt, cores, images, rounds);
        return new Row("nsfwjs wasm, all cores (" + cores + " Node processes at once)", cores, images, ms, cpu);
    }

    private static Process startNode(Path tools, Path fixtures, String backend, int rounds, int limit, int warmup,
                                     long startAt) throws IOException {
        return new ProcessBuilder("node", "bench.js", "--backend", backend, "--fixtures", fixtures.toString(), "--rounds",
                String.valueOf(rounds), "--limit", String.valueOf(limit), "--warmup", String.valueOf(warmup),
                "--start-at", String.valueOf(startAt))
                .directory(tools.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static JsonNode result(Process p, String backend) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("node bench.js --backend " + backend + " failed:\n" + out);
        }
        String json = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("no result from node bench.js:\n" + out));
        return new ObjectMapper().readTree(json);
    }

    // ---- environment --------------------------------------------------------------------------

    /** The checkout this bench jar was built in (bench/target/qwen-image-bench.jar), else the working directory. */
    private static Path repositoryRoot() {
        try {
            Path jar = Path.of(NsfwBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = jar; p != null; p = p.getParent()) {
                if (Files.isDirectory(p.resolve("tools/nsfw")) && Files.isDirectory(p.resolve("server"))) {
                    return p;
                }
            }
        } catch (URISyntaxException | SecurityException e) {
            // fall through
        }
        return Path.of("").toAbsolutePath();
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(new File("/proc/loadavg").toPath()).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
