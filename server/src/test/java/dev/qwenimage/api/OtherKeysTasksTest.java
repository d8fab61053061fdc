package dev.qwenimage.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.support.Api;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Another key's task cannot be told from no task at all: the same 404, and the same work to get
 * there (the owner is part of the look-up, so a foreign task is never answered from the cache
 * that makes the owner's polls fast). The work is observed through the store's read counters in
 * /metrics, not through timing.
 */
class OtherKeysTasksTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of());

    record Reads(double cache, double database) {
        Reads minus(Reads earlier) {
            return new Reads(cache - earlier.cache, database - earlier.database);
        }
    }

    private static Reads reads() {
        String text = new String(Api.fetch(server.api().baseUrl() + "/metrics").body(), StandardCharsets.UTF_8);
        return new Reads(sample(text, "qwen_image_task_reads_total{source=\"cache\""),
                sample(text, "qwen_image_task_reads_total{source=\"database\""));
    }

    private static double sample(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .orElseThrow(() -> new AssertionError("/metrics has no " + prefix));
    }

    private static String finishedTaskOfAlice() {
        Api alice = server.api();
        String id = alice.submitOk("{\"prompt\": \"mine\", \"size\": \"256*256\"}");
        assertThat(alice.awaitFinished(id, Duration.ofSeconds(30)).at("/task/status").asText()).isEqualTo("TASK_STATUS_SUCCEED");
        assertThat(alice.result(id).status()).isEqualTo(200);
        return id;
    }

    @Test
    void anotherKeysTaskAnswersTheSame404AsAnUnknownId() {
        String mine = finishedTaskOfAlice();
        String unknown = UUID.randomUUID().toString();
        Api bob = server.api().withKey(TestServer.OTHER_KEY);
        Api.Response theirs = bob.result(mine);
        Api.Response none = bob.result(unknown);
        assertThat(theirs.status()).isEqualTo(404);
        assertThat(theirs.body().replace(mine, "ID")).isEqualTo(none.body().replace(unknown, "ID"));
    }

    @Test
    void aPollOfAnotherKeysFinishedTaskDoesTheSameReadsAsAPollOfAnUnknownId() {
        String mine = finishedTaskOfAlice();
        Api bob = server.api().withKey(TestServer.OTHER_KEY);

        Reads start = reads();
        assertThat(server.api().result(mine).status()).isEqualTo(200);
        Reads afterOwner = reads();
        assertThat(bob.result(mine).status()).isEqualTo(404);
        Reads afterForeign = reads();
        assertThat(bob.result(UUID.randomUUID().toString()).status()).isEqualTo(404);
        Reads afterUnknown = reads();

        assertThat(afterOwner.minus(start)).as("the owner's poll of a finished task comes from the cache").isEqualTo(new Reads(1, 0));
        assertThat(afterForeign.minus(afterOwner)).as("another key's task: one database read").isEqualTo(new Reads(0, 1));
        assertThat(afterUnknown.minus(afterForeign)).as("an unknown id: one database read").isEqualTo(new Reads(0, 1));
    }

    @Test
    void cancellingAnotherKeysTaskDoesTheSameReadsAsCancellingAnUnknownId() {
        String mine = finishedTaskOfAlice();
        Reads start = reads();
        assertThat(cancel(TestServer.OTHER_KEY, mine).statusCode()).isEqualTo(404);
        Reads afterForeign = reads();
        assertThat(cancel(TestServer.OTHER_KEY, UUID.randomUUID().toString()).statusCode()).isEqualTo(404);
        Reads afterUnknown = reads();
        assertThat(afterForeign.minus(start)).isEqualTo(afterUnknown.minus(afterForeign)).isEqualTo(new Reads(0, 1));
    }

    private static java.net.http.HttpResponse<byte[]> cancel(String key, String taskId) {
        return server.api().send(HttpRequest.newBuilder(URI.create(server.api().baseUrl() + "/v3/async/task-cancel"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"task_id\": \"" + taskId + "\"}"))).raw();
    }
}
