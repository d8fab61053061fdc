package dev.qwenimage.sdk.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them, read and printed the same way by the command line and by the
 * server's settings: {@code 500ms}, {@code 90s}, {@code 10m}, {@code 24h}, {@code 7d}, combined
 * ({@code 1h30m}, {@code 1h 30m}), with a fraction ({@code 1.5h}), spelt out ({@code 10 min},
 * {@code 2 hours}) or ISO-8601 ({@code PT1H}). A bare number means seconds.
 */
public final class DurationText {
    /** What every refusal shows as examples. */
    public static final String EXAMPLES = "write e.g. 90s, 10m, 24h, 7d or 1h30m; a bare number means seconds";

    private static final Pattern BARE = Pattern.compile("\\d+(\\.\\d+)?");
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]+)\\s*");
    private static final long SECOND = 1000;
    private static final long MINUTE = 60 * SECOND;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;

    private DurationText() {
    }

    /** Whether {@code text} is a bare number, which {@link #parse} reads as seconds. */
    public static boolean isBareNumber(String text) {
        return text != null && BARE.matcher(text.strip()).matches();
    }

    /**
     * The duration {@code text} means.
     *
     * @throws IllegalArgumentException when it is not a duration (or a negative one), with a message
     *                                  that shows how to write one
     */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (isBareNumber(t)) {
            return millis(new BigDecimal(t), SECOND, text);
        }
        if (t.startsWith("p")) {
            try {
                Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
                if (!d.isNegative()) {
                    return d;
                }
            } catch (DateTimeParseException e) {
                // refused below
            }
            throw refused(text);
        }
        Matcher m = PART.matcher(t);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < t.length()) {
            if (!m.find(at) || m.start() != at) {
                throw refused(text);
            }
            long unit = switch (m.group(2)) {
                case "ms", "msec", "millis", "millisecond", "milliseconds" -> 1;
                case "s", "sec", "secs", "second", "seconds" -> SECOND;
                case "m", "min", "mins", "minute", "minutes" -> MINUTE;
                case "h", "hr", "hrs", "hour", "hours" -> HOUR;
                case "d", "day", "days" -> DAY;
                default -> throw refused(text);
            };
            total = total.plus(millis(new BigDecimal(m.group(1)), unit, text));
            at = m.end();
        }
        if (at == 0) {
            throw refused(text);
        }
        return total;
    }

    /**
     * The shortest form people write, largest units first: {@code 1m30s}, {@code 1h30m}, {@code 7d},
     * {@code 1.5s}, {@code 250ms}; {@link #parse} reads it back as the same duration.
     */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        if (ms < SECOND) {
            return ms + "ms";
        }
        StringBuilder sb = new StringBuilder();
        long rest = ms;
        rest = part(sb, rest, DAY, "d");
        rest = part(sb, rest, HOUR, "h");
        rest = part(sb, rest, MINUTE, "m");
        if (rest > 0) {
            sb.append(BigDecimal.valueOf(rest, 3).stripTrailingZeros().toPlainString()).append('s');
        }
        return sb.toString();
    }

    private static long part(StringBuilder sb, long ms, long unit, String suffix) {
        if (ms >= unit) {
            sb.append(ms / unit).append(suffix);
        }
        return ms % unit;
    }

    private static Duration millis(BigDecimal amount, long unit, String text) {
        try {
            return Duration.ofMillis(amount.multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.HALF_UP).longValueExact());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
    }

    private static IllegalArgumentException refused(String text) {
        return new IllegalArgumentException("not a duration: '" + (text == null ? "" : text.strip()) + "' (" + EXAMPLES + ")");
    }
}
