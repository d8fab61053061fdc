package dev.qwenimage.bench;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.api.HttpApi;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskState;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmarks of the serving layer, each against a baseline measured in the same run:
 * <ol>
 *   <li>submit and task-result throughput and latency through the real service, against a bare
 *       route on the same HTTP stack (Javalin/Jetty, same settings) that does no work;</li>
 *   <li>serving overhead per task at 1024x1024: submit to SUCCEED minus engine time, from the
 *       service's own timestamps, with the preview engine, one task at a time.</li>
 * </ol>
 * Throughput is a capacity, so each route is driven at several concurrency levels and compared at
 * its peak: a route that waits on a disk flush (submit) needs more requests in flight than a route
 * that does nothing to reach its peak, and a single level would measure latency instead.
 *
 * <p>Usage: {@code ./qwen-image bench [suite] [--option value ...]}; suites:
 * <ul>
 *   <li>{@code api} (the default): the two benchmarks above; {@code --duration 10s --warmup 5s
 *       --concurrency 16,64,256 --tasks 40 --client wrk|java};</li>
 *   <li>{@code gap}: {@link SlotGapBench}, the idle gap of an engine slot between tasks;</li>
 *   <li>{@code cluster}: {@link ClusterBench}, claims on PostgreSQL and the API through two api nodes;</li>
 *   <li>{@code nsfw}: {@link NsfwBench}, the NSFW classifier against nsfwjs;</li>
 *   <li>{@code edit}: {@link EditBench}, an edit's submit and input preparation against text-to-image;</li>
 *   <li>{@code encode}: {@link EncodeBench}, the JPEG (PNG, WebP) encoders against libjpeg-turbo's tjbench and cjpeg;</li>
 *   <li>{@code finish}: {@link FinishBench}, the CPU cost of finishing one image, stage by stage;</li>
 *   <li>{@code fleet}: {@link FleetBench}, a simulated GPU fleet's claims, progress, leases and SUCCEEDs on PostgreSQL;</li>
 *   <li>{@code memory}: {@link MemoryBench}, resident memory idle and after 10,000 and 20,000 tasks.</li>
 * </ul>
 */
public final class Bench {
    private static final String KEY = "bench-key-0123456789";
    private static final Pattern TASK_ID = Pattern.compile("\"task_id\"\\s*:\\s*\"([^\"]+)\"");

    public static void main(String[] args) throws Exception {
        boolean named = args.length > 0 && !args[0].startsWith("--");
        String suite = named ? args[0] : "api";
        Map<String, String> opts = parse(named ? Arrays.copyOfRange(args, 1, args.length) : args);
        switch (suite) {
            case "api" -> api(opts);
            case "gap" -> SlotGapBench.run(opts);
            case "cluster" -> ClusterBench.run(opts);
            case "nsfw" -> NsfwBench.main(Arrays.copyOfRange(args, 1, args.length));
            case "edit" -> EditBench.run(opts);
            case "encode" -> EncodeBench.run(opts);
            case "finish" -> FinishBench.run(opts);
            case "fleet" -> FleetBench.run(opts);
            case "memory" -> MemoryBench.run(opts);
            default -> {
                System.err.println("unknown benchmark suite '" + suite + "'; suites: api (default), gap, cluster, nsfw, edit, encode, finish, fleet, memory");
                System.exit(2);
            }
        }
    }

