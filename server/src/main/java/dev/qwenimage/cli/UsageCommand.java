package dev.qwenimage.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.cli.AdminValues.Granularity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qwen-image usage}: what each key used, per day or hour, from a running server's admin API. */
@Command(name = "usage", sortOptions = false,
        description = {"Show what each API key used, per UTC day or hour: tasks submitted, succeeded, failed and cancelled, "
                + "images, megapixels, engine seconds and NSFW-flagged images, with totals."},
        exitCodeListHeading = KeysCommand.EXIT_CODES_HEADING, exitCodeList = {"0:done",
                "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
final class UsageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--key", paramLabel = "ID", order = 1, description = "Only this key (default: every key).")
    String key;

    @Option(names = "--from", paramLabel = "DATE", order = 2, converter = AdminValues.DayOrTimeConverter.class,
            description = "First day, e.g. 2026-12-01, or an RFC 3339 time (default: 30 days ago).")
    String from;

    @Option(names = "--to", paramLabel = "DATE", order = 3, converter = AdminValues.DayOrTimeConverter.class,
            description = "Last day, included, or an RFC 3339 time (default: now).")
    String to;

    @Option(names = "--granularity", paramLabel = "day|hour", order = 4, converter = AdminValues.GranularityConverter.class,
            description = "One row per key per UTC day (default) or hour; at most 366 days, or 31 days by the hour.")
    Granularity granularity;

    @Option(names = "--csv", order = 5, description = "Print the server's CSV instead of a table.")
    boolean csv;

    /** The query path of {@code GET /admin/v1/usage} for these options. */
    String path() {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("key", key);
        query.put("from", from);
        query.put("to", to);
        query.put("granularity", granularity == null ? null : granularity.wireName());
        return AdminClient.withQuery("/admin/v1/usage", query);
    }

    @Override
    public Integer call() {
        if (csv && admin.json) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--csv and --json are two ways to print: choose one");
        }
        AdminClient client = admin.client();
        if (csv) {
            String text = client.getText(path(), "text/csv");
            admin.out().print(text.endsWith("\n") || text.isEmpty() ? text : text + "\n");
            admin.out().flush();
            return 0;
        }
        JsonNode answer = client.get(path());
        if (admin.json) {
            admin.printJson(answer);
        } else {
            admin.out().print(UsageText.table(answer));
            admin.out().flush();
        }
        return 0;
    }
}
