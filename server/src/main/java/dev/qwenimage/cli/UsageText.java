package dev.qwenimage.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** {@code GET /admin/v1/usage} (docs/admin.md, "Usage") as a table with a line of totals. */
final class UsageText {
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);

    private UsageText() {
    }

    static String table(JsonNode answer) {
        boolean hourly = answer.path("granularity").asText("day").equals("hour");
        String head = "Usage per " + (hourly ? "hour" : "day") + " from " + moment(answer.path("from")) + " up to "
                + moment(answer.path("to")) + " UTC";
        JsonNode rows = answer.path("rows");
        if (rows.isEmpty()) {
            return head + ": no activity.\n";
        }
        TextTable table = new TextTable("PERIOD", "KEY", "NAME", "SUBMITTED>", "SUCCEEDED>", "FAILED>", "CANCELLED>",
                "IMAGES>", "MEGAPIXELS>", "ENGINE_SECONDS>", "NSFW>");
        long submitted = 0;
        long succeeded = 0;
        long failed = 0;
        long cancelled = 0;
        long images = 0;
        long nsfw = 0;
        BigDecimal megapixels = BigDecimal.ZERO;
        BigDecimal engineSeconds = BigDecimal.ZERO;
        for (JsonNode row : rows) {
            table.row(period(row.path("period"), hourly), KeyText.text(row, "key"), KeyText.text(row, "name"),
                    count(row, "submitted"), count(row, "succeeded"), count(row, "failed"), count(row, "cancelled"),
                    count(row, "images"), decimal(row.path("megapixels").decimalValue(), 2),
                    decimal(row.path("engine_seconds").decimalValue(), 1), count(row, "nsfw_flagged"));
            submitted += row.path("submitted").asLong();
            succeeded += row.path("succeeded").asLong();
            failed += row.path("failed").asLong();
            cancelled += row.path("cancelled").asLong();
            images += row.path("images").asLong();
            nsfw += row.path("nsfw_flagged").asLong();
            megapixels = megapixels.add(row.path("megapixels").decimalValue());
            engineSeconds = engineSeconds.add(row.path("engine_seconds").decimalValue());
        }
        table.row("TOTAL", "", "", Long.toString(submitted), Long.toString(succeeded), Long.toString(failed),
                Long.toString(cancelled), Long.toString(images), decimal(megapixels, 2), decimal(engineSeconds, 1),
                Long.toString(nsfw));
        return head + "\n\n" + table.render();
    }

    private static String count(JsonNode row, String field) {
        return Long.toString(row.path(field).asLong());
    }

    private static String decimal(BigDecimal value, int places) {
        return String.format(Locale.ROOT, "%." + places + "f", value);
    }

    private static String period(JsonNode v, boolean hourly) {
        return format(v, hourly ? MINUTE : DAY);
    }

    private static String moment(JsonNode v) {
        return format(v, MINUTE);
    }

    private static String format(JsonNode v, DateTimeFormatter f) {
        try {
            return f.format(Instant.parse(v.asText()));
        } catch (DateTimeParseException e) {
            return v.asText();
        }
    }
}
