package dev.qwenimage.tenant;

import static dev.qwenimage.support.Errors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.QwenImageServer;
import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.support.Admin;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.MutableClock;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** API keys managed live over the admin API, and the limits that apply to each key, over real HTTP. */
class ApiKeysLiveTest {
    private static final String ADMIN = "an-admin-token-for-tests-0123";
    private static final String TASK = "{\"prompt\": \"a lighthouse at dusk\", \"size\": \"512*512\"}";

    @TempDir
    Path dataDir;

    private QwenImageServer start(Clock clock, List<QwenImageServer.EngineSetup> engines, Map<String, String> settings) {
        Map<String, String> values = new HashMap<>(Map.of("QWEN_IMAGE_PORT", "0", "QWEN_IMAGE_HOST", "127.0.0.1",
                "QWEN_IMAGE_DATA_DIR", dataDir.toString(), "QWEN_IMAGE_API_KEYS", TestServer.KEY,
                "QWEN_IMAGE_ADMIN_TOKEN", ADMIN, "QWEN_IMAGE_NSFW", "off"));
        values.putAll(settings);
        return QwenImageServer.start(ServerConfig.of(values), clock, engines);
    }

    /** A server whose one engine never comes up: every task stays queued. */
    private QwenImageServer stalled(Clock clock, Map<String, String> settings) {
        ScriptedEngine engine = new ScriptedEngine("stalled").probeAnswers(() -> new EngineHealth.Down("loading"));
        return start(clock, List.of(new QwenImageServer.EngineSetup(engine, 1, Duration.ZERO)), settings);
    }

    private static Admin admin(QwenImageServer server) {
        return new Admin(server.localUrl(), ADMIN);
    }

    private static String secret(Api.Response created) {
        return created.json().get("secret").asText();
    }

    private static String id(Api.Response created) {
        return created.json().get("id").asText();
    }

