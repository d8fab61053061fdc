package dev.qwenimage.engine;

import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.Nearest;
import dev.qwenimage.config.Durations;
import dev.qwenimage.config.Redaction;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One engine entry of the configuration: which kind of engine, where it is, how many tasks it
 * runs at once and its own settings. Written as one line,
 * {@code kind[:url][?option=value&option=value...]}, for example
 * {@code comfyui:http://gpu1:8188?slots=1&steps=8}; {@link #parseAll} reads a list of them
 * separated by {@code ;} or new lines. Options are the engine's business except the common ones
 * read here: {@code name}, {@code slots}, {@code timeout}.
 */
public record EngineSpec(String kind, String name, Optional<URI> url, OptionalInt slots, Optional<Duration> timeout,
                         Map<String, String> options) {

    /** Engine kinds this version knows, in the order the README documents them. */
    public static final List<String> KINDS = List.of("preview", "comfyui", "sdcpp", "openai", "ppio");
    private static final Set<String> COMMON = Set.of("name", "slots", "timeout");

    public EngineSpec {
        options = Map.copyOf(options);
    }

    /** Reads every entry of {@code text}; names default to the kind, numbered when a kind repeats. */
    public static List<EngineSpec> parseAll(String setting, String text) {
        List<String> entries = new ArrayList<>();
        for (String e : text.split("[;\\n]")) {
            if (!e.isBlank()) {
                entries.add(e.strip());
            }
        }
        if (entries.isEmpty()) {
            throw new ConfigException(setting + " names no engine; use e.g. 'preview' or 'comfyui:http://127.0.0.1:8188'");
        }
        Map<String, Integer> perKind = new LinkedHashMap<>();
        List<EngineSpec> specs = new ArrayList<>();
        for (String e : entries) {
            EngineSpec s = parse(setting, e);
            perKind.merge(s.kind(), 1, Integer::sum);
            specs.add(s);
        }
        Set<String> names = new HashSet<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        List<EngineSpec> named = new ArrayList<>();
        for (EngineSpec s : specs) {
            int n = seen.merge(s.kind(), 1, Integer::sum);
            String name = s.options().containsKey("name") ? s.name()
                    : perKind.get(s.kind()) > 1 ? s.kind() + "-" + n : s.kind();
            if (!names.add(name)) {
                throw new ConfigException(setting + ": two engines are named '" + name + "'; give each a distinct name=...");
            }
            named.add(new EngineSpec(s.kind(), name, s.url(), s.slots(), s.timeout(), s.options()));
        }
        return List.copyOf(named);
    }

    static EngineSpec parse(String setting, String entry) {
        String where = setting + " entry '" + Redaction.text(redact(entry)) + "'";
        int colon = entry.indexOf(':');
        int question = entry.indexOf('?');
        int kindEnd = colon < 0 ? (question < 0 ? entry.length() : question)
                : question < 0 ? colon : Math.min(colon, question);
        String kind = entry.substring(0, kindEnd).strip().toLowerCase(java.util.Locale.ROOT);
        if (!KINDS.contains(kind)) {
            throw new ConfigException(where + ": unknown engine kind '" + kind + "'"
                    + Nearest.among(kind, KINDS).map(k -> " (did you mean " + k + "?)").orElse("")
                    + "; known kinds: " + String.join(", ", KINDS));
        }
        String rest = entry.substring(kindEnd);
        String urlText = "";
        String query = "";
        if (rest.startsWith(":")) {
            rest = rest.substring(1);
            int q = rest.indexOf('?');
            urlText = (q < 0 ? rest : rest.substring(0, q)).strip();
            query = q < 0 ? "" : rest.substring(q + 1);
        } else if (rest.startsWith("?")) {
            query = rest.substring(1);
        }
        Optional<URI> url = Optional.empty();
        if (!urlText.isEmpty()) {
            if (!urlText.matches("https?://[^\\s/?#]+(/[^\\s?#]*)?")) {
                throw new ConfigException(where + ": '" + Redaction.text(urlText) + "' is not an http(s) URL such as http://127.0.0.1:8188");
            }
            URI parsed;
            try {
                parsed = new URI(urlText.replaceAll("/+$", ""));
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(where + ": '" + Redaction.text(urlText) + "' is not a valid URL");
            }
            if (parsed.getHost() == null) {
                throw new ConfigException(where + ": '" + Redaction.text(urlText) + "' has no valid host name"
                        + " (a password holding '@', ':' or '/' is written percent-encoded, e.g. %40 for '@')");
            }
            url = Optional.of(parsed);
        }
        Map<String, String> options = new LinkedHashMap<>();
        int number = 0;
        for (String pair : query.split("&")) {
            number++;
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                // not echoed: a bare value is often a key that lost its "key="
                throw new ConfigException(where + ": option " + number + " after '?' must be written name=value "
                        + "(it is not shown here, as it may be a secret)");
            }
            String k = URLDecoder.decode(pair.substring(0, eq).strip(), StandardCharsets.UTF_8).toLowerCase(java.util.Locale.ROOT);
            String v = URLDecoder.decode(pair.substring(eq + 1).strip(), StandardCharsets.UTF_8);
            if (options.put(k, v) != null) {
                throw new ConfigException(where + ": option '" + k + "' is given twice");
            }
        }
        OptionalInt slots = OptionalInt.empty();
        if (options.containsKey("slots")) {
            slots = OptionalInt.of(intOption(where, "slots", options.get("slots"), 1, 256));
        }
        Optional<Duration> timeout = Optional.empty();
        if (options.containsKey("timeout")) {
            try {
                timeout = Optional.of(Durations.parse(options.get("timeout")));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ": timeout: " + e.getMessage());
            }
        }
        String name = options.getOrDefault("name", kind);
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new ConfigException(where + ": name '" + name + "' must be letters, digits, '.', '_' or '-'");
        }
        if (url.isEmpty() && !kind.equals("preview") && !kind.equals("ppio")) {
            throw new ConfigException(where + ": the " + kind + " engine needs its URL, e.g. " + kind + ":http://127.0.0.1:8188");
        }
        return new EngineSpec(kind, name, url, slots, timeout, options);
    }

    /** Longest a GPU engine may take for one image unless its entry sets {@code timeout=}. */
    public static final Duration DEFAULT_GPU_TIMEOUT = Duration.ofMinutes(10);

    /** The time limit per image: the entry's {@code timeout=}, else none for the CPU preview and 10 minutes for GPU engines. */
    public Duration timeLimit() {
        return timeout.orElse(kind.equals("preview") ? Duration.ZERO : DEFAULT_GPU_TIMEOUT);
    }

    /** An engine-specific option, or empty. */
    public Optional<String> option(String key) {
        return Optional.ofNullable(options.get(key)).filter(v -> !v.isBlank());
    }

    public String option(String key, String fallback) {
        return option(key).orElse(fallback);
    }

    public int intOption(String key, int fallback, int min, int max) {
        return option(key).map(v -> intOption(where(), key, v, min, max)).orElse(fallback);
    }

    public double doubleOption(String key, double fallback, double min, double max) {
        return option(key).map(v -> {
            try {
                double d = Double.parseDouble(v);
                if (d < min || d > max) {
                    throw new ConfigException(where() + ": " + key + " must be between " + min + " and " + max + ", got " + v);
                }
                return d;
            } catch (NumberFormatException e) {
                throw new ConfigException(where() + ": " + key + " must be a number, got '" + v + "'");
            }
        }).orElse(fallback);
    }

    public Duration durationOption(String key, Duration fallback) {
        return option(key).map(v -> {
            try {
                return Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where() + ": " + key + ": " + e.getMessage());
            }
        }).orElse(fallback);
    }

    /** A duration option that must be longer than zero. */
    public Duration positiveDurationOption(String key, Duration fallback) {
        Duration d = durationOption(key, fallback);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(where() + ": " + key + " must be longer than 0, got '" + option(key, "") + "'");
        }
        return d;
    }

    public boolean booleanOption(String key, boolean fallback) {
        return option(key).map(v -> switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new ConfigException(where() + ": " + key + " must be true or false, got '" + v + "'");
        }).orElse(fallback);
    }

    /**
     * Refuses options this engine does not know, so that a typo is an error at start-up rather
     * than a setting silently ignored.
     */
    public void requireOnly(Set<String> known) {
        for (String k : options.keySet()) {
            if (!COMMON.contains(k) && !known.contains(k)) {
                List<String> all = new ArrayList<>(COMMON);
                all.addAll(known);
                all.sort(null);
                throw new ConfigException(where() + ": unknown option '" + k + "'"
                        + Nearest.among(k, all).map(n -> " (did you mean " + n + "?)").orElse("") + "; the " + kind + " engine takes: "
                        + String.join(", ", all));
            }
        }
    }

    /** The URL, required. */
    public URI requireUrl() {
        return url.orElseThrow(() -> new ConfigException(where() + ": the " + kind + " engine needs a URL"));
    }

    /** How this entry is named in messages: kind, name and URL (without credentials), never the options (they may hold keys). */
    public String where() {
        return "engine '" + name + "' (" + kind + url.map(u -> " at " + Redaction.url(u)).orElse("") + ")";
    }

    /** {@link #where()}: a record's own text would show the options, which may hold keys. */
    @Override
    public String toString() {
        return where();
    }

    private static int intOption(String where, String key, String v, int min, int max) {
        try {
            int n = Integer.parseInt(v.strip());
            if (n < min || n > max) {
                throw new ConfigException(where + ": " + key + " must be between " + min + " and " + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": " + key + " must be a whole number, got '" + v + "'");
        }
    }

    /** The entry with option values hidden, for error messages. */
    private static String redact(String entry) {
        int q = entry.indexOf('?');
        String head = Redaction.text(q < 0 ? entry : entry.substring(0, q));
        if (q < 0) {
            return head;
        }
        StringBuilder out = new StringBuilder(head).append('?');
        String[] pairs = entry.substring(q + 1).split("&", -1);
        for (int i = 0; i < pairs.length; i++) {
            int eq = pairs[i].indexOf('=');
            // option names stay (they say which option is wrong); values, and a bare value that may be a key, do not
            out.append(i == 0 ? "" : "&").append(eq < 0 ? (pairs[i].isBlank() ? "" : "…") : pairs[i].substring(0, eq) + "=…");
        }
        return out.toString();
    }
}
