package dev.qwenimage.tenant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rows of {@code api_keys} and {@code usage_hourly}, mapped once for both stores (the columns
 * and their meaning are the same in SQLite and PostgreSQL). Each store runs these its own way.
 */
public final class KeyRows {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, owner, name, prefix, secret_sha256, previous_sha256, previous_until, created_at, "
            + "expires_at, revoked_at, max_queued, submits_per_minute, images_per_day, max_pixels, allowed_engines, labels";

    public static final String INSERT = "INSERT INTO api_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /** What an admin edits, then the id (parameter 9); see {@link #bindSettings}. */
    public static final String UPDATE_SETTINGS = """
            UPDATE api_keys SET name = ?, expires_at = ?, max_queued = ?, submits_per_minute = ?, images_per_day = ?, max_pixels = ?,
                   allowed_engines = ?, labels = ?
             WHERE id = ?""";
    /** Parameters: the time, the id. */
    public static final String REVOKE = """
            UPDATE api_keys SET revoked_at = ?, previous_sha256 = NULL, previous_until = NULL WHERE id = ? AND revoked_at IS NULL""";
    /** See {@link #bindRotation}. */
    public static final String ROTATE = """
            UPDATE api_keys SET prefix = ?, secret_sha256 = ?, previous_sha256 = ?, previous_until = ?
             WHERE id = ? AND secret_sha256 = ? AND revoked_at IS NULL""";
    private static final String ALL = "SELECT " + COLUMNS + " FROM api_keys ORDER BY created_at, id";
    private static final String ONE = "SELECT " + COLUMNS + " FROM api_keys WHERE id = ?";
    private static final String USAGE = """
            SELECT owner, hour, submitted, succeeded, failed, cancelled, images, pixels, engine_millis, nsfw_flagged,
                   edit_submitted, edit_succeeded, edit_engine_millis
              FROM usage_hourly WHERE hour >= ? AND hour < ? AND (? IS NULL OR owner = ?) ORDER BY owner, hour""";

    private KeyRows() {
    }

    /** Binds a statement's parameters. */
    @FunctionalInterface
    public interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    public static void bindInsert(PreparedStatement ps, ApiKey k) throws SQLException {
        ps.setString(1, k.id());
        ps.setString(2, k.owner());
        bindValues(ps, 3, k);
    }

    public static void bindSettings(PreparedStatement ps, ApiKey k) throws SQLException {
        ps.setString(1, k.name());
        time(ps, 2, k.expiresAt());
        number(ps, 3, k.limits().maxQueued());
        number(ps, 4, k.limits().submitsPerMinute());
        number(ps, 5, k.limits().imagesPerDay());
        number(ps, 6, k.limits().maxPixels());
        ps.setString(7, k.limits().allowedEngines() == null ? null : json(k.limits().allowedEngines()));
        ps.setString(8, json(k.labels()));
        ps.setString(9, k.id());
    }

    public static void bindRevoke(PreparedStatement ps, String id, Instant at) throws SQLException {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, id);
    }

    public static void bindRotation(PreparedStatement ps, ApiKey rotated, String expectedSha256) throws SQLException {
        ps.setString(1, rotated.prefix());
        ps.setString(2, rotated.secretSha256());
        ps.setString(3, rotated.previousSha256().orElse(null));
        time(ps, 4, rotated.previousUntil());
        ps.setString(5, rotated.id());
        ps.setString(6, expectedSha256);
    }

    /** name .. labels (14 columns) from parameter {@code i} on. */
    private static void bindValues(PreparedStatement ps, int i, ApiKey k) throws SQLException {
        ps.setString(i, k.name());
        ps.setString(i + 1, k.prefix());
        ps.setString(i + 2, k.secretSha256());
        ps.setString(i + 3, k.previousSha256().orElse(null));
        time(ps, i + 4, k.previousUntil());
        ps.setLong(i + 5, k.createdAt().toEpochMilli());
        time(ps, i + 6, k.expiresAt());
        time(ps, i + 7, k.revokedAt());
        number(ps, i + 8, k.limits().maxQueued());
        number(ps, i + 9, k.limits().submitsPerMinute());
        number(ps, i + 10, k.limits().imagesPerDay());
        number(ps, i + 11, k.limits().maxPixels());
        ps.setString(i + 12, k.limits().allowedEngines() == null ? null : json(k.limits().allowedEngines()));
        ps.setString(i + 13, json(k.labels()));
    }

    private static void bindUsage(PreparedStatement ps, Optional<String> owner, Instant from, Instant to) throws SQLException {
        ps.setLong(1, from.toEpochMilli());
        ps.setLong(2, to.toEpochMilli());
        ps.setString(3, owner.orElse(null));
        ps.setString(4, owner.orElse(null));
    }

    private static List<ApiKey> keys(ResultSet rs) throws SQLException {
        List<ApiKey> out = new ArrayList<>();
        while (rs.next()) {
            out.add(key(rs));
        }
        return out;
    }

    private static List<UsageRow> usage(ResultSet rs) throws SQLException {
        List<UsageRow> out = new ArrayList<>();
        while (rs.next()) {
            out.add(new UsageRow(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getLong(3), rs.getLong(4),
                    rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10),
                    new UsageRow.Edits(rs.getLong(11), rs.getLong(12), rs.getLong(13))));
        }
        return out;
    }

    /** Every key, oldest first. */
    public static List<ApiKey> all(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(ALL); ResultSet rs = ps.executeQuery()) {
            return keys(rs);
        }
    }

    /** The hourly usage rows of {@code owner} (every owner when empty) in [from, to). */
    public static List<UsageRow> usage(Connection c, Optional<String> owner, Instant from, Instant to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(USAGE)) {
            bindUsage(ps, owner, from, to);
            try (ResultSet rs = ps.executeQuery()) {
                return usage(rs);
            }
        }
    }

    /** The key with {@code id}, if any. */
    public static Optional<ApiKey> one(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(ONE)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(key(rs)) : Optional.empty();
            }
        }
    }

    private static ApiKey key(ResultSet rs) throws SQLException {
        String engines = rs.getString(15);
        return new ApiKey(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                Optional.ofNullable(rs.getString(6)), time(rs, 7), Instant.ofEpochMilli(rs.getLong(8)), time(rs, 9), time(rs, 10),
                new KeyLimits(number(rs, 11), number(rs, 12), number(rs, 13), number(rs, 14),
                        engines == null ? null : parse(engines, new TypeReference<List<String>>() { })),
                parse(rs.getString(16), new TypeReference<Map<String, String>>() { }), false);
    }

    private static void time(PreparedStatement ps, int i, Optional<Instant> t) throws SQLException {
        if (t.isPresent()) {
            ps.setLong(i, t.get().toEpochMilli());
        } else {
            ps.setNull(i, Types.BIGINT);
        }
    }

    private static void number(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v != null) {
            ps.setLong(i, v);
        } else {
            ps.setNull(i, Types.BIGINT);
        }
    }

    private static Optional<Instant> time(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    private static Long number(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : v;
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T parse(String s, TypeReference<T> type) throws SQLException {
        try {
            return JSON.readValue(s, type);
        } catch (JsonProcessingException e) {
            throw new SQLException("a stored API key has a malformed JSON column: " + e.getOriginalMessage(), e);
        }
    }
}