    @Test
    void everyAdminRouteWantsTheAdminTokenAndRefusesApiKeys() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Admin admin = admin(server);
            String managed = secret(admin.create("{\"name\": \"acme\"}"));
            String id = admin.get("/admin/v1/keys").json().get("keys").get(1).get("id").asText();
            List<String[]> routes = List.of(new String[] {"GET", "/admin/v1/keys", null},
                    new String[] {"POST", "/admin/v1/keys", "{\"name\": \"x\"}"},
                    new String[] {"GET", "/admin/v1/keys/" + id, null},
                    new String[] {"PATCH", "/admin/v1/keys/" + id, "{\"name\": \"y\"}"},
                    new String[] {"DELETE", "/admin/v1/keys/" + id, null},
                    new String[] {"POST", "/admin/v1/keys/" + id + "/rotate", "{}"},
                    new String[] {"GET", "/admin/v1/usage", null});
            for (String[] r : routes) {
                assertError(admin.withToken(null).send(r[0], r[1], r[2]), 401, "INVALID_ADMIN_TOKEN");
                assertError(admin.withToken(ADMIN + "x").send(r[0], r[1], r[2]), 401, "INVALID_ADMIN_TOKEN");
                assertError(admin.withToken(TestServer.KEY).send(r[0], r[1], r[2]), 403, "ADMIN_TOKEN_REQUIRED");
                assertError(admin.withToken(managed).send(r[0], r[1], r[2]), 403, "ADMIN_TOKEN_REQUIRED");
            }
            // nothing above changed anything
            assertThat(admin.get("/admin/v1/keys").json().get("keys")).hasSize(2);
            assertThat(admin.get("/admin/v1/keys/" + id).json().get("status").asText()).isEqualTo("active");
            // and the admin token is no API key
            Api.Response asKey = new Api(server.localUrl(), ADMIN).submit(TASK);
            assertError(asKey, 401, "INVALID_API_KEY");
            assertThat(asKey.json().get("message").asText()).contains("admin token");
        }
    }

    @Test
    void aCreatedKeyWorksAtOnceItsSecretIsShownOnceAndARevokedKeyIsRefused() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Admin admin = admin(server);
            Api.Response created = admin.create("{\"name\": \"acme-prod\", \"labels\": {\"team\": \"growth\"}}");
            String secret = secret(created);
            assertThat(secret).startsWith("qwen-").hasSizeGreaterThan(30);
            assertThat(created.json().get("prefix").asText()).isEqualTo(secret.substring(0, 9));
            assertThat(created.json().get("status").asText()).isEqualTo("active");
            assertThat(created.json().get("bootstrap").asBoolean()).isFalse();
            assertThat(created.json().at("/labels/team").asText()).isEqualTo("growth");

            Api acme = new Api(server.localUrl(), secret);
            String task = acme.submitOk(TASK);
            assertThat(acme.result(task).status()).isEqualTo(200);
            assertThat(acme.withKey(TestServer.KEY).result(task).status()).isEqualTo(404); // another key's task

            JsonNode listed = admin.get("/admin/v1/keys").json().get("keys");
            assertThat(listed).hasSize(2);
            assertThat(listed.get(0).get("bootstrap").asBoolean()).isTrue();
            assertThat(listed.get(1).get("name").asText()).isEqualTo("acme-prod");
            assertThat(listed.toString()).doesNotContain(secret).doesNotContain("secret\"");
            assertThat(admin.get("/admin/v1/keys/" + id(created)).body()).doesNotContain(secret);

            Api.Response revoked = admin.delete("/admin/v1/keys/" + id(created));
            assertThat(revoked.status()).isEqualTo(200);
            assertThat(revoked.json().get("status").asText()).isEqualTo("revoked");
            assertError(acme.submit(TASK), 401, "INVALID_API_KEY");
            assertError(acme.result(task), 401, "INVALID_API_KEY");
            // revoking again changes nothing
            Api.Response again = admin.delete("/admin/v1/keys/" + id(created));
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().get("revoked_at")).isEqualTo(revoked.json().get("revoked_at"));
            // an unknown key and a revoked one look the same to a caller
            Api.Response unknown = acme.withKey("qwen-never-issued-0000000000000000").submit(TASK);
            assertThat(acme.submit(TASK).body()).isEqualTo(unknown.body());
        }
    }

    @Test
    void bootstrapKeysAreListedKeepTheirTasksAndCannotBeEdited() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Admin admin = admin(server);
            String task = new Api(server.localUrl(), TestServer.KEY).submitOk(TASK);
            assertThat(server.store().find(task).orElseThrow().owner()).isEqualTo(ApiKeys.ownerOf(TestServer.KEY));

            JsonNode boot = admin.get("/admin/v1/keys").json().get("keys").get(0);
            assertThat(boot.get("bootstrap").asBoolean()).isTrue();
            assertThat(boot.get("name").asText()).isEqualTo("QWEN_IMAGE_API_KEYS #1");
            assertThat(boot.get("prefix").asText()).isEqualTo(TestServer.KEY.substring(0, 8));
            String id = boot.get("id").asText();
            assertThat(admin.get("/admin/v1/keys/" + id).status()).isEqualTo(200);
            assertError(admin.patch("/admin/v1/keys/" + id, "{\"name\": \"mine\"}"), 409, "KEY_NOT_EDITABLE");
            assertError(admin.delete("/admin/v1/keys/" + id), 409, "KEY_NOT_EDITABLE");
            assertError(admin.post("/admin/v1/keys/" + id + "/rotate", "{}"), 409, "KEY_NOT_EDITABLE");
            assertThat(new Api(server.localUrl(), TestServer.KEY).submit(TASK).status()).isEqualTo(200);
        }
    }

    @Test
    void aRotatedKeyKeepsItsTasksAndWebhookSecretAndItsOldSecretWorksForTheGracePeriodOnly() {
        MutableClock clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        try (QwenImageServer server = stalled(clock, Map.of())) {
            Admin admin = admin(server);
            Api.Response created = admin.create("{\"name\": \"rotating\"}");
            Api old = new Api(server.localUrl(), secret(created));
            String task = old.submitOk(TASK);
            String webhookSecret = old.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(server.localUrl() + "/v3/webhook-secret")).header("Authorization", "Bearer " + secret(created)))
                    .json().get("secret").asText();

            Api.Response rotated = admin.post("/admin/v1/keys/" + id(created) + "/rotate", "{\"grace_seconds\": 60}");
            assertThat(rotated.status()).isEqualTo(200);
            assertThat(rotated.json().get("id").asText()).isEqualTo(id(created));
            assertThat(secret(rotated)).isNotEqualTo(secret(created));
            assertThat(rotated.json().get("previous_secret_valid_until").asText())
                    .isEqualTo(clock.instant().plusSeconds(60).toString());
            Api fresh = old.withKey(secret(rotated));

            // during the grace period both secrets work, and the key's task answers to both
            assertThat(old.result(task).status()).isEqualTo(200);
            assertThat(fresh.result(task).status()).isEqualTo(200);
            assertThat(fresh.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.localUrl() + "/v3/webhook-secret"))
                    .header("Authorization", "Bearer " + secret(rotated))).json().get("secret").asText()).isEqualTo(webhookSecret);

            clock.advance(Duration.ofSeconds(61));
            assertError(old.submit(TASK), 401, "INVALID_API_KEY");
            assertThat(fresh.submit(TASK).status()).isEqualTo(200);
            assertThat(admin.get("/admin/v1/keys/" + id(created)).json().get("previous_secret_valid_until").isNull()).isTrue();

            // without grace the old secret stops at once
            Api.Response again = admin.post("/admin/v1/keys/" + id(created) + "/rotate", "{}");
            assertError(fresh.submit(TASK), 401, "INVALID_API_KEY");
            assertThat(fresh.withKey(secret(again)).result(task).status()).isEqualTo(200);
        }
    }

    @Test
    void anExpiredKeyAnswersApiKeyExpired() {
        MutableClock clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        try (QwenImageServer server = stalled(clock, Map.of())) {
            Admin admin = admin(server);
            Instant at = clock.instant().plus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            Api.Response created = admin.create("{\"name\": \"trial\", \"expires_at\": \"" + at + "\"}");
            assertThat(created.json().get("expires_at").asText()).isEqualTo(at.toString());
            Api trial = new Api(server.localUrl(), secret(created));
            assertThat(trial.submit(TASK).status()).isEqualTo(200);

            clock.advance(Duration.ofHours(2));
            Api.Response expired = trial.submit(TASK);
            assertError(expired, 401, "API_KEY_EXPIRED");
            assertThat(expired.json().get("message").asText()).contains(at.toString());
            assertThat(admin.get("/admin/v1/keys/" + id(created)).json().get("status").asText()).isEqualTo("expired");

            // an expiry moved out brings it back
            String later = clock.instant().plus(Duration.ofDays(1)).toString();
            assertThat(admin.patch("/admin/v1/keys/" + id(created), "{\"expires_at\": \"" + later + "\"}").status()).isEqualTo(200);
            assertThat(trial.submit(TASK).status()).isEqualTo(200);
        }
    }

    @Test
    void theQueueCapHoldsExactlyUnder64ConcurrentSubmits() throws Exception {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            String secret = secret(admin(server).create("{\"name\": \"capped\", \"limits\": {\"max_queued\": 10}}"));
            Api capped = new Api(server.localUrl(), secret);
            List<Integer> statuses = submitAtOnce(capped, 64);
            assertThat(statuses.stream().filter(s -> s == 200).count()).isEqualTo(10);
            assertThat(statuses.stream().filter(s -> s == 429).count()).isEqualTo(54);
            Api.Response refused = capped.submit(TASK);
            assertError(refused, 429, "RATE_LIMITED");
            assertThat(refused.json().get("message").asText()).contains("10 tasks waiting");
        }
    }

    /** {@code n} submits of the same key, all sent at once; their statuses. */
    static List<Integer> submitAtOnce(Api api, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                calls.add(() -> {
                    go.await();
                    return api.submit("{\"prompt\": \"concurrent " + k + "\", \"size\": \"512*512\"}").status();
                });
            }
            List<Future<Integer>> futures = new ArrayList<>();
            for (Callable<Integer> c : calls) {
                futures.add(pool.submit(c));
            }
            go.countDown();
            List<Integer> out = new ArrayList<>();
            for (Future<Integer> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void submitsPerMinuteAreATokenBucketAnsweredWithRateLimitHeaders() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Api limited = new Api(server.localUrl(), secret(admin(server).create(
                    "{\"name\": \"slow\", \"limits\": {\"submits_per_minute\": 3}}")));
            for (int remaining = 2; remaining >= 0; remaining--) {
                Api.Response ok = limited.submit(TASK);
                assertThat(ok.status()).isEqualTo(200);
                assertThat(ok.raw().headers().firstValue("X-RateLimit-Limit")).hasValue("3");
                assertThat(ok.raw().headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(remaining));
                assertThat(Long.parseLong(ok.raw().headers().firstValue("X-RateLimit-Reset").orElseThrow())).isBetween(1L, 60L);
            }
            Api.Response refused = limited.submit(TASK);
            assertError(refused, 429, "RATE_LIMITED");
            assertThat(refused.json().get("message").asText()).contains("3 tasks per minute");
            assertThat(Long.parseLong(refused.raw().headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 20L);
            assertThat(refused.raw().headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
            // a key without a rate limit gets no such headers
            Api.Response free = limited.withKey(TestServer.KEY).submit(TASK);
            assertThat(free.raw().headers().firstValue("X-RateLimit-Limit")).isEmpty();
        }
    }

    @Test
    void imagesPerDayEndAt429QuotaExceededUntilUtcMidnight() {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-03T22:00:00Z"));
        try (QwenImageServer server = stalled(clock, Map.of())) {
            Api daily = new Api(server.localUrl(), secret(admin(server).create(
                    "{\"name\": \"daily\", \"limits\": {\"images_per_day\": 2}}")));
            daily.submitOk(TASK);
            daily.submitOk(TASK);
            Api.Response refused = daily.submit(TASK);
            assertError(refused, 429, "QUOTA_EXCEEDED");
            assertThat(refused.raw().headers().firstValue("Retry-After")).hasValue("7200");
            assertThat(refused.json().get("message").asText()).contains("2 tasks for today").contains("00:00 UTC");

            clock.advance(Duration.ofHours(2));
            assertThat(daily.submit(TASK).status()).isEqualTo(200);
        }
    }

    @Test
    void aKeysLargestSizeAndAllowedEnginesAreEnforced() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Admin admin = admin(server);
            Api small = new Api(server.localUrl(), secret(admin.create("{\"name\": \"small\", \"limits\": {\"max_pixels\": 262144}}")));
            Api.Response big = small.submit("{\"prompt\": \"big\", \"size\": \"1024*1024\"}");
            assertError(big, 400, "INVALID_SIZE");
            assertThat(big.json().get("message").asText()).contains("1048576 pixels").contains("at most 262144").contains("512*512");
            assertThat(small.submit("{\"prompt\": \"fits\", \"size\": \"512*512\"}").status()).isEqualTo(200);

            Api elsewhere = small.withKey(secret(admin.create(
                    "{\"name\": \"gpu-only\", \"limits\": {\"allowed_engines\": [\"comfyui\"]}}")));
            Api.Response refused = elsewhere.submit(TASK);
            assertError(refused, 403, "ENGINE_NOT_ALLOWED");
            assertThat(refused.json().get("message").asText()).contains("comfyui").contains("stalled");
        }
    }

    @Test
    void aKeysTasksRunOnlyOnItsAllowedEngines() {
        ScriptedEngine a = new ScriptedEngine("engine-a");
        ScriptedEngine b = new ScriptedEngine("engine-b");
        try (QwenImageServer server = start(Clock.systemUTC(), List.of(new QwenImageServer.EngineSetup(a, 2, Duration.ZERO),
                new QwenImageServer.EngineSetup(b, 2, Duration.ZERO)), Map.of())) {
            Api onlyB = new Api(server.localUrl(), secret(admin(server).create(
                    "{\"name\": \"b-only\", \"limits\": {\"allowed_engines\": [\"engine-b\"]}}")));
            List<String> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                tasks.add(onlyB.submitOk(TASK));
            }
            for (String t : tasks) {
                assertThat(onlyB.awaitFinished(t, Duration.ofSeconds(20)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
                assertThat(server.store().find(t).orElseThrow().engine()).hasValue("engine-b");
            }
            assertThat(a.calls()).isZero();
            assertThat(b.calls()).isEqualTo(8);
        }
    }

    @Test
    void limitChangesApplyAtOnceAndNullGoesBackToTheGlobalDefault() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of("QWEN_IMAGE_MAX_QUEUED_PER_KEY", "5"))) {
            Admin admin = admin(server);
            Api.Response created = admin.create("{\"name\": \"tuned\"}");
            assertThat(created.json().at("/limits/max_queued").isNull()).isTrue();
            assertThat(created.json().at("/effective_limits/max_queued").asLong()).isEqualTo(5);
            Api tuned = new Api(server.localUrl(), secret(created));
            tuned.submitOk(TASK);

            Api.Response one = admin.patch("/admin/v1/keys/" + id(created), "{\"limits\": {\"max_queued\": 1}}");
            assertThat(one.json().at("/effective_limits/max_queued").asLong()).isEqualTo(1);
            assertError(tuned.submit(TASK), 429, "RATE_LIMITED");

            Api.Response back = admin.patch("/admin/v1/keys/" + id(created), "{\"limits\": {\"max_queued\": null}, \"name\": \"retuned\"}");
            assertThat(back.json().at("/limits/max_queued").isNull()).isTrue();
            assertThat(back.json().at("/effective_limits/max_queued").asLong()).isEqualTo(5);
            assertThat(back.json().get("name").asText()).isEqualTo("retuned");
            assertThat(tuned.submit(TASK).status()).isEqualTo(200);
        }
    }

    @Test
    void badAdminInputGetsTheContractsErrorBodyNamingTheField() {
        try (QwenImageServer server = stalled(Clock.systemUTC(), Map.of())) {
            Admin admin = admin(server);
            assertField(admin.post("/admin/v1/keys", "{}"), "name");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"  \"}"), "name");
            assertField(admin.post("/admin/v1/keys", "{\"name\": 7}"), "name");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"colour\": \"red\"}"), "colour");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"max_queued\": -1}}"), "limits.max_queued");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"max_queued\": 1.5}}"), "limits.max_queued");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"speed\": 1}}"), "limits.speed");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"allowed_engines\": []}}"),
                    "limits.allowed_engines");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"expires_at\": \"2001-01-01T00:00:00Z\"}"), "expires_at");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"expires_at\": \"tomorrow\"}"), "expires_at");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"labels\": {\"Bad Label\": \"x\"}}"), "labels");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"labels\": {\"team\": 3}}"), "labels");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"expires_at\": \"+300000000-01-01T00:00:00Z\"}"), "expires_at");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"allowed_engines\": [null]}}"),
                    "limits.allowed_engines");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"allowed_engines\": [5]}}"),
                    "limits.allowed_engines");
            assertField(admin.post("/admin/v1/keys", "{\"name\": \"a\", \"limits\": {\"max_pixels\": 99999999999999999999999}}"),
                    "limits.max_pixels");
            assertField(admin.get("/admin/v1/usage?from=%2B300000000-01-01T00:00:00Z&to=%2B300000000-01-02T00:00:00Z"), "to");
            assertError(admin.post("/admin/v1/keys", "{\"name\": "), 400, "INVALID_JSON");
            assertThat(admin.get("/admin/v1/keys").json().get("keys")).hasSize(1); // nothing was created

            Api.Response unknown = admin.get("/admin/v1/keys/key_nope");
            assertError(unknown, 404, "KEY_NOT_FOUND");
            assertThat(unknown.json().get("message").asText()).contains("key_nope");
            assertError(admin.delete("/admin/v1/keys/key_nope"), 404, "KEY_NOT_FOUND");
            assertError(admin.patch("/admin/v1/keys/key_nope", "{\"name\": \"x\"}"), 404, "KEY_NOT_FOUND");

            String id = id(admin.create("{\"name\": \"ok\"}"));
            assertField(admin.post("/admin/v1/keys/" + id + "/rotate", "{\"grace_seconds\": -1}"), "grace_seconds");
            assertField(admin.post("/admin/v1/keys/" + id + "/rotate", "{\"grace_seconds\": 99999999}"), "grace_seconds");
            assertField(admin.post("/admin/v1/keys/" + id + "/rotate", "{\"grace_seconds\": \"1h\"}"), "grace_seconds");
            assertField(admin.patch("/admin/v1/keys/" + id, "{\"limits\": 5}"), "limits");
            admin.delete("/admin/v1/keys/" + id);
            assertError(admin.post("/admin/v1/keys/" + id + "/rotate", "{}"), 409, "KEY_CONFLICT");
            // an edit of a revoked key changes its settings and leaves it revoked
            Api.Response edited = admin.patch("/admin/v1/keys/" + id, "{\"name\": \"still revoked\"}");
            assertThat(edited.json().get("status").asText()).isEqualTo("revoked");
            assertField(admin.get("/admin/v1/usage?granularity=week"), "granularity");
            assertField(admin.get("/admin/v1/usage?from=2026-12-05&to=2026-12-01"), "from");
            assertField(admin.get("/admin/v1/usage?from=yesterday"), "from");
            assertField(admin.get("/admin/v1/usage?from=2026-01-01&to=2026-03-01&granularity=hour"), "to");
            assertError(admin.get("/admin/v1/usage?key=key_nope"), 404, "KEY_NOT_FOUND");
        }
    }

    private static void assertField(Api.Response r, String field) {
        assertError(r, 400, "INVALID_FIELD");
        assertThat(r.json().at("/metadata/field").asText()).isEqualTo(field);
        assertThat(r.json().get("message").asText()).isNotBlank();
    }

    @Test
    void usageCountsWhatEachKeyRanAsJsonAndCsv() {
        ScriptedEngine engine = new ScriptedEngine("gpu").otherwise(call -> call.runSlowly(5));
        try (QwenImageServer server = start(Clock.systemUTC(), List.of(new QwenImageServer.EngineSetup(engine, 1, Duration.ZERO)),
                Map.of())) {
            Admin admin = admin(server);
            Api.Response created = admin.create("{\"name\": \"metered\"}");
            Api metered = new Api(server.localUrl(), secret(created));
            List<String> tasks = List.of(metered.submitOk(TASK), metered.submitOk("{\"prompt\": \"wide\", \"size\": \"1024*512\"}"));
            for (String t : tasks) {
                metered.awaitFinished(t, Duration.ofSeconds(20));
            }
            new Api(server.localUrl(), TestServer.KEY).awaitFinished(new Api(server.localUrl(), TestServer.KEY).submitOk(TASK),
                    Duration.ofSeconds(20));

            Api.Response usage = admin.get("/admin/v1/usage?key=" + id(created));
            assertThat(usage.status()).isEqualTo(200);
            assertThat(usage.json().get("granularity").asText()).isEqualTo("day");
            JsonNode rows = usage.json().get("rows");
            assertThat(rows).hasSize(1);
            JsonNode row = rows.get(0);
            assertThat(row.get("key").asText()).isEqualTo(id(created));
            assertThat(row.get("name").asText()).isEqualTo("metered");
            assertThat(row.get("period").asText()).isEqualTo(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS).toString());
            assertThat(row.get("submitted").asLong()).isEqualTo(2);
            assertThat(row.get("succeeded").asLong()).isEqualTo(2);
            assertThat(row.get("failed").asLong()).isZero();
            assertThat(row.get("images").asLong()).isEqualTo(2);
            assertThat(row.get("megapixels").asDouble()).isEqualTo(0.79); // 512*512 + 1024*512 = 786432 pixels
            assertThat(row.get("engine_seconds").asDouble()).isPositive();

            JsonNode all = admin.get("/admin/v1/usage?granularity=hour").json().get("rows");
            assertThat(all).hasSize(2); // both keys, this hour
            assertThat(all.findValuesAsText("name")).contains("metered", "QWEN_IMAGE_API_KEYS #1");

            Api.Response csv = admin.get("/admin/v1/usage?key=" + id(created) + "&format=csv");
            assertThat(csv.raw().headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
            String[] lines = csv.body().split("\r\n");
            assertThat(lines[0]).isEqualTo("key,name,period,submitted,succeeded,failed,cancelled,images,megapixels,engine_seconds,nsfw_flagged,edit_submitted,edit_succeeded,edit_engine_seconds");
            assertThat(lines[1]).startsWith(id(created) + ",metered," + row.get("period").asText() + ",2,2,0,0,2,0.79,");
        }
    }

    @Test
    void metricsCountEachKeysTasksUnderItsName() {
        try (QwenImageServer server = start(Clock.systemUTC(), List.of(new QwenImageServer.EngineSetup(new ScriptedEngine("gpu"), 1,
                Duration.ZERO)), Map.of())) {
            Api acme = new Api(server.localUrl(), secret(admin(server).create("{\"name\": \"acme\"}")));
            acme.awaitFinished(acme.submitOk(TASK), Duration.ofSeconds(20));
            String first = new String(Api.fetch(server.localUrl() + "/metrics").body());
            assertThat(first).contains("qwen_image_key_tasks_total{event=\"submitted\",key=\"other\",kind=\"txt2img\"} 1.0");
            // the scrape gave the busiest key a label of its own: from now on its tasks count under its name
            acme.awaitFinished(acme.submitOk(TASK), Duration.ofSeconds(20));
            acme.awaitFinished(acme.submitOk(TASK), Duration.ofSeconds(20));
            String later = new String(Api.fetch(server.localUrl() + "/metrics").body());
            assertThat(later).contains("qwen_image_key_tasks_total{event=\"submitted\",key=\"acme\",kind=\"txt2img\"} 2.0")
                    // the first task's success may be counted just after the poll saw it, so after the scrape
                    .containsPattern("qwen_image_key_tasks_total\\{event=\"succeeded\",key=\"acme\",kind=\"txt2img\"} [23]\\.0")
                    .contains("qwen_image_key_tasks_total{event=\"submitted\",key=\"other\",kind=\"txt2img\"} 1.0")
                    .contains("qwen_image_key_engine_seconds_total{key=\"acme\"}");
        }
    }
}
