package dev.qwenimage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code qwen-image keys ...} and {@code qwen-image usage} against a real server on a random port,
 * run as the jar runs them ({@link Main#commandLine}) with their output captured.
 */
class KeysCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CREATED = Pattern.compile("(Created|Rotated) key (\\S+) \\((.*)\\)\\.");
    private static final Pattern SECRET = Pattern.compile("(?m)^ {4}(\\S+)$");
    private static final String SUBMIT = "{\"prompt\": \"a lighthouse at dusk\", \"size\": \"256*256\"}";

    @TempDir
    Path workDir;

    record Run(int code, String out, String err) {
        Run ok() {
            assertThat(code).as("exit code; err: " + err).isZero();
            assertThat(err).isEmpty();
            return this;
        }

        String id() {
            Matcher m = CREATED.matcher(out);
            assertThat(m.find()).as("a 'Created key' line in %s", out).isTrue();
            return m.group(2);
        }

        String secret() {
            Matcher m = SECRET.matcher(out);
            assertThat(m.find()).as("the secret on a line of its own in %s", out).isTrue();
            return m.group(1);
        }

        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (java.io.IOException e) {
                throw new AssertionError("not JSON: " + out, e);
            }
        }
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

    /** The server's data directory is {@code workDir/data}: where the commands look for the admin token by default. */
    private TestServer start() {
        return TestServer.start(workDir.resolve("data"), Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "10ms"));
    }

    /** A command run next to the server, as a user would: only the port set, the admin token from ./data/admin-token. */
    private Run local(TestServer server, String... args) {
        String port = Integer.toString(java.net.URI.create(server.api().baseUrl()).getPort());
        return run(Map.of("QWEN_IMAGE_PORT", port), args);
    }

    private static <T> T eventually(Supplier<T> value, java.util.function.Predicate<T> done, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        T v = value.get();
        while (!done.test(v) && System.nanoTime() < deadline) {
            Api.sleep(20);
            v = value.get();
        }
        assertThat(done.test(v)).as(what + "; last: " + v).isTrue();
        return v;
    }

    @Test
    void aKeyIsCreatedListedUsedLimitedRotatedRevokedAndItsUsageShown() throws Exception {
        try (TestServer server = start()) {
            Api api = server.api();

            Run created = local(server, "keys", "create", "acme-prod", "--max-queued", "5", "--label", "team=growth").ok();
            String id = created.id();
            String secret = created.secret();
            assertThat(created.out()).contains("Secret, shown this once").contains("Limits: queue 5; expires: never.");

            Run list = local(server, "keys", "list").ok();
            String row = list.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow(
                    () -> new AssertionError("no row for " + id + " in\n" + list.out()));
            JsonNode key = local(server, "keys", "show", id, "--json").ok().json();
            assertThat(secret).startsWith(key.get("prefix").asText());
            assertThat(row.split(" {2,}")).startsWith(id, "acme-prod", key.get("prefix").asText(), "active", "queue 5");
            assertThat(list.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("NAME", "PREFIX", "STATUS", "LIMITS");
            assertThat(list.out()).contains("active (bootstrap)");
            assertThat(list.out()).doesNotContain(secret);

            String task = api.withKey(secret).submitOk(SUBMIT);
            api.withKey(secret).awaitFinished(task, Duration.ofSeconds(30));
            assertThat(api.withKey(secret).result(task).json().path("task").path("status").asText()).isEqualTo("TASK_STATUS_SUCCEED");

            Run limited = local(server, "keys", "limits", id, "--images-per-day", "1", "--max-queued", "default").ok();
            assertThat(limited.out()).contains("Changed the limits of key " + id + " (acme-prod).")
                    .containsPattern("images per day +1 +1").containsPattern("max queued +default");
            JsonNode shown = local(server, "keys", "show", id, "--json").ok().json();
            assertThat(shown.path("limits").path("images_per_day").asLong()).isEqualTo(1);
            assertThat(shown.path("limits").path("max_queued").isNull()).isTrue();
            Api.Response refused = eventually(() -> api.withKey(secret).submit(SUBMIT), r -> r.status() == 429,
                    "the second image of the day is over the new quota of 1");
            assertThat(refused.reason()).isEqualTo("QUOTA_EXCEEDED");
            assertThat(local(server, "keys", "limits", id, "--images-per-day", "default").ok().out())
                    .containsPattern("images per day +default");

            Run rotated = local(server, "keys", "rotate", id, "--grace", "1h").ok();
            String newSecret = rotated.secret();
            assertThat(rotated.id()).isEqualTo(id);
            assertThat(newSecret).isNotEqualTo(secret);
            assertThat(rotated.out()).contains("The old secret keeps working until ");
            assertThat(api.withKey(secret).result(task).status()).as("the old secret, within its grace").isEqualTo(200);
            assertThat(api.withKey(newSecret).result(task).status()).as("the key's task, with its new secret").isEqualTo(200);

            Run revoked = local(server, "keys", "revoke", id).ok();
            assertThat(revoked.out()).startsWith("Revoked key " + id + " (acme-prod) at ").endsWith(": its secret no longer works.\n");
            Api.Response after = eventually(() -> api.withKey(newSecret).result(task), r -> r.status() == 401,
                    "the revoked key is refused");
            assertThat(after.reason()).isEqualTo("INVALID_API_KEY");
            assertThat(local(server, "keys", "list").ok().out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow())
                    .contains("revoked");

            Run usage = local(server, "usage").ok();
            List<String> lines = usage.out().lines().toList();
            assertThat(lines.get(0)).startsWith("Usage per day from ").endsWith(" UTC");
            String today = LocalDate.now(ZoneOffset.UTC).toString();
            String usageRow = lines.stream().filter(l -> l.contains(id)).findFirst().orElseThrow(
                    () -> new AssertionError("no usage row for " + id + " in\n" + usage.out()));
            // PERIOD KEY NAME SUBMITTED SUCCEEDED FAILED CANCELLED IMAGES MEGAPIXELS ENGINE_SECONDS NSFW
            String[] cells = usageRow.split(" {2,}");
            assertThat(cells).hasSize(11);
            assertThat(List.of(cells).subList(0, 8)).containsExactly(today, id, "acme-prod", "1", "1", "0", "0", "1");
            assertThat(cells[8]).isEqualTo("0.07");
            assertThat(lines.get(lines.size() - 1)).startsWith("TOTAL");

            Run csv = local(server, "usage", "--key", id, "--csv").ok();
            assertThat(csv.out().lines().toList()).hasSize(2).first().asString().startsWith("key,name,period,submitted");
            assertThat(csv.out().lines().toList().get(1)).startsWith(id + ",acme-prod,");
            JsonNode usageJson = local(server, "usage", "--key", id, "--json").ok().json();
            assertThat(usageJson.path("rows")).hasSize(1);
            assertThat(usageJson.path("rows").get(0).path("submitted").asLong()).isEqualTo(1);
        }
    }

    @Test
    void theAdminTokenIsFoundInTheDataDirectoryWithoutAnyOption() throws Exception {
        try (TestServer server = start()) {
            Path tokenFile = workDir.resolve("data").resolve("admin-token");
            assertThat(tokenFile).exists();

            Run list = local(server, "keys", "list").ok();
            assertThat(list.out()).startsWith("ID ");

            Run elsewhere = run(Map.of("QWEN_IMAGE_SERVER", server.api().baseUrl(), "QWEN_IMAGE_DATA_DIR",
                    workDir.resolve("data").toString()), "keys", "list", "--json");
            assertThat(elsewhere.ok().json().path("keys").isArray()).isTrue();

            Run withOption = run(Map.of(), "keys", "list", "--server", server.api().baseUrl(), "--admin-token",
                    Files.readString(tokenFile).strip());
            assertThat(withOption.ok().out()).isEqualTo(list.out());
        }
    }

    @Test
    void aRefusalPrintsTheServersMessageInOneLineAndExits1() {
        try (TestServer server = start()) {
            Run unknown = local(server, "keys", "show", "key_nosuchkey");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err().lines().toList()).hasSize(1).first().asString().startsWith("qwen-image: ")
                    .endsWith("(404 KEY_NOT_FOUND)");
            assertThat(unknown.out()).isEmpty();

            Run wrongToken = run(Map.of(), "keys", "list", "--server", server.api().baseUrl(), "--admin-token", "not-the-token");
            assertThat(wrongToken.code()).isEqualTo(1);
            assertThat(wrongToken.err()).startsWith("qwen-image: ")
                    .endsWith("(401 INVALID_ADMIN_TOKEN; the admin token came from --admin-token)\n");

            Run apiKey = run(Map.of("QWEN_IMAGE_ADMIN_TOKEN", TestServer.KEY), "keys", "list", "--server", server.api().baseUrl());
            assertThat(apiKey.code()).isEqualTo(1);
            assertThat(apiKey.err()).contains("403 ADMIN_TOKEN_REQUIRED; the token from QWEN_IMAGE_ADMIN_TOKEN is not the admin token");

            String bootstrap = local(server, "keys", "list", "--json").ok().json().path("keys").get(0).path("id").asText();
            Run notEditable = local(server, "keys", "revoke", bootstrap);
            assertThat(notEditable.code()).isEqualTo(1);
            assertThat(notEditable.err().lines().toList()).hasSize(1).first().asString().endsWith("(409 KEY_NOT_EDITABLE)");

            Run tooLongGrace = local(server, "keys", "rotate", local(server, "keys", "create", "k").ok().id(), "--grace", "31d");
            assertThat(tooLongGrace.code()).isEqualTo(1);
            assertThat(tooLongGrace.err()).contains("grace_seconds").contains("(400 INVALID_FIELD)");
        }
    }
}
