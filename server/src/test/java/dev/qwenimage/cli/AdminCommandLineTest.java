package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code qwen-image keys ...} and {@code qwen-image usage} without a server: what the options send,
 * where the server and the admin token are looked for, what a bad option or an absent server
 * says, and how the answers of docs/admin.md read as tables. KeysCommandTest runs them against a
 * real server.
 */
class AdminCommandLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The key of docs/admin.md, "A key". */
    private static final String KEY = """
            {"id": "key_01jf3k4z6r8t", "name": "acme-prod", "prefix": "qwen-AbC1", "status": "active", "bootstrap": false,
             "created_at": "2026-12-03T13:00:00Z", "expires_at": null, "revoked_at": null, "previous_secret_valid_until": null,
             "labels": {"team": "growth"},
             "limits": {"max_queued": 10, "submits_per_minute": null, "images_per_day": 500, "max_pixels": null, "allowed_engines": null},
             "effective_limits": {"max_queued": 10, "submits_per_minute": 0, "images_per_day": 500, "max_pixels": 0, "allowed_engines": []}}
            """;

    @TempDir
    Path workDir;

    record Run(int code, String out, String err) {
    }

    private Run run(Map<String, String> env, String... args) {
        CommandLine cli = Main.commandLine(false, env, workDir);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The command object {@code args} selects, its options parsed, not run. */
    private <T> T parsed(Map<String, String> env, Class<T> type, String... args) {
        CommandLine.ParseResult result = Main.commandLine(false, env, workDir).parseArgs(args);
        while (result.hasSubcommand()) {
            result = result.subcommand();
        }
        return type.cast(result.commandSpec().userObject());
    }

    /** {@code node} as the server reads it (numbers as the parser types them). */
    private static JsonNode reread(JsonNode node) throws Exception {
        return JSON.readTree(node.toString());
    }

    private static String closedPortUrl() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return "http://127.0.0.1:" + s.getLocalPort();
        }
    }

    @Test
    void createSendsTheNameExpiryLimitsAndLabelsGivenAndNothingElse() throws Exception {
        KeysCommand.Create create = parsed(Map.of(), KeysCommand.Create.class, "keys", "create", "acme-prod",
                "--expires", "2027-01-01", "--max-queued", "10", "--images-per-day", "500", "--max-size", "1024*1024",
                "--engines", "comfyui, cloud", "--label", "team=growth", "--label", "tier=gold");

        assertThat(reread(create.body())).isEqualTo(JSON.readTree("""
                {"name": "acme-prod", "expires_at": "2027-01-01T00:00:00Z",
                 "limits": {"max_queued": 10, "images_per_day": 500, "max_pixels": 1048576, "allowed_engines": ["comfyui", "cloud"]},
                 "labels": {"team": "growth", "tier": "gold"}}
                """));
        assertThat(reread(parsed(Map.of(), KeysCommand.Create.class, "keys", "create", "bare").body()))
                .isEqualTo(JSON.readTree("{\"name\": \"bare\"}"));
    }

    @Test
    void anExpiryIsADateATimeOrADurationFromNow() {
        Instant in30Days = Instant.parse(parsed(Map.of(), KeysCommand.Create.class, "keys", "create", "k", "--expires", "30d")
                .body().get("expires_at").asText());
        assertThat(Duration.between(Instant.now(), in30Days).toSeconds()).isCloseTo(Duration.ofDays(30).toSeconds(), within(60L));
        assertThat(parsed(Map.of(), KeysCommand.Create.class, "keys", "create", "k", "--expires", "2027-03-04T05:06:07+01:00")
                .body().get("expires_at").asText()).isEqualTo("2027-03-04T04:06:07Z");
    }

    @Test
    void limitsSendsOnlyTheLimitsNamedAndTheWordDefaultAsNull() throws Exception {
        KeysCommand.Limits limits = parsed(Map.of(), KeysCommand.Limits.class, "keys", "limits", "key_01jf3k4z6r8t",
                "--max-queued", "default", "--images-per-day", "20", "--max-size", "default", "--engines", "DEFAULT");

        assertThat(reread(limits.body())).isEqualTo(JSON.readTree("""
                {"limits": {"max_queued": null, "images_per_day": 20, "max_pixels": null, "allowed_engines": null}}
                """));
        assertThat(reread(parsed(Map.of(), KeysCommand.Limits.class, "keys", "limits", "k", "--max-pixels", "0", "--engines", "a,b").body()))
                .isEqualTo(JSON.readTree("{\"limits\": {\"max_pixels\": 0, \"allowed_engines\": [\"a\", \"b\"]}}"));
    }

    @Test
    void rotateSendsTheGraceInSecondsAndUsageItsFiltersAsQueryParameters() {
        assertThat(parsed(Map.of(), KeysCommand.Rotate.class, "keys", "rotate", "k", "--grace", "1h30m").body().toString())
                .isEqualTo("{\"grace_seconds\":5400}");
        assertThat(parsed(Map.of(), KeysCommand.Rotate.class, "keys", "rotate", "k").body().toString()).isEqualTo("{}");

        assertThat(parsed(Map.of(), UsageCommand.class, "usage", "--key", "key_01jf3k4z6r8t", "--from", "2026-12-01",
                "--to", "2026-12-03T10:00:00Z", "--granularity", "HOUR").path())
                .isEqualTo("/admin/v1/usage?key=key_01jf3k4z6r8t&from=2026-12-01&to=2026-12-03T10%3A00%3A00Z&granularity=hour");
        assertThat(parsed(Map.of(), UsageCommand.class, "usage").path()).isEqualTo("/admin/v1/usage");
    }

    @Test
    void aBadOptionExits2InOneLineBeforeAnyServerIsAsked() throws Exception {
        String server = closedPortUrl();
        String[][] bad = {
                {"keys", "create", "k", "--max-queued", "lots"},
                {"keys", "create", "k", "--max-queued", "-1"},
                {"keys", "create", "k", "--expires", "tomorrow"},
                {"keys", "create", "k", "--max-size", "huge"},
                {"keys", "create", "k", "--max-size", "1024*1024", "--max-pixels", "5"},
                {"keys", "create", "k", "--engines", ","},
                {"keys", "create"},
                {"keys", "limits", "k"},
                {"keys", "limits", "k", "--max-queued", "none"},
                {"keys", "rotate", "k", "--grace", "soon"},
                {"keys", "revoke"},
                {"keys"},
                {"usage", "--granularity", "week"},
                {"usage", "--from", "yesterday"},
                {"usage", "--csv", "--json"},
        };
        for (String[] args : bad) {
            String[] withServer = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                    java.util.stream.Stream.of("--server", server, "--admin-token", "t")).toArray(String[]::new);
            if (args.length == 1) {
                withServer = args;
            }
            Run r = run(Map.of(), withServer);
            String what = String.join(" ", args);
            assertThat(r.code()).as(what + ": " + r.err()).isEqualTo(2);
            assertThat(r.err().lines().toList()).as(what).hasSize(1).first().asString().startsWith("qwen-image: ")
                    .doesNotContain("no server answers");
            assertThat(r.out()).as(what).isEmpty();
        }
        assertThat(run(Map.of(), "keys", "create", "k", "--max-queued", "lots").err())
                .contains("--max-queued").contains("'lots' is not a whole number");
        assertThat(run(Map.of(), "keys", "limits", "key_1").err())
                .contains("name at least one limit to change, e.g. --max-queued 10; keys show key_1 prints the current ones");
    }

    @Test
    void withoutAnAdminTokenTheMessageSaysWhereItLooked() throws Exception {
        Run r = run(Map.of(), "keys", "list");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("qwen-image: no admin token: pass --admin-token, set QWEN_IMAGE_ADMIN_TOKEN")
                .contains("looked in " + workDir.resolve("data/admin-token").toAbsolutePath().normalize() + " (the default data directory)");

        Path elsewhere = Files.createDirectories(workDir.resolve("srv/data"));
        assertThat(run(Map.of("QWEN_IMAGE_DATA_DIR", elsewhere.toString()), "usage").err())
                .contains("looked in " + elsewhere.resolve("admin-token") + " (QWEN_IMAGE_DATA_DIR)");
        assertThat(run(Map.of(), "keys", "show", "k", "--data-dir", "srv/data").err())
                .contains("looked in " + elsewhere.resolve("admin-token") + " (--data-dir)");
    }

    @Test
    void theTokenComesFromTheOptionElseTheVariableElseTheDataDirectory() throws Exception {
        Files.createDirectories(workDir.resolve("data"));
        Files.writeString(workDir.resolve("data/admin-token"), "from-file\n");
        Files.createDirectories(workDir.resolve("other"));
        Files.writeString(workDir.resolve("other/admin-token"), "from-other-dir");

        assertThat(parsed(Map.of(), KeysCommand.ListKeys.class, "keys", "list").admin.token())
                .isEqualTo(new AdminClient.Found("from-file", "data/admin-token"));
        assertThat(parsed(Map.of("QWEN_IMAGE_DATA_DIR", "other"), KeysCommand.ListKeys.class, "keys", "list").admin.token())
                .isEqualTo(new AdminClient.Found("from-other-dir", "other/admin-token"));
        assertThat(parsed(Map.of("QWEN_IMAGE_ADMIN_TOKEN", "from-env"), KeysCommand.ListKeys.class, "keys", "list").admin.token())
                .isEqualTo(new AdminClient.Found("from-env", "QWEN_IMAGE_ADMIN_TOKEN"));
        assertThat(parsed(Map.of("QWEN_IMAGE_ADMIN_TOKEN", "from-env"), KeysCommand.ListKeys.class, "keys", "list",
                "--admin-token", "from-option").admin.token()).isEqualTo(new AdminClient.Found("from-option", "--admin-token"));
    }

    @Test
    void theServerIsTheOptionElseQwenImageServerElseTheLocalPort() {
        assertThat(parsed(Map.of(), UsageCommand.class, "usage").admin.serverUrl().value()).isEqualTo("http://localhost:8080");
        assertThat(parsed(Map.of("QWEN_IMAGE_PORT", "9000"), UsageCommand.class, "usage").admin.serverUrl())
                .isEqualTo(new AdminClient.Found("http://localhost:9000", "QWEN_IMAGE_PORT"));
        assertThat(parsed(Map.of("QWEN_IMAGE_PORT", "9000", "QWEN_IMAGE_SERVER", "https://img.example.com/"), UsageCommand.class,
                "usage").admin.serverUrl()).isEqualTo(new AdminClient.Found("https://img.example.com/", "QWEN_IMAGE_SERVER"));
        assertThat(parsed(Map.of("QWEN_IMAGE_SERVER", "https://img.example.com"), UsageCommand.class, "usage",
                "--server", "http://10.1.2.3:8080").admin.serverUrl().value()).isEqualTo("http://10.1.2.3:8080");

        Run notAUrl = run(Map.of("QWEN_IMAGE_SERVER", "localhost:8080"), "keys", "list", "--admin-token", "t");
        assertThat(notAUrl.code()).isEqualTo(2);
        assertThat(notAUrl.err()).contains("QWEN_IMAGE_SERVER must be the server's base URL, e.g. http://localhost:8080");
        assertThat(run(Map.of("QWEN_IMAGE_PORT", "0"), "keys", "list", "--admin-token", "t").err())
                .contains("QWEN_IMAGE_PORT=0").contains("pass --server");
    }

    @Test
    void aServerThatDoesNotAnswerExits1NamingTheUrlTriedAndWhereItCameFrom() throws Exception {
        String url = closedPortUrl();
        Run r = run(Map.of("QWEN_IMAGE_SERVER", url), "keys", "list", "--admin-token", "t");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("qwen-image: no server answers at " + url + " (connection refused; the URL comes from "
                + "QWEN_IMAGE_SERVER): start one with ./qwen-image, or pass --server or set QWEN_IMAGE_SERVER to the server's address\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void theKeyListIsATableWithTheLimitsSetOnEachKey() throws Exception {
        JsonNode list = JSON.readTree("{\"keys\": [" + """
                {"id": "key_0boot", "name": "QWEN_IMAGE_API_KEYS #1", "prefix": "test-key", "status": "active", "bootstrap": true,
                 "created_at": "2026-12-01T08:00:00Z", "expires_at": null,
                 "limits": {"max_queued": null, "submits_per_minute": null, "images_per_day": null, "max_pixels": null, "allowed_engines": null}},
                """ + KEY + ", " + """
                {"id": "key_01jf3k9q2w4e", "name": "trial", "prefix": "qwen-Zz9x", "status": "revoked", "bootstrap": false,
                 "created_at": "2026-12-03T14:30:10Z", "expires_at": "2027-01-01T00:00:00Z",
                 "limits": {"max_queued": 0, "submits_per_minute": 30, "images_per_day": null, "max_pixels": 1048576,
                            "allowed_engines": ["comfyui", "cloud"]}}
                ]}""");

        assertThat(KeyText.table(list)).isEqualTo("""
                ID                NAME                    PREFIX     STATUS              LIMITS                                                        CREATED           EXPIRES
                key_0boot         QWEN_IMAGE_API_KEYS #1  test-key   active (bootstrap)  defaults                                                      2026-12-01 08:00  never
                key_01jf3k4z6r8t  acme-prod               qwen-AbC1  active              queue 10, 500/day                                             2026-12-03 13:00  never
                key_01jf3k9q2w4e  trial                   qwen-Zz9x  revoked             queue unlimited, 30/min, 1024*1024 px, engines comfyui,cloud  2026-12-03 14:30  2027-01-01 00:00
                Times in UTC. Limits set on each key; the others are the server's defaults (qwen-image keys show ID).
                """);
        assertThat(KeyText.table(JSON.readTree("{\"keys\": []}"))).isEqualTo("No keys.\n");
    }

    @Test
    void oneKeyShowsEachLimitAsSetAndAsInEffect() throws Exception {
        assertThat(KeyText.details(JSON.readTree(KEY))).isEqualTo("""
                id          key_01jf3k4z6r8t
                name        acme-prod
                prefix      qwen-AbC1
                status      active
                created     2026-12-03 13:00:00 UTC
                expires     never
                labels      team=growth

                LIMIT               SET ON THE KEY  IN EFFECT
                max queued          10              10
                submits per minute  default         no limit
                images per day      500             500
                max pixels          default         no limit
                engines             default         every engine
                """);
    }

    @Test
    void aMaxPixelsOfASquareIsAlsoShownAsItsSize() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode key = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(KEY);
        ((com.fasterxml.jackson.databind.node.ObjectNode) key.get("limits")).put("max_pixels", 1048576);
        ((com.fasterxml.jackson.databind.node.ObjectNode) key.get("effective_limits")).put("max_pixels", 1048576);
        assertThat(KeyText.details(key)).contains("max pixels          1048576 (1024*1024)  1048576 (1024*1024)\n");
        ((com.fasterxml.jackson.databind.node.ObjectNode) key.get("limits")).put("max_pixels", 1000000);
        assertThat(KeyText.details(key)).contains("max pixels          1000000 (1000*1000)").doesNotContain("1000000 (1000*1000)  1000000");
        ((com.fasterxml.jackson.databind.node.ObjectNode) key.get("limits")).put("max_pixels", 2000000);
        assertThat(KeyText.details(key)).containsPattern("max pixels +2000000 +1048576 \\(1024\\*1024\\)");
    }

    @Test
    void aNewSecretIsSetApartAndMarkedAsShownOnce() throws Exception {
        JsonNode created = ((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(KEY)).put("secret", "qwen-AbC1secretsecret");

        assertThat(KeyText.secret("Created", created)).isEqualTo("""
                Created key key_01jf3k4z6r8t (acme-prod).

                Secret, shown this once (the server keeps only its SHA-256): store it now.

                    qwen-AbC1secretsecret

                Clients send it as "Authorization: Bearer <secret>". Limits: queue 10, 500/day; expires: never.
                """);
    }

    @Test
    void usageIsATableWithALineOfTotals() throws Exception {
        JsonNode usage = JSON.readTree("""
                {"granularity": "day", "from": "2026-12-01T00:00:00Z", "to": "2026-12-04T00:00:00Z",
                 "rows": [
                   {"key": "key_01jf3k4z6r8t", "name": "acme-prod", "period": "2026-12-03T00:00:00Z",
                    "submitted": 12, "succeeded": 10, "failed": 1, "cancelled": 1, "images": 10,
                    "megapixels": 10.49, "engine_seconds": 151.2, "nsfw_flagged": 0},
                   {"key": "key_0boot", "name": "QWEN_IMAGE_API_KEYS #1", "period": "2026-12-03T00:00:00Z",
                    "submitted": 3, "succeeded": 3, "failed": 0, "cancelled": 0, "images": 3,
                    "megapixels": 3.15, "engine_seconds": 40.05, "nsfw_flagged": 1}
                 ]}
                """);

        assertThat(UsageText.table(usage)).isEqualTo("""
                Usage per day from 2026-12-01 00:00 up to 2026-12-04 00:00 UTC

                PERIOD      KEY               NAME                    SUBMITTED  SUCCEEDED  FAILED  CANCELLED  IMAGES  MEGAPIXELS  ENGINE_SECONDS  NSFW
                2026-12-03  key_01jf3k4z6r8t  acme-prod                      12         10       1          1      10       10.49           151.2     0
                2026-12-03  key_0boot         QWEN_IMAGE_API_KEYS #1          3          3       0          0       3        3.15            40.1     1
                TOTAL                                                        15         13       1          1      13       13.64           191.3     1
                """);
        assertThat(UsageText.table(JSON.readTree("""
                {"granularity": "hour", "from": "2026-12-03T00:00:00Z", "to": "2026-12-03T13:00:00Z", "rows": []}
                """))).isEqualTo("Usage per hour from 2026-12-03 00:00 up to 2026-12-03 13:00 UTC: no activity.\n");
    }

    @Test
    void theTopLevelHelpListsTheClientCommands() {
        String help = run(Map.of(), "--help").out();
        assertThat(help).contains("keys ").contains("usage ");
        String keysHelp = run(Map.of(), "keys", "--help").out();
        assertThat(keysHelp).contains("create").contains("list").contains("show").contains("revoke").contains("rotate").contains("limits");
        for (String sub : new String[] {"create", "list", "show", "revoke", "rotate", "limits"}) {
            Run r = run(Map.of(), "keys", sub, "--help");
            assertThat(r.out()).as(sub).contains("--server").contains("--admin-token").contains("--data-dir").contains("--json");
            assertThat(r.out().lines()).as(sub).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(Main.WIDTH));
        }
    }
}
