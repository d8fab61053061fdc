package dev.qwenimage.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Keys of the admin API (docs/admin.md, "A key") as a person reads them: a table, one key's details, a new secret. */
final class KeyText {
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /** The limits in the order they are shown, with the name people read. */
    private static final Map<String, String> LIMITS = orderedNames(
            "max_queued", "max queued",
            "submits_per_minute", "submits per minute",
            "images_per_day", "images per day",
            "max_pixels", "max pixels",
            "allowed_engines", "engines");

    private KeyText() {
    }

    /** {@code GET /admin/v1/keys} as a table: id, name, prefix, status, the limits set on the key, created, expires. */
    static String table(JsonNode answer) {
        JsonNode keys = answer.path("keys");
        if (keys.isEmpty()) {
            return "No keys.\n";
        }
        TextTable table = new TextTable("ID", "NAME", "PREFIX", "STATUS", "LIMITS", "CREATED", "EXPIRES");
        for (JsonNode key : keys) {
            table.row(text(key, "id"), text(key, "name"), text(key, "prefix"), status(key), compactLimits(key),
                    minute(key.path("created_at")), key.path("expires_at").isNull() || key.path("expires_at").isMissingNode()
                            ? "never" : minute(key.path("expires_at")));
        }
        return table.render() + "Times in UTC. Limits set on each key; the others are the server's defaults"
                + " (qwen-image keys show ID).\n";
    }

    /** The status, with the bootstrap keys (from QWEN_IMAGE_API_KEYS or the generated file) marked. */
    static String status(JsonNode key) {
        return text(key, "status") + (key.path("bootstrap").asBoolean(false) ? " (bootstrap)" : "");
    }

    /** The limits set on the key, compactly: {@code queue 10, 30/min, 500/day, 1024*1024 px, engines a,b}; or {@code defaults}. */
    static String compactLimits(JsonNode key) {
        JsonNode limits = key.path("limits");
        List<String> parts = new ArrayList<>();
        JsonNode queued = limits.path("max_queued");
        if (queued.isNumber()) {
            parts.add("queue " + (queued.asLong() == 0 ? "unlimited" : queued.asText()));
        }
        JsonNode perMinute = limits.path("submits_per_minute");
        if (perMinute.isNumber()) {
            parts.add(perMinute.asLong() == 0 ? "submits unlimited" : perMinute.asText() + "/min");
        }
        JsonNode perDay = limits.path("images_per_day");
        if (perDay.isNumber()) {
            parts.add(perDay.asLong() == 0 ? "images unlimited" : perDay.asText() + "/day");
        }
        JsonNode pixels = limits.path("max_pixels");
        if (pixels.isNumber()) {
            parts.add(pixels.asLong() == 0 ? "size unlimited" : pixels(pixels.asLong()) + " px");
        }
        JsonNode engines = limits.path("allowed_engines");
        if (engines.isArray()) {
            parts.add(engines.isEmpty() ? "every engine" : "engines " + join(engines));
        }
        return parts.isEmpty() ? "defaults" : String.join(", ", parts);
    }

    /** {@code GET /admin/v1/keys/{id}}: every field, and each limit as set and as in effect. */
    static String details(JsonNode key) {
        StringBuilder sb = new StringBuilder();
        field(sb, "id", text(key, "id"));
        field(sb, "name", text(key, "name"));
        field(sb, "prefix", text(key, "prefix"));
        field(sb, "status", status(key));
        field(sb, "created", time(key.path("created_at")));
        field(sb, "expires", present(key.path("expires_at")) ? time(key.path("expires_at")) : "never");
        if (present(key.path("revoked_at"))) {
            field(sb, "revoked", time(key.path("revoked_at")));
        }
        if (present(key.path("previous_secret_valid_until"))) {
            field(sb, "old secret", "works until " + time(key.path("previous_secret_valid_until")));
        }
        List<String> labels = new ArrayList<>();
        key.path("labels").properties().forEach(e -> labels.add(e.getKey() + "=" + e.getValue().asText()));
        field(sb, "labels", labels.isEmpty() ? "none" : String.join(", ", labels));
        sb.append('\n');
        TextTable limits = new TextTable("LIMIT", "SET ON THE KEY", "IN EFFECT");
        LIMITS.forEach((name, shown) -> limits.row(shown, set(name, key.path("limits").path(name)),
                effective(name, key.path("effective_limits").path(name))));
        sb.append(limits.render());
        if (key.path("bootstrap").asBoolean(false)) {
            sb.append("A bootstrap key (QWEN_IMAGE_API_KEYS or the generated api-key file): not editable here; "
                    + "its limits are the global settings.\n");
        }
        return sb.toString();
    }

    /** The answer of create or rotate: the key in a line, then its secret, set apart and marked as shown once. */
    static String secret(String done, JsonNode key) {
        StringBuilder sb = new StringBuilder();
        sb.append(done).append(" key ").append(text(key, "id")).append(" (").append(text(key, "name")).append(").\n\n");
        sb.append("Secret, shown this once (the server keeps only its SHA-256): store it now.\n\n");
        sb.append("    ").append(text(key, "secret")).append("\n\n");
        sb.append("Clients send it as \"Authorization: Bearer <secret>\". Limits: ").append(compactLimits(key))
                .append("; expires: ").append(present(key.path("expires_at")) ? time(key.path("expires_at")) : "never")
                .append(".\n");
        return sb.toString();
    }

    private static String set(String name, JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return "default";
        }
        return effective(name, value);
    }

    private static String effective(String name, JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return "-";
        }
        if (value.isArray()) {
            return value.isEmpty() ? "every engine" : join(value);
        }
        if (value.asLong() == 0) {
            return "no limit";
        }
        String size = pixels(value.asLong());
        return name.equals("max_pixels") && !size.equals(value.asText()) ? value.asText() + " (" + size + ")" : value.asText();
    }

    /** {@code 1024*1024} when the pixels are a square of a whole side, else the number. */
    static String pixels(long n) {
        long side = Math.round(Math.sqrt(n));
        return side * side == n ? side + "*" + side : Long.toString(n);
    }

    private static String join(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return String.join(",", names);
    }

    private static void field(StringBuilder sb, String name, String value) {
        sb.append(String.format("%-12s%s", name, value)).append('\n');
    }

    static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }

    static boolean present(JsonNode v) {
        return !v.isMissingNode() && !v.isNull();
    }

    /** An RFC 3339 time as {@code 2026-12-03 13:00} (UTC), or as the server wrote it when it is not one. */
    static String minute(JsonNode v) {
        return format(v, MINUTE);
    }

    /** An RFC 3339 time as {@code 2026-12-03 13:00:00 UTC}. */
    static String time(JsonNode v) {
        String s = format(v, SECOND);
        return s.equals(v.asText()) ? s : s + " UTC";
    }

    private static String format(JsonNode v, DateTimeFormatter f) {
        if (!present(v)) {
            return "-";
        }
        try {
            return f.format(Instant.parse(v.asText()));
        } catch (DateTimeParseException e) {
            return v.asText();
        }
    }

    private static Map<String, String> orderedNames(String... pairs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
