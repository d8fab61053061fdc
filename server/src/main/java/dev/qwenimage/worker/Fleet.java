package dev.qwenimage.worker;

import dev.qwenimage.config.Redaction;
import dev.qwenimage.task.EngineAvailability;
import dev.qwenimage.task.EngineCapacity;
import dev.qwenimage.task.EtaEstimator;
import dev.qwenimage.task.LaneRegistry;
import dev.qwenimage.task.LaneReport;
import java.time.Clock;
import java.time.Duration;
import dev.qwenimage.engine.TaskKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The engines serving the queue as this node sees them: its own lanes when it runs alone, the
 * whole fleet's when nodes share a store ({@link LaneRegistry}). Worker nodes publish their lanes
 * every {@link #HEARTBEAT}; api nodes read them (cached for a second) to base ETAs on the fleet's
 * real capacity and measured pace, and to show every engine in /healthz. A report older than three
 * heartbeats is a dead node's and is ignored.
 */
public final class Fleet implements EngineAvailability {
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);
    /** The state of a lane whose node takes no work while its writes fail (see /healthz's writes). */
    public static final String PAUSED = "paused";
    private static final Duration STALE = HEARTBEAT.multipliedBy(3);
    private static final long CACHE_NANOS = 1_000_000_000L;
    private static final long LOCAL_CACHE_NANOS = 100_000_000L;

    private final Optional<WorkerPool> local;
    private final Optional<LaneRegistry> registry;
    private final EtaEstimator eta;
    private final Clock clock;
    private volatile Cached cached;

    /** The lanes as last read, and the capacity worked out from them (asked for on every poll). */
    private record Cached(List<LaneReport> lanes, List<EngineCapacity> capacity, long atNanos) {
        Cached(List<LaneReport> lanes, long atNanos) {
            this(lanes, capacityOf(lanes), atNanos);
        }
    }

    public Fleet(Optional<WorkerPool> local, Optional<LaneRegistry> registry, EtaEstimator eta, Clock clock) {
        this.local = local;
        this.registry = registry;
        this.eta = eta;
        this.clock = clock;
    }

    /** This node's lanes as reports (what it publishes). */
    public List<LaneReport> localLanes() {
        if (local.isEmpty()) {
            return List.of();
        }
        WorkerPool pool = local.get();
        Instant now = clock.instant();
        List<LaneReport> out = new ArrayList<>();
        for (WorkerPool.Lane lane : pool.lanes()) {
            EngineGuard.Status st = lane.guard().status();
            String engine = lane.engineName();
            // slots that claim nothing while this node's writes fail are not up, whatever the engine's state
            String state = pool.writable() ? st.state().name().toLowerCase(Locale.ROOT) : PAUSED;
            out.add(new LaneReport(pool.workerId(), engine, state, lane.slots(),
                    pool.busySlots(lane), pool.finishing(lane), lane.guard().engine().defaultSteps(), eta.secondsPerStep(engine, 1024, 1024),
                    eta.postSeconds(engine), Redaction.text(lane.guard().engine().describe()),
                    pool.writable() ? st.lastError() : "this node takes no work while its writes fail (see writes in /healthz)", now,
                    lane.guard().engine().kinds()));
        }
        return out;
    }

    /**
     * Every lane serving the queue: the registry's when there is one (read at most once a second),
     * else this node's (taken at most every 100 ms: polls ask for it on every request).
     */
    public List<LaneReport> lanes() {
        return current().lanes();
    }

    private Cached current() {
        Cached c = cached;
        long now = System.nanoTime();
        if (registry.isEmpty()) {
            if (c == null || now - c.atNanos() > LOCAL_CACHE_NANOS) {
                c = new Cached(localLanes(), now);
                cached = c;
            }
            return c;
        }
        if (c == null || now - c.atNanos() > CACHE_NANOS) {
            List<LaneReport> lanes = registry.get().lanes(clock.instant().minus(STALE));
            if (local.isEmpty()) {
                // an api node measures nothing itself: it takes the pace the workers measured
                for (LaneReport l : lanes) {
                    eta.adopt(l.engine(), l.secondsPerStep(), l.postSeconds());
                }
            }
            c = new Cached(lanes, now);
            cached = c;
        }
        return c;
    }

    /** The engines that can take work now, or all of them when none can (they are expected back). */
    @Override
    public List<EngineCapacity> capacity() {
        return current().capacity();
    }

    /**
     * Why nothing can start now: no lane at all (a fleet whose workers have not reported, or have
     * all stopped), or no lane up, with each engine's state and last error.
     */
    @Override
    public Optional<String> nothingRunsBecause() {
        List<LaneReport> lanes = lanes();
        if (lanes.isEmpty()) {
            return Optional.of(registry.isPresent() ? "no worker node is running (none has reported for "
                    + STALE.toSeconds() + " s); the task starts when one does" : "no engine is configured");
        }
        if (lanes.stream().anyMatch(LaneReport::up)) {
            return Optional.empty();
        }
        // the engines by name and state only: their errors hold the operator's addresses and
        // details, which /healthz and the log show to the operator, not to every client
        StringBuilder why = new StringBuilder("no engine is up, so the task waits for one: ");
        for (int i = 0; i < lanes.size(); i++) {
            LaneReport l = lanes.get(i);
            why.append(i == 0 ? "" : ", ").append(l.engine()).append(" is ").append(l.state());
        }
        return Optional.of(why.toString());
    }

    /** The engines that can run tasks of {@code kind} and can take work now, or all of them when none can. */
    @Override
    public List<EngineCapacity> capacity(TaskKind kind) {
        return kind == TaskKind.TEXT_TO_IMAGE && lanes().stream().allMatch(l -> l.kinds().contains(kind)) ? capacity()
                : capacityOf(lanes().stream().filter(l -> l.kinds().contains(kind)).toList());
    }

    private static List<EngineCapacity> capacityOf(List<LaneReport> lanes) {
        Map<String, int[]> up = new LinkedHashMap<>();
        Map<String, int[]> all = new LinkedHashMap<>();
        Map<String, java.util.Set<TaskKind>> kinds = new LinkedHashMap<>();
        for (LaneReport l : lanes) {
            kinds.computeIfAbsent(l.engine(), k -> java.util.EnumSet.noneOf(TaskKind.class)).addAll(l.kinds());
            all.computeIfAbsent(l.engine(), k -> new int[] {0, l.defaultSteps()})[0] += l.slots();
            if (l.up()) {
                up.computeIfAbsent(l.engine(), k -> new int[] {0, l.defaultSteps()})[0] += l.slots();
            }
        }
        Map<String, int[]> use = up.isEmpty() ? all : up;
        List<EngineCapacity> out = new ArrayList<>();
        use.forEach((engine, v) -> out.add(new EngineCapacity(engine, v[1], v[0], kinds.get(engine))));
        return List.copyOf(out);
    }

    public int slots() {
        return lanes().stream().mapToInt(LaneReport::slots).sum();
    }

    public int usableSlots() {
        return lanes().stream().filter(LaneReport::up).mapToInt(LaneReport::slots).sum();
    }

    public int busySlots() {
        return lanes().stream().mapToInt(LaneReport::busy).sum();
    }

    /** Tasks being finished (post-processing, storage) after their engine is done with them. */
    public int finishing() {
        return lanes().stream().mapToInt(LaneReport::finishing).sum();
    }

    /** Publishes this node's lanes (worker nodes on a shared store; called every heartbeat). */
    public void publish() {
        if (registry.isPresent() && local.isPresent()) {
            registry.get().publish(local.get().workerId(), localLanes());
            cached = null;
        }
    }

    /** Takes this node's lanes out of the registry (graceful stop). */
    public void withdraw() {
        if (registry.isPresent() && local.isPresent()) {
            registry.get().withdraw(local.get().workerId());
        }
    }
}
