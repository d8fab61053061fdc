package dev.qwenimage.tenant;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/** How usage is summed: per UTC day or per hour. */
public enum Granularity {
    DAY(ChronoUnit.DAYS, Duration.ofDays(366)), HOUR(ChronoUnit.HOURS, Duration.ofDays(31));

    private final ChronoUnit unit;
    private final Duration maxRange;

    Granularity(ChronoUnit unit, Duration maxRange) {
        this.unit = unit;
        this.maxRange = maxRange;
    }

    public Instant floor(Instant t) {
        return t.truncatedTo(unit);
    }

    public Duration maxRange() {
        return maxRange;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Granularity> parse(String s) {
        for (Granularity g : values()) {
            if (g.wireName().equals(s)) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }
}
