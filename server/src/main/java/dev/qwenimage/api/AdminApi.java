package dev.qwenimage.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.auth.AdminToken;
import dev.qwenimage.tenant.ApiKey;
import dev.qwenimage.tenant.Granularity;
import dev.qwenimage.tenant.InvalidKeyRequest;
import dev.qwenimage.tenant.KeyCheck;
import dev.qwenimage.tenant.KeyLimits;
import dev.qwenimage.tenant.KeyNotEditable;
import dev.qwenimage.tenant.KeyNotFound;
import dev.qwenimage.tenant.Limits;
import dev.qwenimage.tenant.Tenants;
import dev.qwenimage.tenant.UsageRow;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The admin API under {@code /admin/v1/}: API keys, their limits and their usage (see
 * docs/admin.md). Every route takes the admin token; the rules live in {@link Tenants}, this class
 * only maps HTTP to it.
 */
final class AdminApi {
    static final String PREFIX = "/admin/v1";
    private static final Set<String> CREATE_FIELDS = Set.of("name", "expires_at", "limits", "labels");
    private static final Set<String> CHANGE_FIELDS = CREATE_FIELDS;
    private static final Set<String> ROTATE_FIELDS = Set.of("grace_seconds");
    private static final Duration DEFAULT_RANGE = Duration.ofDays(30);

    /** Renders an error the way {@link HttpApi} does. */
    @FunctionalInterface
    interface ErrorWriter {
        void write(Context ctx, int status, String reason, String message, Map<String, Object> metadata);
    }

    private final Tenants tenants;
    private final AdminToken token;
    private final ObjectMapper json;
    private final RequestBodies bodies;
    private final java.time.Clock clock;

    AdminApi(Tenants tenants, AdminToken token, ObjectMapper json, RequestBodies bodies, java.time.Clock clock) {
        this.clock = clock;
        this.tenants = tenants;
        this.token = token;
        this.json = json;
        this.bodies = bodies;
    }

    void routes(RoutesConfig routes) {
        routes.before(PREFIX + "/*", this::authorize);
        routes.before(PREFIX, this::authorize);
        routes.post(PREFIX + "/keys", this::create);
        routes.get(PREFIX + "/keys", ctx -> write(ctx, 200, Map.of("keys", tenants.list().stream().map(this::view).toList())));
        routes.get(PREFIX + "/keys/{id}", ctx -> write(ctx, 200, view(tenants.get(ctx.pathParam("id")))));
        routes.patch(PREFIX + "/keys/{id}", this::change);
        routes.delete(PREFIX + "/keys/{id}", ctx -> write(ctx, 200, view(tenants.revoke(ctx.pathParam("id")))));
        routes.post(PREFIX + "/keys/{id}/rotate", this::rotate);
        routes.get(PREFIX + "/usage", this::usage);
    }

    /** The admin domain's refusals as the contract's error body. */
    static void errors(RoutesConfig routes, ErrorWriter error) {
        routes.exception(InvalidKeyRequest.class, (e, ctx) -> error.write(ctx, 400, "INVALID_FIELD", e.getMessage(),
                Map.of("field", e.field())));
        routes.exception(KeyNotFound.class, (e, ctx) -> error.write(ctx, 404, "KEY_NOT_FOUND", e.getMessage(), Map.of()));
        routes.exception(dev.qwenimage.tenant.KeyStore.KeyConflict.class, (e, ctx) -> error.write(ctx, 409, "KEY_CONFLICT",
                e.getMessage(), Map.of()));
        routes.exception(KeyNotEditable.class, (e, ctx) -> error.write(ctx, 409, "KEY_NOT_EDITABLE", e.getMessage(), Map.of()));
    }

