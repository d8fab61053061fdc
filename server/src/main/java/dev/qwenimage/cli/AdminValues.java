package dev.qwenimage.cli;

import dev.qwenimage.sdk.cli.DurationText;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The values the options of {@code keys} and {@code usage} take, read as people write them. A value
 * that is not one fails the parse, so the command line says which option and exits 2.
 */
final class AdminValues {
    /** The word of {@code keys limits} that sends a limit back to the global default. */
    static final String DEFAULT = "default";

    private static final Pattern SIZE = Pattern.compile("(\\d{1,6})\\s*[*xX]\\s*(\\d{1,6})");

    private AdminValues() {
    }

    /** A limit as {@code keys limits} sets it: a number, or back to the global default (a null value). */
    record Limit(Long value) {
        static final Limit BACK_TO_DEFAULT = new Limit(null);
    }

    /**
     * When a key expires: a date ({@code 2027-01-01}, the start of that UTC day), an RFC 3339 time, or a
     * duration from now ({@code 30d}, {@code 12h}).
     */
    static Instant expiry(String text, Clock clock) {
        String t = text.strip();
        if (t.matches("\\d{4}-\\d{2}-\\d{2}")) {
            try {
                return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("no such date: '" + t + "'");
            }
        }
        if (t.length() > 10 && Character.isDigit(t.charAt(0)) && t.charAt(4) == '-') {
            try {
                return OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("'" + t + "' is not a time: write a date (2027-01-01), a time "
                        + "(2027-01-01T12:00:00Z) or a duration from now (30d, 12h)");
            }
        }
        Duration d;
        try {
            d = DurationText.parse(t);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + t + "' is neither a date (2027-01-01), a time (2027-01-01T12:00:00Z) "
                    + "nor a duration from now (30d, 12h)");
        }
        if (d.isZero()) {
            throw new TypeConversionException("a key that expires in 0s expires at once: give a later date, or revoke it");
        }
        return clock.instant().plus(d);
    }

    static final class ExpiryConverter implements ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            return expiry(value, Clock.systemUTC());
        }
    }

    /** A count of 0 or more; as a limit of a key, 0 means no limit. */
    static long count(String text) {
        String t = text.strip().replace("_", "");
        if (!t.matches("\\d{1,18}")) {
            throw new TypeConversionException("'" + text.strip() + "' is not a whole number of 0 or more");
        }
        return Long.parseLong(t);
    }

    static final class CountConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return count(value);
        }
    }

    /** Pixels as a number ({@code 1048576}) or as width*height ({@code 1024*1024}, {@code 1024x1024}). */
    static long pixels(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (m.matches()) {
            return Long.parseLong(m.group(1)) * Long.parseLong(m.group(2));
        }
        if (text.strip().matches("\\d+")) {
            return count(text);
        }
        throw new TypeConversionException("'" + text.strip() + "' is not a size: write width*height, e.g. 1024*1024");
    }

    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return pixels(value);
        }
    }

    /** A count, or {@code default}. */
    static final class LimitConverter implements ITypeConverter<Limit> {
        @Override
        public Limit convert(String value) {
            return isDefault(value) ? Limit.BACK_TO_DEFAULT : new Limit(count(value));
        }
    }

    /** A size ({@link #pixels}), or {@code default}. */
    static final class SizeLimitConverter implements ITypeConverter<Limit> {
        @Override
        public Limit convert(String value) {
            return isDefault(value) ? Limit.BACK_TO_DEFAULT : new Limit(pixels(value));
        }
    }

    static boolean isDefault(String value) {
        return value.strip().toLowerCase(Locale.ROOT).equals(DEFAULT);
    }

    /** A day ({@code 2026-12-01}) or an RFC 3339 time, passed to the server as written. */
    static final class DayOrTimeConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            String t = value.strip();
            try {
                if (t.matches("\\d{4}-\\d{2}-\\d{2}")) {
                    LocalDate.parse(t);
                } else {
                    OffsetDateTime.parse(t);
                }
                return t;
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("'" + t + "' is not a date (2026-12-01) or a time (2026-12-01T13:00:00Z)");
            }
        }
    }

    /** The periods of a usage report. */
    enum Granularity {
        DAY, HOUR;

        String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final class GranularityConverter implements ITypeConverter<Granularity> {
        @Override
        public Granularity convert(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "day" -> Granularity.DAY;
                case "hour" -> Granularity.HOUR;
                default -> throw new TypeConversionException("'" + value.strip() + "' is not day or hour");
            };
        }
    }

    /** Whole seconds of a grace period ({@code 1h}, {@code 90s}, {@code 0}), rounded up. */
    static long graceSeconds(String text) {
        try {
            Duration d = DurationText.parse(text);
            return d.toSeconds() + (d.getNano() > 0 ? 1 : 0);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    static final class GraceConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return graceSeconds(value);
        }
    }
}
