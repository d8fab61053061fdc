package dev.qwenimage.tenant;

import java.util.List;

/**
 * The limits set on one key; a null field means "the global default" (see {@link Limits}).
 *
 * @param maxQueued        tasks of the key waiting at once
 * @param submitsPerMinute size of the key's token bucket, refilled evenly over a minute
 * @param imagesPerDay     tasks accepted per UTC day
 * @param maxPixels        largest width x height a submit may ask for
 * @param allowedEngines   names of the engines the key's tasks may run on; null: every engine
 */
public record KeyLimits(Long maxQueued, Long submitsPerMinute, Long imagesPerDay, Long maxPixels, List<String> allowedEngines) {
    public static final KeyLimits DEFAULTS = new KeyLimits(null, null, null, null, null);

    public KeyLimits {
        allowedEngines = allowedEngines == null ? null : List.copyOf(allowedEngines);
    }

    /** What applies to a key with these limits when the global settings are {@code defaults}. */
    public Limits over(Limits defaults) {
        return new Limits(maxQueued != null ? maxQueued : defaults.maxQueued(),
                submitsPerMinute != null ? submitsPerMinute : defaults.submitsPerMinute(),
                imagesPerDay != null ? imagesPerDay : defaults.imagesPerDay(),
                maxPixels != null ? maxPixels : defaults.maxPixels(),
                allowedEngines != null ? allowedEngines : defaults.allowedEngines());
    }
}