    /** 401 without the admin token; 403 for an API key, which never opens admin routes. */
    private void authorize(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw new ApiError(401, "INVALID_ADMIN_TOKEN", "missing admin token: send the header Authorization: Bearer <admin token> "
                    + "(QWEN_IMAGE_ADMIN_TOKEN, or the admin-token file in the server's data directory)");
        }
        String presented = HttpApi.bearer(header);
        if (token.accepts(presented)) {
            return;
        }
        if (!(tenants.directory().check(presented) instanceof KeyCheck.Refused)) {
            throw new ApiError(403, "ADMIN_TOKEN_REQUIRED", "API keys cannot use the admin API: send the admin token instead");
        }
        throw new ApiError(401, "INVALID_ADMIN_TOKEN", "the admin token is not valid for this server");
    }

    // ---- routes -------------------------------------------------------------------------------

    private void create(Context ctx) {
        JsonNode body = bodies.jsonObject(ctx);
        onlyFields(body, CREATE_FIELDS);
        JsonNode name = body.get("name");
        if (name == null || name.isNull()) {
            throw new InvalidKeyRequest("name", "name is required: a few words that say whose key it is, e.g. {\"name\": \"acme-prod\"}");
        }
        KeyLimits limits = body.has("limits") && !body.get("limits").isNull()
                ? Tenants.merge(KeyLimits.DEFAULTS, limits(body.get("limits"))) : KeyLimits.DEFAULTS;
        Tenants.Issued issued = tenants.create(text(name, "name"), time(body, "expires_at").orElse(Optional.empty()), limits,
                labels(body).orElse(Map.of()));
        write(ctx, 201, issuedView(issued));
    }

    private void change(Context ctx) {
        JsonNode body = bodies.jsonObject(ctx);
        onlyFields(body, CHANGE_FIELDS);
        Optional<String> name = body.has("name") ? Optional.of(text(body.get("name"), "name")) : Optional.empty();
        Optional<Map<String, Object>> limits = body.has("limits") ? Optional.of(limits(body.get("limits"))) : Optional.empty();
        write(ctx, 200, view(tenants.change(ctx.pathParam("id"), new Tenants.Change(name, limits, labels(body), time(body, "expires_at")))));
    }

    private void rotate(Context ctx) {
        JsonNode body = ctx.header("Content-Type") == null && ctx.contentLength() <= 0 ? json.createObjectNode() : bodies.jsonObject(ctx);
        onlyFields(body, ROTATE_FIELDS);
        JsonNode grace = body.get("grace_seconds");
        long seconds = 0;
        if (grace != null && !grace.isNull()) {
            if (!grace.isIntegralNumber() || !grace.canConvertToLong()) {
                throw new InvalidKeyRequest("grace_seconds", "grace_seconds must be a whole number of seconds (0 to "
                        + Tenants.MAX_GRACE.toSeconds() + "); the old secret works that long after the rotation");
            }
            seconds = grace.longValue();
        }
        // the range is the rule of Tenants.rotate
        write(ctx, 200, issuedView(tenants.rotate(ctx.pathParam("id"), Duration.ofSeconds(seconds))));
    }

    private void usage(Context ctx) {
        Granularity granularity = Optional.ofNullable(ctx.queryParam("granularity")).map(g -> Granularity.parse(g.strip())
                .orElseThrow(() -> new InvalidKeyRequest("granularity", "granularity must be day or hour")))
                .orElse(Granularity.DAY);
        Instant now = clock.instant();
        Instant to = Optional.ofNullable(ctx.queryParam("to")).map(t -> bound("to", t, true)).orElse(now);
        Instant from = Optional.ofNullable(ctx.queryParam("from")).map(f -> bound("from", f, false))
                .orElse(granularity.floor(to.minus(DEFAULT_RANGE)));
        Optional<String> key = Optional.ofNullable(ctx.queryParam("key")).map(String::strip).filter(k -> !k.isEmpty());
        List<Tenants.UsageLine> lines = tenants.usage(key, from, to, granularity);
        String accept = Optional.ofNullable(ctx.header("Accept")).orElse("");
        if ("csv".equals(ctx.queryParam("format")) || accept.toLowerCase(Locale.ROOT).contains("text/csv")) {
            StringBuilder csv = new StringBuilder(
                    "key,name,period,submitted,succeeded,failed,cancelled,images,megapixels,engine_seconds,nsfw_flagged,"
                            + "edit_submitted,edit_succeeded,edit_engine_seconds\r\n");
            for (Tenants.UsageLine l : lines) {
                Map<String, Object> row = row(l);
                Iterator<Object> values = row.values().iterator();
                while (values.hasNext()) {
                    csv.append(csvField(String.valueOf(values.next()))).append(values.hasNext() ? "," : "\r\n");
                }
            }
            ctx.status(200).contentType("text/csv; charset=utf-8").header("Content-Disposition", "inline; filename=\"usage.csv\"")
                    .result(csv.toString());
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("granularity", granularity.wireName());
        out.put("from", from.toString());
        out.put("to", to.toString());
        out.put("rows", lines.stream().map(AdminApi::row).toList());
        write(ctx, 200, out);
    }

    // ---- views ----------------------------------------------------------------------------------

    private Map<String, Object> view(ApiKey k) {
        Instant now = clock.instant();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", k.id());
        out.put("name", k.name());
        out.put("prefix", k.prefix());
        out.put("status", k.status(now).wireName());
        out.put("bootstrap", k.bootstrap());
        out.put("created_at", k.bootstrap() ? null : k.createdAt().toString());
        out.put("expires_at", k.expiresAt().map(Instant::toString).orElse(null));
        out.put("revoked_at", k.revokedAt().map(Instant::toString).orElse(null));
        out.put("previous_secret_valid_until", k.previousValidAt(now) ? k.previousUntil().map(Instant::toString).orElse(null) : null);
        out.put("labels", k.labels());
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("max_queued", k.limits().maxQueued());
        set.put("submits_per_minute", k.limits().submitsPerMinute());
        set.put("images_per_day", k.limits().imagesPerDay());
        set.put("max_pixels", k.limits().maxPixels());
        set.put("allowed_engines", k.limits().allowedEngines());
        out.put("limits", set);
        Limits e = tenants.directory().limitsOf(k);
        Map<String, Object> effective = new LinkedHashMap<>();
        effective.put("max_queued", e.maxQueued());
        effective.put("submits_per_minute", e.submitsPerMinute());
        effective.put("images_per_day", e.imagesPerDay());
        effective.put("max_pixels", e.maxPixels());
        effective.put("allowed_engines", e.allowedEngines());
        out.put("effective_limits", effective);
        return out;
    }

    private Map<String, Object> issuedView(Tenants.Issued issued) {
        Map<String, Object> out = view(issued.key());
        out.put("secret", issued.secret());
        return out;
    }

    private static Map<String, Object> row(Tenants.UsageLine l) {
        UsageRow r = l.row();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", l.keyId());
        out.put("name", l.name());
        out.put("period", r.period().toString());
        out.put("submitted", r.submitted());
        out.put("succeeded", r.succeeded());
        out.put("failed", r.failed());
        out.put("cancelled", r.cancelled());
        out.put("images", r.images());
        out.put("megapixels", Math.round(r.pixels() / 10_000.0) / 100.0);
        out.put("engine_seconds", Math.round(r.engineMillis() / 100.0) / 10.0);
        out.put("nsfw_flagged", r.nsfwFlagged());
        out.put("edit_submitted", r.edits().submitted());
        out.put("edit_succeeded", r.edits().succeeded());
        out.put("edit_engine_seconds", Math.round(r.edits().engineMillis() / 100.0) / 10.0);
        return out;
    }

    private static String csvField(String s) {
        // a name an admin typed may start with = or + (a formula in spreadsheets): quoted and prefixed, never run
        boolean formula = !s.isEmpty() && "=+-@".indexOf(s.charAt(0)) >= 0 && !s.matches("-?[0-9.]+");
        String v = formula ? "'" + s : s;
        return v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r") || formula
                ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }

    // ---- fields -------------------------------------------------------------------------------

    private static void onlyFields(JsonNode body, Set<String> allowed) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new InvalidKeyRequest(f, "unknown field " + quoted(f) + "; this request takes " + String.join(", ",
                        allowed.stream().sorted().toList()));
            }
        }
    }

    private static String text(JsonNode node, String field) {
        if (!node.isTextual()) {
            throw new InvalidKeyRequest(field, field + " must be a string");
        }
        return node.textValue();
    }

    /** A time field: absent (empty), null (present and empty) or an RFC 3339 time. */
    private static Optional<Optional<Instant>> time(JsonNode body, String field) {
        if (!body.has(field)) {
            return Optional.empty();
        }
        JsonNode v = body.get(field);
        if (v.isNull()) {
            return Optional.of(Optional.empty());
        }
        if (!v.isTextual()) {
            throw new InvalidKeyRequest(field, field + " must be an RFC 3339 time such as \"2027-01-01T00:00:00Z\", or null");
        }
        return Optional.of(Optional.of(parseTime(field, v.textValue(), false)));
    }

    private static Map<String, Object> limits(JsonNode node) {
        if (node.isNull()) {
            Map<String, Object> all = new LinkedHashMap<>();
            Tenants.LIMIT_FIELDS.forEach(f -> all.put(f, null));
            return all; // "limits": null puts every limit back to the default
        }
        if (!node.isObject()) {
            throw new InvalidKeyRequest("limits", "limits must be an object such as {\"max_queued\": 10, \"images_per_day\": 500}");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            Object value;
            if (v.isNull()) {
                value = null;
            } else if (v.isIntegralNumber()) {
                value = v.bigIntegerValue();
            } else if (v.isArray()) {
                List<Object> list = new ArrayList<>();
                v.forEach(x -> list.add(x.isTextual() ? x.textValue() : x)); // anything else is refused by the rules
                value = list;
            } else {
                value = v.isTextual() ? v.textValue() : v.toString();
            }
            out.put(e.getKey(), value);
        }
        return out;
    }

    private static Optional<Map<String, String>> labels(JsonNode body) {
        if (!body.has("labels")) {
            return Optional.empty();
        }
        JsonNode node = body.get("labels");
        if (node.isNull()) {
            return Optional.of(Map.of());
        }
        if (!node.isObject()) {
            throw new InvalidKeyRequest("labels", "labels must be an object of strings such as {\"team\": \"growth\"}");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new InvalidKeyRequest("labels", "label " + quoted(e.getKey()) + " must have a string value");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Optional.of(out);
    }

    /** A usage range bound: a date (whole UTC days; {@code to} includes its day) or an RFC 3339 time. */
    private static Instant bound(String field, String value, boolean end) {
        return parseTime(field, value.strip(), end);
    }

    private static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private static Instant parseTime(String field, String value, boolean endOfDay) {
        try {
            Instant t;
            if (value.length() == 10) {
                LocalDate d = LocalDate.parse(value);
                t = (endOfDay ? d.plusDays(1) : d).atStartOfDay(ZoneOffset.UTC).toInstant();
            } else {
                t = OffsetDateTime.parse(value).toInstant();
            }
            if (t.isBefore(EARLIEST) || t.isAfter(LATEST)) {
                throw new InvalidKeyRequest(field, field + " must be between 1970 and 9999; got " + quoted(value));
            }
            return t;
        } catch (DateTimeParseException e) {
            throw new InvalidKeyRequest(field, field + " must be a date such as 2026-12-01 or an RFC 3339 time such as "
                    + "2026-12-01T08:00:00Z; got " + quoted(value));
        }
    }

    private static String quoted(String s) {
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
    }

    private void write(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e);
        }
    }
}
