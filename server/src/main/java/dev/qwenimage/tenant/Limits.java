package dev.qwenimage.tenant;

import java.util.List;

/**
 * The limits that apply to a key: its own where it has them, the global settings otherwise.
 * 0 means no limit; an empty engine list, every engine.
 */
public record Limits(long maxQueued, long submitsPerMinute, long imagesPerDay, long maxPixels, List<String> allowedEngines) {
    public static final Limits NONE = new Limits(0, 0, 0, 0, List.of());

    public Limits {
        allowedEngines = List.copyOf(allowedEngines);
    }

    /** Whether the key's tasks may run on engine {@code name}. */
    public boolean allows(String engine) {
        return allowedEngines.isEmpty() || allowedEngines.contains(engine);
    }
}
