package dev.qwenimage.bench;

import dev.qwenimage.config.Durations;
import dev.qwenimage.task.Task;
import dev.qwenimage.task.TaskStore;
import dev.qwenimage.task.postgres.PostgresTaskStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated GPU fleet on one real PostgreSQL: {@code --gpus} engines, each taking
 * {@code --image} per image, spread over {@code --nodes} worker nodes. Every node does what a
 * worker node writes: a claim per image, progress of all its running tasks in one statement every
 * 500 ms (as {@code ProgressWrites} coalesces it), its leases renewed in one statement every
 * {@code --lease}/3, and a SUCCEED per image. No image is drawn: the database is what is measured.
 * The figure is the images per second the fleet finished against what it would finish if the
 * database never held it up ({@code gpus / image}), and the database's statements per second
 * against the bare one-row autocommit update rate measured in the same run.
 *
 * <p>{@code ./qwen-image bench fleet [--gpus 10000] [--image 10s] [--nodes 10] [--duration 60s] [--lease 60s]}
 */
final class FleetBench {
    private FleetBench() {
    }

    static void run(Map<String, String> opts) throws Exception {
        BenchSchema pg = BenchSchema.fresh(opts);
        String base = pg.base();
        int gpus = Integer.parseInt(opts.getOrDefault("gpus", "10000"));
        Duration image = Durations.parse(opts.getOrDefault("image", "10s"));
        int nodes = Integer.parseInt(opts.getOrDefault("nodes", "10"));
        Duration duration = Durations.parse(opts.getOrDefault("duration", "60s"));
        Duration lease = Durations.parse(opts.getOrDefault("lease", "60s"));
        String schema = pg.name();
        String url = pg.url();
        double ideal = gpus / (image.toMillis() / 1000.0);
        int queued = (int) (ideal * (duration.toSeconds() + image.toSeconds()) * 1.2) + gpus;
        System.out.printf("qwen-image bench fleet: %d cores, JDK %s, %d GPUs at %s per image on %d worker nodes, %s measured,"
                        + " %d tasks queued, PostgreSQL at %s (schema %s)%n%n", Runtime.getRuntime().availableProcessors(),
                Runtime.version(), gpus, Durations.human(image), nodes, Durations.human(duration), queued, base, schema);
        try {
            List<TaskStore> stores = new ArrayList<>();
            for (int n = 0; n < nodes; n++) {
                stores.add(PostgresTaskStore.open(url, "", "", 6));
            }
            ClusterBench.fill(stores.getFirst(), queued);
            double bare = ClusterBench.bareUpdates(url, 8, Duration.ofSeconds(5));

            AtomicLong finished = new AtomicLong();
            AtomicLong claims = new AtomicLong();
            AtomicLong progressWrites = new AtomicLong();
            AtomicLong renewals = new AtomicLong();
            ConcurrentLinkedQueue<Long> claimNanos = new ConcurrentLinkedQueue<>();
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            List<Thread> threads = new ArrayList<>();
            List<ScheduledExecutorService> timers = new ArrayList<>();
            for (int n = 0; n < nodes; n++) {
                TaskStore store = stores.get(n);
                String worker = "fleet-node-" + n;
                int mine = gpus / nodes + (n < gpus % nodes ? 1 : 0);
                Map<String, Long> running = new ConcurrentHashMap<>(); // task -> when its image is done (nanos)
                LinkedBlockingQueue<Integer> free = new LinkedBlockingQueue<>();
                for (int g = 0; g < mine; g++) {
                    free.add(g);
                }
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
                timers.add(timer);
                // progress of every running task of the node, one statement every 500 ms
                timer.scheduleWithFixedDelay(() -> {
                    long now = System.nanoTime();
                    List<TaskStore.Progress> batch = new ArrayList<>(running.size());
                    running.forEach((id, doneAt) -> batch.add(new TaskStore.Progress(id, worker,
                            (int) Math.max(0, Math.min(99, 100 - (doneAt - now) * 100 / image.toNanos())))));
                    if (!batch.isEmpty()) {
                        store.updateProgress(batch);
                        progressWrites.incrementAndGet();
                    }
                }, 500, 500, TimeUnit.MILLISECONDS);
                timer.scheduleWithFixedDelay(() -> {
                    if (!running.isEmpty()) {
                        store.renewLeases(worker, List.copyOf(running.keySet()), Instant.now().plus(lease));
                        renewals.incrementAndGet();
                    }
                }, lease.toMillis() / 3, lease.toMillis() / 3, TimeUnit.MILLISECONDS);
                // the node's slots: claim for a free GPU, finish what is done (a few threads, as a node's finishers)
                java.util.concurrent.DelayQueue<Done> done = new java.util.concurrent.DelayQueue<>();
                for (int t = 0; t < 4; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        while (System.nanoTime() < end) {
                            Done d = done.poll();
                            if (d != null) {
                                store.succeed(d.id(), worker, d.id() + ".jpeg", image.toMillis(), Instant.now());
                                running.remove(d.id());
                                finished.incrementAndGet();
                                free.add(d.gpu());
                                continue;
                            }
                            Integer gpu;
                            try {
                                gpu = free.poll(5, TimeUnit.MILLISECONDS);
                            } catch (InterruptedException e) {
                                return;
                            }
                            if (gpu == null) {
                                continue;
                            }
                            long c0 = System.nanoTime();
                            java.util.Optional<Task> task = store.claim(worker, "gpu", Instant.now(), lease);
                            long c1 = System.nanoTime();
                            claimNanos.add(c1 - c0);
                            claims.incrementAndGet();
                            if (task.isEmpty()) {
                                free.add(gpu);
                                continue;
                            }
                            running.put(task.get().id(), c1 + image.toNanos());
                            done.add(new Done(task.get().id(), gpu, c1 + image.toNanos()));
                        }
                    }));
                }
            }
            // what the fleet finished in the measured window, after one image time of ramp-up
            Thread.sleep(image.toMillis());
            long f0 = finished.get();
            long s0 = statements(base);
            long t0 = System.nanoTime();
            for (Thread t : threads) {
                t.join();
            }
            double window = (System.nanoTime() - t0) / 1e9;
            double rate = (finished.get() - f0) / window;
            double statementsPerSecond = (statements(base) - s0) / window;
            timers.forEach(ScheduledExecutorService::shutdownNow);
            stores.forEach(TaskStore::close);
            long[] cn = claimNanos.stream().mapToLong(Long::longValue).sorted().toArray();
            Arrays.sort(cn);

            System.out.println("## A simulated GPU fleet on one PostgreSQL (issue #14)");
            System.out.println();
            System.out.println("| measure | value | ratio |");
            System.out.println("|---|---:|---:|");
            System.out.printf("| bare one-row autocommit UPDATE, 8 threads (baseline) | %.0f /s | baseline |%n", bare);
            System.out.printf("| images finished by %d GPUs at %s per image (ideal %.0f /s) | %.0f /s | %.0f%% of ideal |%n", gpus,
                    Durations.human(image), ideal, rate, 100 * rate / ideal);
            System.out.printf("| database statements (commits + reads) while the fleet ran | %.0f /s | %.0f%% of the bare update rate |%n",
                    statementsPerSecond, 100 * statementsPerSecond / bare);
            System.out.printf("| writes per busy GPU per second (claims %d, progress %d, renewals %d, SUCCEED %d) | %.3f | |%n",
                    claims.get(), progressWrites.get(), renewals.get(), finished.get(),
                    (claims.get() + progressWrites.get() + renewals.get() + finished.get()) / ((System.nanoTime() - start) / 1e9) / gpus);
            System.out.printf("| claim latency p50 / p99 | %.2f / %.2f ms | |%n", Bench.pct(cn, 50) / 1e6, Bench.pct(cn, 99) / 1e6);
            System.out.println();
            System.out.println("(statements from pg_stat_database: xact_commit + xact_rollback of the database, all clients)");
        } finally {
            pg.drop();
        }
    }

    record Done(String id, int gpu, long at) implements java.util.concurrent.Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(java.util.concurrent.Delayed o) {
            return Long.compare(at, ((Done) o).at);
        }
    }

    /** Transactions the database has run so far (every autocommit statement is one). */
    private static long statements(String base) throws Exception {
        try (Connection c = DriverManager.getConnection(base); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
