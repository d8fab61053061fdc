package dev.qwenimage.ops;

import dev.qwenimage.health.DiskSpace;
import dev.qwenimage.health.WriteHealth;
import dev.qwenimage.task.LaneReport;
import dev.qwenimage.task.QueueStats;
import dev.qwenimage.task.TaskStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The service's Prometheus metrics, served at {@code /metrics}:
 * <ul>
 *   <li>{@code qwen_image_tasks{state}}: tasks QUEUED and PROCESSING (queue depth);</li>
 *   <li>{@code qwen_image_tasks_finished_total{status}}: tasks that ended, by status;</li>
 *   <li>{@code qwen_image_stage_seconds{stage, engine}}: latency histograms per stage: {@code queue}
 *       (submit to claim), {@code engine} (generation), {@code finish} (post-processing and storage),
 *       {@code total} (submit to done);</li>
 *   <li>{@code qwen_image_engine_up{engine, worker}}, {@code qwen_image_engine_slots{...}},
 *       {@code qwen_image_engine_slots_busy{...}}, {@code qwen_image_engine_finishing{...}}: engine health,
 *       slot utilisation (engines at work) and tasks being finished after their engine;</li>
 *   <li>{@code qwen_image_http_requests_seconds{route, method, status}}: the API's own latency;</li>
 *   <li>{@code qwen_image_webhooks_total{outcome}}: webhook deliveries;</li>
 *   <li>{@code qwen_image_task_reads_total{source}}: task look-ups answered from the store's cache or its database.</li>
 * </ul>
 * Queue and engine gauges are read when scraped, from the same cached snapshots /healthz uses.
 */
