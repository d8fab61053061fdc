package dev.qwenimage.config;

import dev.qwenimage.sdk.cli.DurationText;
import java.time.Duration;

/**
 * Durations in settings and engine options, written the way people write them and the way the
 * command line reads them ({@link DurationText}): {@code 500ms}, {@code 90s}, {@code 10m},
 * {@code 24h}, {@code 7d}, {@code 1h30m}, {@code 1.5h} or ISO-8601 {@code PT1H}; a bare number
 * means seconds.
 */
public final class Durations {
    private Durations() {
    }

    public static Duration parse(String text) {
        return DurationText.parse(text);
    }

    /** The shortest human form: {@code 10m}, {@code 1m30s}, {@code 1.5s}, {@code 2h}, {@code 7d}. */
    public static String human(Duration d) {
        return DurationText.format(d);
    }
}
