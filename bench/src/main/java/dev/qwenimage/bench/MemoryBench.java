package dev.qwenimage.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service's resident memory as a user runs it: started by the launcher ({@code ./qwen-image
 * serve}, the JVM's own defaults) and with the container's JVM flags (given the same way through
 * {@code QWEN_IMAGE_JAVA_OPTS}), on the embedded store and the preview engine with NSFW on. RSS
 * (from /proc) idle after start-up, after {@code --tasks} tasks and after twice as many, each
 * task submitted and polled to SUCCEED over HTTP ({@code --in-flight} at a time). The baseline
 * is the idle RSS of the same process: growth between the two task counts is what must stay flat.
 *
 * <p>{@code ./qwen-image bench memory [--tasks 10000] [--size 256*256] [--in-flight 64]}
 */
final class MemoryBench {
    private static final String KEY = "bench-memory-key-0123456789";
    private static final Pattern TASK_ID = Pattern.compile("\"task_id\"\\s*:\\s*\"([^\"]+)\"");
    private static final String CONTAINER_FLAGS = "-XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=5 -XX:+UseG1GC"
            + " -XX:G1PeriodicGCInterval=60000 -XX:MaxMetaspaceSize=192m -XX:ReservedCodeCacheSize=96m -XX:MaxDirectMemorySize=128m";

    /** After a batch, as long as an idle service takes to give back what the batch's garbage took. */
    private static final long SETTLE_MILLIS = 20_000;

    private MemoryBench() {
    }

    static void run(Map<String, String> opts) throws Exception {
        int tasks = Integer.parseInt(opts.getOrDefault("tasks", "10000"));
        String size = opts.getOrDefault("size", "256*256");
        int inFlight = Integer.parseInt(opts.getOrDefault("in-flight", "64"));
        Path launcher = Path.of(opts.getOrDefault("launcher", "qwen-image")).toAbsolutePath();
        System.out.printf("qwen-image bench memory: %d cores, %s, %d + %d tasks of %s, %d in flight, launcher %s%n%n",
                Runtime.getRuntime().availableProcessors(), memTotal(), tasks, tasks, size, inFlight, launcher);
        List<String[]> rows = new ArrayList<>();
        List<String[]> variants = new ArrayList<>(List.of(new String[] {"launcher defaults (./qwen-image serve)", ""},
                new String[] {"container JVM flags (entrypoint.sh)", CONTAINER_FLAGS}));
        if (opts.containsKey("java-opts")) {
            variants = List.<String[]>of(new String[] {"QWEN_IMAGE_JAVA_OPTS=" + opts.get("java-opts"), opts.get("java-opts")});
        }
        for (String[] variant : variants) {
            rows.add(measure(launcher, variant[0], variant[1], tasks, size, inFlight));
        }
        System.out.println("| JVM settings | idle RSS MB (baseline) | after " + tasks + " tasks | after " + 2 * tasks
                + " tasks | growth " + tasks + " -> " + 2 * tasks + " |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (String[] r : rows) {
            System.out.println("| " + String.join(" | ", r) + " |");
        }
    }

    private static String[] measure(Path launcher, String name, String javaOpts, int tasks, String size, int inFlight) throws Exception {
        Path data = Files.createTempDirectory("qwen-bench-memory");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "serve").redirectErrorStream(true)
                .redirectOutput(data.resolve("server.log").toFile());
        pb.environment().putAll(Map.of("QWEN_IMAGE_PORT", String.valueOf(port), "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", data.resolve("data").toString(), "QWEN_IMAGE_API_KEYS", KEY,
                "QWEN_IMAGE_LOG_LEVEL", "warn", "QWEN_IMAGE_MAX_QUEUED_PER_KEY", "0", "QWEN_IMAGE_JAVA_OPTS", javaOpts));
        Process p = pb.start();
        try {
            String base = "http://127.0.0.1:" + port;
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            awaitReady(http, base, p);
            Thread.sleep(5000);
            long idle = rssOfJava(p);
            run(http, base, tasks, size, inFlight);
            Thread.sleep(SETTLE_MILLIS);
            long first = rssOfJava(p);
            run(http, base, tasks, size, inFlight);
            Thread.sleep(SETTLE_MILLIS);
            long second = rssOfJava(p);
            System.out.printf("%s: idle %d MB, after %d tasks %d MB, after %d tasks %d MB%n", name, idle >> 20, tasks, first >> 20,
                    2 * tasks, second >> 20);
            return new String[] {name, String.valueOf(idle >> 20), String.valueOf(first >> 20), String.valueOf(second >> 20),
                    String.format("%+d MB", (second - first) >> 20)};
        } finally {
            p.toHandle().descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor();
            Bench.deleteTree(data);
        }
    }

    private static void run(HttpClient http, String base, int tasks, String size, int inFlight) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        List<Thread> threads = new ArrayList<>();
        String body = "{\"prompt\": \"a lighthouse at dusk, task %d\", \"size\": \"" + size + "\", \"watermark\": %b}";
        for (int i = 0; i < tasks; i++) {
            slots.acquire();
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    String created = send(http, HttpRequest.newBuilder(URI.create(base + "/v3/async/qwen-image-txt2img"))
                            .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.formatted(n, n % 2 == 0))).build());
                    Matcher m = TASK_ID.matcher(created);
                    if (!m.find()) {
                        throw new IllegalStateException("no task_id in " + created);
                    }
                    HttpRequest poll = HttpRequest.newBuilder(URI.create(base + "/v3/async/task-result?task_id=" + m.group(1)))
                            .header("Authorization", "Bearer " + KEY).build();
                    while (true) {
                        String r = send(http, poll);
                        if (r.contains("TASK_STATUS_SUCCEED")) {
                            break;
                        }
                        if (r.contains("TASK_STATUS_FAILED")) {
                            throw new IllegalStateException("a task failed: " + r);
                        }
                        Thread.sleep(200);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    slots.release();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    private static String send(HttpClient http, HttpRequest r) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(r.uri() + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    private static void awaitReady(HttpClient http, String base, Process p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos(); // the first start may build the jar
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the server exited with " + p.exitValue());
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the server was not ready within 3 minutes");
    }

    /** VmRSS of the JVM the launcher exec'd (the process itself after exec, or its java child). */
    private static long rssOfJava(Process p) throws IOException {
        ProcessHandle h = p.toHandle().descendants().filter(d -> d.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElse(p.toHandle());
        for (String line : Files.readAllLines(Path.of("/proc/" + h.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for process " + h.pid());
    }

    private static String memTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return (Long.parseLong(line.replaceAll("\\D", "")) >> 20) + " GB RAM";
            }
        }
        return "RAM unknown";
    }
}