public final class Metrics {
    private static final Duration[] SLO = {Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30),
            Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300), Duration.ofSeconds(600)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MultiGauge engineUp = MultiGauge.builder("qwen_image_engine_up")
            .description("1 when the engine is up, 0 when starting or down").register(registry);
    private final MultiGauge engineSlots = MultiGauge.builder("qwen_image_engine_slots")
            .description("slots (tasks at once) of each engine lane").register(registry);
    private final MultiGauge engineBusy = MultiGauge.builder("qwen_image_engine_slots_busy")
            .description("slots of each engine lane whose engine is working on a task now").register(registry);
    private final MultiGauge engineFinishing = MultiGauge.builder("qwen_image_engine_finishing")
            .description("tasks of each engine lane being finished (post-processing, storage) after the engine").register(registry);

    /** A metrics registry reading the queue and the engines from these (cached) sources at each scrape. */
    public Metrics(Supplier<QueueStats> queue, Supplier<List<LaneReport>> lanes) {
        Gauge.builder("qwen_image_tasks", () -> queue.get().queued()).tag("state", "queued")
                .description("tasks by state").register(registry);
        Gauge.builder("qwen_image_tasks", () -> queue.get().processing()).tag("state", "processing")
                .description("tasks by state").register(registry);
        this.lanes = lanes;
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
    }

    private final Supplier<List<LaneReport>> lanes;
    private Supplier<TaskStore.Reads> taskReads;

    /**
     * {@code qwen_image_writes_ok{target}} (1 while writes to it work) and
     * {@code qwen_image_write_failures_total{target}}, for the task store or the image store.
     */
    public void watch(WriteHealth health) {
        String target = health.target().replace(' ', '_');
        Gauge.builder("qwen_image_writes_ok", health, h -> h.ok() ? 1 : 0).tag("target", target)
                .description("1 while writes to the target work, 0 while they fail (the node is then not ready)").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("qwen_image_write_failures", health, WriteHealth::failures)
                .tag("target", target).description("failed writes to the target").register(registry);
    }

    /** {@code qwen_image_disk_free_bytes{holds}} and {@code qwen_image_disk_min_free_bytes}. */
    public void watch(DiskSpace disk) {
        for (DiskSpace.Reading r : disk.readings()) {
            Gauge.builder("qwen_image_disk_free_bytes", disk, d -> d.readings().stream().filter(x -> x.what().equals(r.what()))
                            .mapToLong(DiskSpace.Reading::freeBytes).findFirst().orElse(0))
                    .tag("holds", r.what().replace(' ', '_')).description("free bytes on the disk holding it").register(registry);
        }
        Gauge.builder("qwen_image_disk_min_free_bytes", disk, DiskSpace::minFreeBytes)
                .description("free bytes kept (QWEN_IMAGE_MIN_FREE_DISK); below it submits are refused").register(registry);
    }

    /** A metrics registry for a node that reports no queue or engines (tests). */
    public static Metrics detached() {
        return new Metrics(() -> QueueStats.EMPTY, List::of);
    }

    public void stage(String stage, String engine, Duration d) {
        Timer.builder("qwen_image_stage").description("time spent per stage of a task").tags("stage", stage, "engine", engine)
                .serviceLevelObjectives(SLO).register(registry).record(d);
    }

    /** Keys with a label of their own on the per-key counters; the rest count as key="other". */
    public static final int KEY_LABELS = 20;
    private volatile KeyLabels keyLabels = new KeyLabels(KEY_LABELS, owner -> java.util.Optional.empty());

    /** How per-key counters name a key: by {@code nameOf(owner)} (its name; empty: counted as other), set once the keys are known. */
    public void keyNames(java.util.function.Function<String, java.util.Optional<String>> nameOf) {
        keyLabels = new KeyLabels(KEY_LABELS, nameOf);
    }

    /**
     * {@code qwen_image_key_tasks_total{key, event, kind}}: a task of {@code owner}'s key, of {@code kind} (txt2img or
     * edit), was submitted, succeeded or failed.
     */
    public void keyTasks(String owner, dev.qwenimage.engine.TaskKind kind, String event) {
        String label = keyLabels.label(owner);
        keyCounters.computeIfAbsent(label + '\n' + event + '\n' + kind.code(), k -> Counter.builder("qwen_image_key_tasks")
                .description("tasks per API key (top keys by name, the rest as other) by event and kind")
                .tags("key", label, "event", event, "kind", kind.code()).register(registry)).increment();
    }

    /** Per-key counters by label and event, built once: a submit counts on one. */
    private final java.util.concurrent.ConcurrentHashMap<String, Counter> keyCounters = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code qwen_image_key_engine_seconds_total{key}}: time worker slots spent on {@code owner}'s tasks. */
    public void keyEngineTime(String owner, Duration d) {
        Counter.builder("qwen_image_key_engine_seconds").description("engine time per API key (top keys by name, the rest as other)")
                .tag("key", keyLabels.label(owner)).register(registry).increment(d.toNanos() / 1e9);
    }

    /** {@code qwen_image_tasks_finished_total{status, kind}}: a task of {@code kind} ended so. */
    public void finished(dev.qwenimage.engine.TaskKind kind, String status) {
        Counter.builder("qwen_image_tasks_finished").description("tasks that ended, by status and kind").tag("status", status)
                .tag("kind", kind.code()).register(registry).increment();
    }

    /** Timers by route, method and status, built once: this runs on every request. */
    private final java.util.concurrent.ConcurrentHashMap<String, Timer> httpTimers = new java.util.concurrent.ConcurrentHashMap<>();

    public void http(String route, String method, int status, long nanos) {
        httpTimers.computeIfAbsent(route + ' ' + method + ' ' + status, k -> Timer.builder("qwen_image_http_requests")
                .description("API requests by route and status")
                .tags("route", route, "method", method, "status", Integer.toString(status))
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100),
                        Duration.ofSeconds(1))
                .register(registry)).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void webhook(String outcome) {
        Counter.builder("qwen_image_webhooks").description("webhook delivery tries by outcome").tag("outcome", outcome)
                .register(registry).increment();
    }

    /**
     * {@code qwen_image_task_reads_total{source="cache|database"}}: task look-ups (polls, cancels)
     * the store answered from its cache or by a database read, read from the store at each scrape.
     */
    public void taskReads(Supplier<TaskStore.Reads> reads) {
        this.taskReads = reads; // function counters hold their source weakly
        FunctionCounter.builder("qwen_image_task_reads", reads, r -> r.get().cached()).tag("source", "cache")
                .description("task look-ups by where they were answered").register(registry);
        FunctionCounter.builder("qwen_image_task_reads", reads, r -> r.get().database()).tag("source", "database")
                .description("task look-ups by where they were answered").register(registry);
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        List<MultiGauge.Row<?>> up = new ArrayList<>();
        List<MultiGauge.Row<?>> slots = new ArrayList<>();
        List<MultiGauge.Row<?>> busy = new ArrayList<>();
        List<MultiGauge.Row<?>> finishing = new ArrayList<>();
        for (LaneReport l : lanes.get()) {
            Tags tags = Tags.of("engine", l.engine(), "worker", l.workerId());
            up.add(MultiGauge.Row.of(tags, l.up() ? 1 : 0));
            slots.add(MultiGauge.Row.of(tags, l.slots()));
            busy.add(MultiGauge.Row.of(tags, l.busy()));
            finishing.add(MultiGauge.Row.of(tags, l.finishing()));
        }
        engineUp.register(up, true);
        engineSlots.register(slots, true);
        engineBusy.register(busy, true);
        engineFinishing.register(finishing, true);
        keyLabels.promote();
        return registry.scrape();
    }
}
