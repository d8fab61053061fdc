package dev.qwenimage.health;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes the way people write them: {@code 512MB}, {@code 2GB}, {@code 1.5GiB}, {@code 0}. */
public final class Bytes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b?|b)?");

    private Bytes() {
    }

    /**
     * Parses a size. Units KB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB powers of 1024
     * (case does not matter, the B may be left out: {@code 512m}); a bare number is bytes.
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 512MB, 2GB or 0)");
        }
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        boolean binary = unit.contains("i");
        int power = switch (unit.charAt(0)) {
            case 'k' -> 1;
            case 'm' -> 2;
            case 'g' -> 3;
            case 't' -> 4;
            default -> 0;
        };
        double bytes = n * Math.pow(binary ? 1024 : 1000, power);
        if (bytes > Long.MAX_VALUE) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return (long) bytes;
    }

    /** A size for people, in the largest decimal unit that keeps it at least 1: {@code 512 MB}, {@code 1.5 GB}. */
    public static String human(long bytes) {
        String[] units = {"bytes", "KB", "MB", "GB", "TB"};
        double v = bytes;
        int i = 0;
        while (v >= 1000 && i < units.length - 1) {
            v /= 1000;
            i++;
        }
        if (i == 0) {
            return bytes + " bytes";
        }
        return (v >= 100 || v == Math.floor(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v))
                + " " + units[i];
    }
}
