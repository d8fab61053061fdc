package dev.qwenimage.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.cli.AdminValues.Limit;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qwen-image keys ...}: the managed API keys of a running server, through its admin API
 * (docs/admin.md). Exit codes: 0 done, 1 the server refused or cannot be reached, 2 a bad option or
 * no admin token.
 */
@Command(name = "keys", sortOptions = false,
        description = {"Manage the API keys of a running server: create, list, show, revoke, rotate, and change their "
                + "limits. Uses the server's admin API with the admin token."},
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Show.class, KeysCommand.Revoke.class,
                KeysCommand.Rotate.class, KeysCommand.Limits.class},
        footer = {"%nEvery command takes --server, --admin-token, --data-dir and --json: qwen-image keys COMMAND --help."})
final class KeysCommand implements Runnable {
    static final String EXIT_CODES_HEADING = "%nExit codes:%n";

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "name what to do: keys create, list, show, revoke, rotate or limits");
    }

    /** The limits that {@code keys create} can set, as the JSON {@code limits} object (only those given). */
    static final class CreateLimits {
        @Option(names = "--max-queued", paramLabel = "N", order = 10, converter = AdminValues.CountConverter.class,
                description = "Tasks of this key waiting at once (0: no limit).")
        Long maxQueued;

        @Option(names = "--submits-per-minute", paramLabel = "N", order = 11, converter = AdminValues.CountConverter.class,
                description = "Submits per minute (0: no limit).")
        Long submitsPerMinute;

        @Option(names = "--images-per-day", paramLabel = "N", order = 12, converter = AdminValues.CountConverter.class,
                description = "Tasks accepted per UTC day (0: no limit).")
        Long imagesPerDay;

        @Option(names = "--max-pixels", paramLabel = "N", order = 13, converter = AdminValues.CountConverter.class,
                description = "Largest width x height a submit may ask for, e.g. 1048576 (0: no limit).")
        Long maxPixels;

        @Option(names = "--max-size", paramLabel = "W*H", order = 14, converter = AdminValues.SizeConverter.class,
                description = "The same as a size, e.g. 1024*1024.")
        Long maxSize;

        @Option(names = "--engines", paramLabel = "A,B", order = 15,
                description = "The engines this key's tasks may run on, e.g. comfyui,cloud (default: every engine).")
        String engines;

        ObjectNode json(CommandSpec spec) {
            ObjectNode limits = AdminClient.JSON.createObjectNode();
            if (maxQueued != null) {
                limits.put("max_queued", maxQueued);
            }
            if (submitsPerMinute != null) {
                limits.put("submits_per_minute", submitsPerMinute);
            }
            if (imagesPerDay != null) {
                limits.put("images_per_day", imagesPerDay);
            }
            Long pixels = onePixelLimit(spec, maxPixels, maxSize);
            if (pixels != null) {
                limits.put("max_pixels", pixels);
            }
            if (engines != null) {
                limits.set("allowed_engines", engineArray(spec, engines));
            }
            return limits;
        }
    }

    /** The one of --max-pixels and --max-size given, or null; both is a usage error. */
    static <T> T onePixelLimit(CommandSpec spec, T maxPixels, T maxSize) {
        if (maxPixels != null && maxSize != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--max-pixels and --max-size both set the largest size a submit may ask for: give one of them");
        }
        return maxPixels != null ? maxPixels : maxSize;
    }

    static JsonNode engineArray(CommandSpec spec, String names) {
        var array = AdminClient.JSON.createArrayNode();
        java.util.Arrays.stream(names.split(",")).map(String::strip).filter(n -> !n.isEmpty()).forEach(array::add);
        if (array.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--engines needs at least one engine name, e.g. --engines comfyui" + (spec.name().equals("limits")
                            ? ", or 'default' for every engine" : " (leave it out for every engine)"));
        }
        return array;
    }

    @Command(name = "create", sortOptions = false, description = "Create a key and print its secret, shown this once.",
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminOptions admin;

        @Parameters(index = "0", paramLabel = "NAME", description = "A name people recognise, e.g. acme-prod.")
        String name;

        @Option(names = "--expires", paramLabel = "WHEN", order = 1, converter = AdminValues.ExpiryConverter.class,
                description = "When the key stops working: a date (2027-01-01, at 00:00 UTC), a time (2027-01-01T12:00:00Z) "
                        + "or a duration from now (30d, 12h). Default: never.")
        Instant expires;

        @Option(names = "--label", paramLabel = "KEY=VALUE", order = 2,
                description = "A free-form label, e.g. --label team=growth (repeatable).")
        Map<String, String> labels = new LinkedHashMap<>();

        @Mixin
        CreateLimits limits;

        /** The body of {@code POST /admin/v1/keys}. */
        ObjectNode body() {
            ObjectNode body = AdminClient.JSON.createObjectNode();
            body.put("name", name);
            if (expires != null) {
                body.put("expires_at", expires.toString());
            }
            ObjectNode l = limits.json(spec);
            if (!l.isEmpty()) {
                body.set("limits", l);
            }
            if (!labels.isEmpty()) {
                ObjectNode labelNode = body.putObject("labels");
                labels.forEach(labelNode::put);
            }
            return body;
        }

        @Override
        public Integer call() {
            ObjectNode body = body();
            JsonNode key = admin.client().post("/admin/v1/keys", body);
            if (admin.json) {
                admin.printJson(key);
            } else {
                admin.out().print(KeyText.secret("Created", key));
                admin.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "list", description = "List the keys: bootstrap keys first, then by creation.",
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class ListKeys implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() {
            JsonNode answer = admin.client().get("/admin/v1/keys");
            if (admin.json) {
                admin.printJson(answer);
            } else {
                admin.out().print(KeyText.table(answer));
                admin.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Show one key: its status, labels, and each limit as set and as in effect.",
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class Show implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Parameters(index = "0", paramLabel = "ID", description = "The key's id, e.g. key_01jf3k4z6r8t (keys list shows them).")
        String id;

        @Override
        public Integer call() {
            JsonNode key = admin.client().get(AdminClient.keyPath(id));
            if (admin.json) {
                admin.printJson(key);
            } else {
                admin.out().print(KeyText.details(key));
                admin.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "revoke", description = "Revoke a key: its secret stops working on every node within a second. "
            + "Revoking again changes nothing.",
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done (also when it was revoked already)",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class Revoke implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Parameters(index = "0", paramLabel = "ID", description = "The key's id.")
        String id;

        @Override
        public Integer call() {
            JsonNode key = admin.client().delete(AdminClient.keyPath(id));
            if (admin.json) {
                admin.printJson(key);
            } else {
                admin.out().print("Revoked key " + KeyText.text(key, "id") + " (" + KeyText.text(key, "name") + ")"
                        + (KeyText.present(key.path("revoked_at")) ? " at " + KeyText.time(key.path("revoked_at")) : "")
                        + ": its secret no longer works.\n");
                admin.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "rotate", sortOptions = false, description = "Give a key a new secret, printed this once. Its id, tasks, "
            + "webhook secret and limits stay.",
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class Rotate implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Parameters(index = "0", paramLabel = "ID", description = "The key's id.")
        String id;

        @Option(names = "--grace", paramLabel = "DURATION", order = 1, converter = AdminValues.GraceConverter.class,
                description = "How long the old secret keeps working, e.g. 1h, 30m, 7d; at most 30 days (default: 0, it stops now).")
        Long graceSeconds;

        ObjectNode body() {
            ObjectNode body = AdminClient.JSON.createObjectNode();
            if (graceSeconds != null) {
                body.put("grace_seconds", graceSeconds);
            }
            return body;
        }

        @Override
        public Integer call() {
            JsonNode key = admin.client().post(AdminClient.keyPath(id, "rotate"), body());
            if (admin.json) {
                admin.printJson(key);
            } else {
                admin.out().print(KeyText.secret("Rotated", key));
                admin.out().print(KeyText.present(key.path("previous_secret_valid_until"))
                        ? "The old secret keeps working until " + KeyText.time(key.path("previous_secret_valid_until")) + ".\n"
                        : "The old secret no longer works.\n");
                admin.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "limits", sortOptions = false, description = {"Change a key's limits; the others stay. The word "
            + "'default' sends a limit back to the server's global setting, e.g. keys limits key_01jf3k4z6r8t --max-queued 10 "
            + "--images-per-day default."},
            exitCodeListHeading = EXIT_CODES_HEADING, exitCodeList = {"0:done",
                    "1:the server refused (its message is printed) or cannot be reached", "2:a bad option, or no admin token found"})
    static final class Limits implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminOptions admin;

        @Parameters(index = "0", paramLabel = "ID", description = "The key's id.")
        String id;

        @Option(names = "--max-queued", paramLabel = "N|default", order = 10, converter = AdminValues.LimitConverter.class,
                description = "Tasks of this key waiting at once (0: no limit).")
        Limit maxQueued;

        @Option(names = "--submits-per-minute", paramLabel = "N|default", order = 11, converter = AdminValues.LimitConverter.class,
                description = "Submits per minute (0: no limit).")
        Limit submitsPerMinute;

        @Option(names = "--images-per-day", paramLabel = "N|default", order = 12, converter = AdminValues.LimitConverter.class,
                description = "Tasks accepted per UTC day (0: no limit).")
        Limit imagesPerDay;

        @Option(names = "--max-pixels", paramLabel = "N|default", order = 13, converter = AdminValues.LimitConverter.class,
                description = "Largest width x height a submit may ask for, e.g. 1048576 (0: no limit).")
        Limit maxPixels;

        @Option(names = "--max-size", paramLabel = "W*H|default", order = 14, converter = AdminValues.SizeLimitConverter.class,
                description = "The same as a size, e.g. 1024*1024.")
        Limit maxSize;

        @Option(names = "--engines", paramLabel = "A,B|default", order = 15,
                description = "The engines this key's tasks may run on, e.g. comfyui,cloud; default: every engine.")
        String engines;

        /** The body of {@code PATCH /admin/v1/keys/{id}}: {@code limits} with the fields given, null for {@code default}. */
        ObjectNode body() {
            ObjectNode limits = AdminClient.JSON.createObjectNode();
            put(limits, "max_queued", maxQueued);
            put(limits, "submits_per_minute", submitsPerMinute);
            put(limits, "images_per_day", imagesPerDay);
            put(limits, "max_pixels", onePixelLimit(spec, maxPixels, maxSize));
            if (engines != null) {
                if (AdminValues.isDefault(engines)) {
                    limits.putNull("allowed_engines");
                } else {
                    limits.set("allowed_engines", engineArray(spec, engines));
                }
            }
            if (limits.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "name at least one limit to change, e.g. "
                        + "--max-queued 10; keys show " + id + " prints the current ones");
            }
            ObjectNode body = AdminClient.JSON.createObjectNode();
            body.set("limits", limits);
            return body;
        }

        private static void put(ObjectNode limits, String field, Limit limit) {
            if (limit == null) {
                return;
            }
            if (limit.value() == null) {
                limits.putNull(field);
            } else {
                limits.put(field, limit.value());
            }
        }

        @Override
        public Integer call() {
            ObjectNode body = body();
            JsonNode key = admin.client().patch(AdminClient.keyPath(id), body);
            if (admin.json) {
                admin.printJson(key);
            } else {
                admin.out().print("Changed the limits of key " + KeyText.text(key, "id") + " (" + KeyText.text(key, "name")
                        + ").\n\n" + KeyText.details(key));
                admin.out().flush();
            }
            return 0;
        }
    }
}
