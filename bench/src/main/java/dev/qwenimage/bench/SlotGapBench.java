package dev.qwenimage.bench;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.QwenImageServer.EngineSetup;
import dev.qwenimage.config.Durations;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.task.NewTask;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskIds;
import dev.qwenimage.task.TaskSpec;
import dev.qwenimage.task.TaskState;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * How long an engine slot sits idle between two tasks when the queue is never empty: the time
 * from the engine returning one image to the engine being handed the next task (claim, request,
 * progress set-up) — the time a GPU would do nothing. A fake engine takes exactly
 * {@code --job 2s} per image at 1024x1024 and the queue is filled with {@code --jobs} tasks up
 * front. The baseline, measured in the same run, is what finishing an image costs (resize, JPEG,
 * storage, SUCCEED): the idle gap a slot would have if it finished its own images before taking
 * the next task, as it did before images were handed to the finishers.
 *
 * <p>Usage: {@code ./qwen-image bench gap [--job 2s] [--jobs 20] [--slots 1] [--nsfw on|off]}
 */
final class SlotGapBench {
    private static final String KEY = "bench-key-0123456789";

    private SlotGapBench() {
    }

    /** A GPU engine stand-in: a fixed job time that costs no CPU, and a time stamp at each job's start and end. */
    private static final class FixedJobEngine implements Engine {
        private final Duration job;
        final List<long[]> jobs = new CopyOnWriteArrayList<>(); // {slot thread id, start nanos, end nanos}
        final Map<String, Long> endedAt = new ConcurrentHashMap<>();
        private final BufferedImage image;

        FixedJobEngine(Duration job) {
            this.job = job;
            image = new BufferedImage(1024, 1024, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setPaint(new GradientPaint(0, 0, Color.ORANGE, 1024, 1024, Color.BLUE));
            g.fillRect(0, 0, 1024, 1024);
            g.dispose();
        }

        @Override
        public String name() {
            return "fixed-job";
        }

        @Override
        public String describe() {
            return "fixed-job: benchmark stand-in for a GPU engine, " + job.toMillis() + " ms per image";
        }

        @Override
        public int defaultSteps() {
            return 20;
        }

        @Override
        public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
            long start = System.nanoTime();
            long stepNanos = job.toNanos() / request.steps();
            for (int i = 1; i <= request.steps(); i++) {
                long until = start + stepNanos * i;
                while (System.nanoTime() < until) {
                    try {
                        Thread.sleep(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return new GenerationResult.Cancelled("interrupted");
                    }
                }
                progress.step(i, request.steps());
            }
            BufferedImage copy = new BufferedImage(1024, 1024, BufferedImage.TYPE_INT_RGB);
            copy.setData(image.getRaster());
            long end = System.nanoTime();
            jobs.add(new long[] {Thread.currentThread().threadId(), start, end});
            endedAt.put(request.taskId(), end);
            return new GenerationResult.Success(copy);
        }
    }

    static void run(Map<String, String> opts) throws Exception {
        Duration job = Durations.parse(opts.getOrDefault("job", "2s"));
        int jobs = Integer.parseInt(opts.getOrDefault("jobs", "20"));
        int slots = Integer.parseInt(opts.getOrDefault("slots", "1"));
        String nsfw = opts.getOrDefault("nsfw", "on");
        Path dir = Files.createTempDirectory("qwen-bench-gap");
        FixedJobEngine engine = new FixedJobEngine(job);
        System.out.printf("qwen-image bench gap: %d cores, JDK %s, %d slot(s), %d jobs of %s at 1024x1024, queue full from the start%n%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), slots, jobs, Durations.human(job));
        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(Map.of(
                "QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", dir.toString(),
                "QWEN_IMAGE_API_KEYS", KEY, "QWEN_IMAGE_LOG_LEVEL", "warn", "QWEN_IMAGE_NSFW", nsfw)), Clock.systemUTC(),
                List.of(new EngineSetup(engine, slots, Duration.ZERO)))) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                String id = TaskIds.next(Clock.systemUTC());
                server.store().insert(new NewTask(id, "bench", new TaskSpec("gap " + i, "", 1024, 1024, true, i,
                        OptionalInt.empty()), 3, Clock.systemUTC().instant()));
                ids.add(id);
            }
            for (String id : ids) {
                while (!(server.store().find(id).orElseThrow().state() instanceof TaskState.Succeeded)) {
                    Thread.sleep(20);
                }
            }
            // finishing time per image: engine end to SUCCEED committed (finished_at has ms resolution)
            long[] finish = finishingMillis(server, engine, ids);

            List<Long> gaps = new ArrayList<>();
            Map<Long, List<long[]>> perSlot = new java.util.HashMap<>();
            for (long[] j : engine.jobs) {
                perSlot.computeIfAbsent(j[0], k -> new ArrayList<>()).add(j);
            }
            for (List<long[]> slotJobs : perSlot.values()) {
                slotJobs.sort((a, b) -> Long.compare(a[1], b[1]));
                for (int i = 1; i < slotJobs.size(); i++) {
                    gaps.add(slotJobs.get(i)[1] - slotJobs.get(i - 1)[2]);
                }
            }
            long[] gapMicros = gaps.stream().mapToLong(n -> n / 1_000).sorted().toArray();
            Arrays.sort(finish);
            long busy = engine.jobs.stream().mapToLong(j -> j[2] - j[1]).sum();
            long first = engine.jobs.stream().mapToLong(j -> j[1]).min().orElse(0);
            long last = engine.jobs.stream().mapToLong(j -> j[2]).max().orElse(0);
            System.out.println("## Engine slot idle gap between tasks (issue #3)");
            System.out.println();
            System.out.println("| measure | p50 ms | p99 ms | max ms |");
            System.out.println("|---|---:|---:|---:|");
            System.out.printf("| idle gap: engine returns an image -> engine gets the next task | %.2f | %.2f | %.2f |%n",
                    Bench.pct(gapMicros, 50) / 1000.0, Bench.pct(gapMicros, 99) / 1000.0, gapMicros[gapMicros.length - 1] / 1000.0);
            System.out.printf("| baseline: finishing one image (resize, watermark, JPEG, label, store, SUCCEED) | %d | %d | %d |%n",
                    Bench.pct(finish, 50), Bench.pct(finish, 99), finish[finish.length - 1]);
            System.out.println();
            System.out.printf("Engine busy %.2f%% of the time from its first job to its last (%d gaps measured); "
                            + "the gap is %.1f%% of the finishing time it no longer waits for.%n%n",
                    100.0 * busy / Math.max(1, (last - first) * perSlot.size()), gapMicros.length,
                    100.0 * Bench.pct(gapMicros, 50) / 1000.0 / Math.max(1, Bench.pct(finish, 50)));
        } finally {
            Bench.deleteTree(dir);
        }
    }

    /** Milliseconds from the engine returning each task's image to the task's SUCCEED being committed. */
    private static long[] finishingMillis(QwenImageServer server, FixedJobEngine engine, List<String> ids) {
        long nanoToMillisOffset = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
        return ids.stream().mapToLong(id -> {
            Task t = server.store().find(id).orElseThrow();
            long engineEndMillis = engine.endedAt.get(id) / 1_000_000 + nanoToMillisOffset;
            return Math.max(0, t.finishedAt().orElseThrow().toEpochMilli() - engineEndMillis);
        }).toArray();
    }
}
