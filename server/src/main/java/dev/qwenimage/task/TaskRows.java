package dev.qwenimage.task;

import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.image.ImageType;
import dev.qwenimage.safety.NsfwVerdict;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The row shape both SQL stores share: the columns every task query selects, in the order
 * {@link #toTask} reads them, and that mapping. Times are epoch milliseconds and flags integers in
 * both databases, so one mapping serves both.
 */
public final class TaskRows {
    private TaskRows() {
    }

    /** The columns every task query selects, in the order {@link #toTask} reads them. */
    public static final String COLUMNS = """
            seq, turn, id, owner, state, prompt, negative_prompt, width, height, watermark, seed, steps, attempts,
            max_attempts, available_at, lease_owner, lease_expires_at, progress, engine, reason, image_key,
            created_at, started_at, finished_at, engine_millis, nsfw_flagged, nsfw_confidence, image_type, webhook_url, kind, input_key""";


    /** Maps a row selected as {@link #COLUMNS}, by position (lookups by name cost more than the read itself). */
    public static Task toTask(ResultSet rs) throws SQLException {
        String code = rs.getString(5);
        TaskState state = switch (code) {
            case TaskState.QUEUED -> new TaskState.Queued(Instant.ofEpochMilli(rs.getLong(15)));
            case TaskState.PROCESSING -> new TaskState.Processing(rs.getString(16), Instant.ofEpochMilli(rs.getLong(17)),
                    rs.getInt(18));
            case TaskState.SUCCEED -> new TaskState.Succeeded(rs.getString(21), nsfw(rs));
            case TaskState.FAILED -> new TaskState.Failed(rs.getString(20));
            default -> throw new SQLException("unknown task state in database: " + code);
        };
        TaskSpec spec = new TaskSpec(rs.getString(6), rs.getString(7), rs.getInt(8), rs.getInt(9), rs.getInt(10) != 0,
                rs.getLong(11), optionalInt(rs, 12), ImageType.parse(rs.getString(28)).orElse(ImageType.JPEG),
                Optional.ofNullable(rs.getString(29)), kind(rs.getString(30)), Optional.ofNullable(rs.getString(31)));
        return new Task(
                rs.getString(3),
                rs.getLong(1),
                rs.getLong(2),
                rs.getString(4),
                spec,
                state,
                rs.getInt(13),
                rs.getInt(14),
                Instant.ofEpochMilli(rs.getLong(22)),
                optionalInstant(rs, 23),
                optionalInstant(rs, 24),
                optionalInt(rs, 25),
                Optional.ofNullable(rs.getString(19)));
    }

    private static TaskKind kind(String code) throws SQLException {
        return TaskKind.parse(code).orElseThrow(() -> new SQLException("unknown task kind in database: " + code));
    }

    private static Optional<NsfwVerdict> nsfw(ResultSet rs) throws SQLException {
        int flagged = rs.getInt(26);
        if (rs.wasNull()) {
            return Optional.empty();
        }
        return Optional.of(new NsfwVerdict(flagged != 0, rs.getDouble(27)));
    }

    private static Optional<Instant> optionalInstant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    private static OptionalInt optionalInt(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(v);
    }
}