    private static void api(Map<String, String> opts) throws Exception {
        Duration duration = dev.qwenimage.config.Durations.parse(opts.getOrDefault("duration", "10s"));
        Duration warmup = dev.qwenimage.config.Durations.parse(opts.getOrDefault("warmup", "5s"));
        List<Integer> concurrency = Arrays.stream(opts.getOrDefault("concurrency", "16,64,256").split(","))
                .map(String::strip).map(Integer::parseInt).toList();
        int tasks = Integer.parseInt(opts.getOrDefault("tasks", "40"));

        boolean useWrk = !opts.getOrDefault("client", "wrk").equals("java") && WrkLoad.available();
        if (!useWrk && !opts.getOrDefault("client", "wrk").equals("java")) {
            System.out.println("wrk not found (Debian/Ubuntu: apt-get install wrk); falling back to Java's HttpClient,"
                    + " which caps the measurable rate on small machines.");
        }
        System.out.printf("qwen-image bench: %d cores, JDK %s, concurrency %s, warm-up %s, measured %s per run%n%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), concurrency, warmup, duration);
        apiThroughput(concurrency, warmup, duration, useWrk);
        servingOverhead(tasks);
    }

    // ---- 1. submit and poll vs a bare route --------------------------------------------------

    private static void apiThroughput(List<Integer> levels, Duration warmup, Duration duration, boolean useWrk) throws Exception {
        Path dir = Files.createTempDirectory("qwen-bench-api");
        // A remote GPU engine that is busy with one long job: submits pile up in the queue, as
        // they do in production, and no local CPU goes to rendering during the measurement.
        Engine remoteGpu = new SlowRemoteEngine(Duration.ofMinutes(10));
        String submitBody = "{\"prompt\": \"a red fox reading a book under a tree\", \"size\": \"1024*1024\", \"watermark\": false}";
        Map<String, String> auth = Map.of("Authorization", "Bearer " + KEY);
        Map<String, String> authJson = Map.of("Authorization", "Bearer " + KEY, "Content-Type", "application/json");

        Javalin bare = Javalin.create(cfg -> {
            HttpApi.serverSettings(cfg, "127.0.0.1", 0);
            cfg.routes.post("/bare", ctx -> {
                ctx.bodyAsBytes();
                ctx.contentType("application/json").result("{\"task_id\": \"" + UUID.randomUUID() + "\"}");
            });
            cfg.routes.get("/bare", ctx -> ctx.contentType("application/json").result(BARE_RESULT));
        }).start();

        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", dir.toString(),
                "QWEN_IMAGE_API_KEYS", KEY, "QWEN_IMAGE_WORKERS", "1", "QWEN_IMAGE_LOG_LEVEL", "warn",
                // the queue is meant to pile up here: no caps
                "QWEN_IMAGE_MAX_QUEUED_PER_KEY", "0", "QWEN_IMAGE_MAX_QUEUED", "0")), Clock.systemUTC(), remoteGpu)) {
            String api = server.localUrl();
            String bareBase = "http://127.0.0.1:" + bare.port();
            WrkLoad.Spec barePost = new WrkLoad.Spec("POST", List.of("/bare"), authJson, submitBody);
            WrkLoad.Spec submit = new WrkLoad.Spec("POST", List.of("/v3/async/qwen-image-txt2img"), authJson, submitBody);
            WrkLoad.Spec bareGet = new WrkLoad.Spec("GET", List.of("/bare"), auth, null);

            List<LoadResult> results = new ArrayList<>();
            for (int c : levels) {
                Runner runner = useWrk ? wrkRunner(new WrkLoad(c, warmup, duration)) : javaRunner(c, warmup, duration);
                results.add(runner.run("bare POST @" + c, bareBase, barePost));
                results.add(runner.run("submit @" + c, api, submit));
            }
            // poll a spread of real tasks: queued ones deep in the queue, the running one
            List<String> polls = sampleTaskIds(api, 200).stream().map(id -> "/v3/async/task-result?task_id=" + id).toList();
            WrkLoad.Spec poll = new WrkLoad.Spec("GET", polls, auth, null);
            long queued = server.store().stats().queued();
            for (int c : levels) {
                Runner runner = useWrk ? wrkRunner(new WrkLoad(c, warmup, duration)) : javaRunner(c, warmup, duration);
                results.add(runner.run("bare GET @" + c, bareBase, bareGet));
                results.add(runner.run("task-result @" + c, api, poll));
            }

            System.out.println("## Submit and poll throughput (" + (useWrk ? "wrk" : "Java HttpClient")
                    + ", closed loop, loopback, connections " + levels + ")");
            System.out.println();
            System.out.println("| run | requests/s | p50 ms | p99 ms | errors | ratio to bare route at the same level |");
            System.out.println("|---|---:|---:|---:|---:|---:|");
            for (int i = 0; i < results.size(); i++) {
                LoadResult r = results.get(i);
                LoadResult baseline = results.get(i - i % 2);
                System.out.printf("| %s | %.0f | %.2f | %.2f | %d | %s |%n", r.name(), r.throughput(), r.p50Millis(),
                        r.p99Millis(), r.errors(), i % 2 == 0 ? "baseline" : String.format("%.0f%%", 100 * r.throughput() / baseline.throughput()));
            }
            System.out.println();
            int half = results.size() / 2;
            peakRatio("submit", results.subList(0, half));
            peakRatio("task-result", results.subList(half, results.size()));
            System.out.printf("%nQueue depth while polling: %d tasks QUEUED (submits pile up behind one busy GPU slot).%n%n", queued);
        } finally {
            bare.stop();
            deleteTree(dir);
        }
    }

    /** Peak throughput of the route against the bare route's peak, over all levels (even rows are the bare route). */
    private static void peakRatio(String route, List<LoadResult> pairs) {
        double bare = 0;
        double real = 0;
        for (int i = 0; i < pairs.size(); i++) {
            if (i % 2 == 0) {
                bare = Math.max(bare, pairs.get(i).throughput());
            } else {
                real = Math.max(real, pairs.get(i).throughput());
            }
        }
        System.out.printf("Peak %s: %.0f requests/s = %.0f%% of the bare route's peak (%.0f requests/s).%n", route, real,
                100 * real / bare, bare);
    }

    @FunctionalInterface
    private interface Runner {
        LoadResult run(String name, String baseUrl, WrkLoad.Spec spec) throws Exception;
    }

    private static Runner wrkRunner(WrkLoad wrk) {
        return wrk::run;
    }

    private static Runner javaRunner(int concurrency, Duration warmup, Duration duration) {
        LoadGenerator load = new LoadGenerator();
        return (name, baseUrl, spec) -> load.run(name, concurrency, warmup, duration, 200, i -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + spec.paths().get(i % spec.paths().size())));
            spec.headers().forEach(b::header);
            return (spec.body() == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(spec.body()))).build();
        });
    }

    static final String BARE_RESULT = """
            {"extra":{"has_nsfw_contents":[]},"task":{"task_id":"679c6531-a8d1-400c-8071-d58ccf074ae5",\
            "task_type":"QWEN_IMAGE_TEXT_TO_IMAGE","status":"TASK_STATUS_QUEUED","reason":"","eta":12,\
            "progress_percent":0},"images":[],"videos":[],"audios":[]}""";

    private static List<String> sampleTaskIds(String api, int n) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String body = client.send(HttpRequest.newBuilder(URI.create(api + "/v3/async/qwen-image-txt2img"))
                    .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"poll target " + i + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = TASK_ID.matcher(body);
            if (m.find()) {
                ids.add(m.group(1));
            }
        }
        return ids;
    }

    // ---- 2. serving overhead per task -----------------------------------------------------------

    private static void servingOverhead(int tasks) throws Exception {
        Path dir = Files.createTempDirectory("qwen-bench-overhead");
        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", dir.toString(),
                "QWEN_IMAGE_API_KEYS", KEY, "QWEN_IMAGE_WORKERS", "1", "QWEN_IMAGE_LOG_LEVEL", "warn")))) {
            HttpClient client = HttpClient.newHttpClient();
            String api = server.localUrl();
            long[] overhead = new long[tasks];
            long[] engine = new long[tasks];
            long[] total = new long[tasks];
            for (int i = -5; i < tasks; i++) { // 5 warm-up tasks
                String body = client.send(HttpRequest.newBuilder(URI.create(api + "/v3/async/qwen-image-txt2img"))
                        .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"overhead task " + i
                                + ": a watercolor map of an imaginary island\", \"size\": \"1024*1024\"}")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = TASK_ID.matcher(body);
                if (!m.find()) {
                    throw new IllegalStateException("submit failed: " + body);
                }
                Task t = awaitFinished(server, m.group(1));
                if (i >= 0) {
                    long all = t.finishedAt().orElseThrow().toEpochMilli() - t.createdAt().toEpochMilli();
                    engine[i] = t.engineMillis().orElseThrow();
                    total[i] = all;
                    overhead[i] = all - engine[i];
                }
            }
            Arrays.sort(overhead);
            Arrays.sort(engine);
            Arrays.sort(total);
            System.out.println("## Serving overhead per task at 1024*1024 (preview engine, one task at a time, " + tasks + " tasks)");
            System.out.println();
            System.out.println("| measure | p50 ms | p99 ms | max ms |");
            System.out.println("|---|---:|---:|---:|");
            row("submit to SUCCEED", total);
            row("engine time (preview render, baseline)", engine);
            row("overhead = submit to SUCCEED - engine", overhead);
            System.out.println();
        } finally {
            deleteTree(dir);
        }
    }

    private static void row(String name, long[] sorted) {
        System.out.printf("| %s | %d | %d | %d |%n", name, pct(sorted, 50), pct(sorted, 99), sorted[sorted.length - 1]);
    }

    static long pct(long[] sorted, double p) {
        return sorted[(int) Math.max(0, Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1))];
    }

    private static Task awaitFinished(QwenImageServer server, String id) throws InterruptedException {
        while (true) {
            Task t = server.store().find(id).orElseThrow();
            if (t.state() instanceof TaskState.Succeeded) {
                return t;
            }
            if (t.state() instanceof TaskState.Failed f) {
                throw new IllegalStateException("task failed: " + f.reason());
            }
            Thread.sleep(2);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            m.put(args[i].substring(2), args[i + 1]);
        }
        return m;
    }

    /** Stands in for a remote GPU engine busy with a long job: costs no local CPU, honours cancellation. */
    private static final class SlowRemoteEngine implements Engine {
        private final Duration jobTime;

        SlowRemoteEngine(Duration jobTime) {
            this.jobTime = jobTime;
        }

        @Override
        public String name() {
            return "remote-gpu";
        }

        @Override
        public String describe() {
            return "remote-gpu: benchmark stand-in for a busy GPU engine";
        }

        @Override
        public int defaultSteps() {
            return 20;
        }

        @Override
        public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
            long end = System.nanoTime() + jobTime.toNanos();
            while (System.nanoTime() < end) {
                if (cancellation.isCancelled()) {
                    return new GenerationResult.Cancelled(cancellation.reason());
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new GenerationResult.Cancelled("interrupted");
                }
            }
            return new GenerationResult.TransientFailure("benchmark job ended");
        }
    }
}
