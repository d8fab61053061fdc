package dev.qwenimage.health;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Free space on the file systems this node writes to (the embedded database, images on local
 * disk), against a minimum: below it new submits are refused with 503 and readiness fails, so a
 * node stops taking work before a full disk fails it half-way. Asking is one {@code statfs} per file
 * system, remembered for a second, so every submit can ask.
 */
public final class DiskSpace {
    private static final long CACHE_NANOS = 1_000_000_000L;

    /** One watched place: what it holds (for messages), its folder and its file system. */
    private record Place(String what, Path folder, FileStore store) {
    }

    /** The free space of one place, and whether it is below the minimum. */
    public record Reading(String what, Path folder, long freeBytes, boolean low) {
    }

    private final List<Place> places;
    private final long minFreeBytes;
    private volatile List<Reading> readings;
    private volatile long readAt;

    /**
     * @param folders      what each folder holds ("task database", "images") and the folder; folders on the
     *                     same file system are checked once
     * @param minFreeBytes the least free space; 0 turns the check off
     */
    public DiskSpace(Map<String, Path> folders, long minFreeBytes) {
        this.minFreeBytes = minFreeBytes;
        List<Place> list = new ArrayList<>();
        for (var e : folders.entrySet()) {
            try {
                FileStore store = Files.getFileStore(e.getValue());
                if (list.stream().noneMatch(p -> p.store().equals(store))) {
                    list.add(new Place(e.getKey(), e.getValue(), store));
                }
            } catch (IOException ex) {
                throw new IllegalStateException("cannot find the file system of " + e.getValue() + ": " + ex.getMessage(), ex);
            }
        }
        this.places = List.copyOf(list);
    }

    /** No check at all (nodes that keep nothing on local disk still check their data folder). */
    public static DiskSpace off() {
        return new DiskSpace(Map.of(), 0);
    }

    public long minFreeBytes() {
        return minFreeBytes;
    }

    /** Every watched place with its free space, read at most once a second. */
    public List<Reading> readings() {
        List<Reading> r = readings;
        if (r != null && System.nanoTime() - readAt <= CACHE_NANOS) {
            return r;
        }
        synchronized (this) {
            r = readings;
            long now = System.nanoTime();
            if (r != null && now - readAt <= CACHE_NANOS) {
                return r;
            }
            List<Reading> fresh = new ArrayList<>(places.size());
            for (int i = 0; i < places.size(); i++) {
                Place p = places.get(i);
                long free;
                try {
                    free = p.store().getUsableSpace();
                } catch (IOException e) {
                    free = 0;
                }
                // low below the minimum; fine again only above it with a margin, so that free space
                // wavering around the minimum does not switch submits on and off every second
                boolean wasLow = r != null && r.get(i).low();
                boolean low = minFreeBytes > 0 && free < (wasLow ? minFreeBytes + margin() : minFreeBytes);
                fresh.add(new Reading(p.what(), p.folder(), free, low));
            }
            r = List.copyOf(fresh);
            readings = r;
            readAt = now;
            return r;
        }
    }

    /** How far above the minimum free space must be before a low disk counts as fine again. */
    long margin() {
        return Math.max(minFreeBytes / 10, 64L * 1024 * 1024);
    }

    /** Why this node should take no new work now, if a watched place is short of space. */
    public Optional<String> shortage() {
        for (Reading r : readings()) {
            if (r.low()) {
                return Optional.of("the disk holding the " + r.what() + " (" + r.folder() + ") has " + Bytes.human(r.freeBytes())
                        + " free, less than the " + Bytes.human(minFreeBytes) + " kept free (QWEN_IMAGE_MIN_FREE_DISK)");
            }
        }
        return Optional.empty();
    }

    /** What /healthz shows: each place's free bytes and whether it is low. */
    public List<Map<String, Object>> describe() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Reading r : readings()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("holds", r.what());
            m.put("path", r.folder().toString());
            m.put("free_bytes", r.freeBytes());
            m.put("min_free_bytes", minFreeBytes);
            m.put("ok", !r.low());
            out.add(m);
        }
        return out;
    }
}
