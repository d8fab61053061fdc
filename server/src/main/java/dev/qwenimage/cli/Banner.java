package dev.qwenimage.cli;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.config.Redaction;
import dev.qwenimage.config.Role;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.task.LaneReport;
import java.io.PrintStream;
import java.util.List;

/** The one start-up banner: where to reach the service, which engines run, which key to use, where data lives. */
final class Banner {
    private Banner() {
    }

    static void print(PrintStream out, QwenImageServer server) {
        ServerConfig c = server.config();
        String url = server.localUrl();
        String key = server.apiKeys().flatMap(ApiKeys::generatedKey).orElse(null);
        StringBuilder b = new StringBuilder();
        b.append('\n');
        b.append("  qwen-image-server ").append(Main.version()).append(" is ready")
                .append(c.role() == Role.ALL ? "" : " (role: " + c.role() + ")").append('\n');
        b.append("  listening  ").append(url).append(ServerConfig.isAllInterfaces(c.host()) ? "  (all interfaces)" : "")
                .append(c.role() == Role.WORKER ? "  (/healthz only)" : "").append('\n');
        c.publicUrl().ifPresent(p -> b.append("  links      ").append(Redaction.text(p)).append('\n'));

        List<LaneReport> lanes = c.role() == Role.API ? server.fleet().lanes() : server.fleet().localLanes();
        boolean previewOnly = !lanes.isEmpty();
        String label = c.role() == Role.API ? "  fleet      " : "  engines    ";
        if (lanes.isEmpty()) {
            b.append(label).append(c.role() == Role.API ? "no worker node has reported yet" : "none").append('\n');
        }
        for (int i = 0; i < lanes.size(); i++) {
            LaneReport lane = lanes.get(i);
            b.append(i == 0 ? label : "             ").append(lane.engine())
                    .append(c.role() == Role.API ? " on " + lane.workerId() : "").append(": ").append(lane.description())
                    .append(" [").append(lane.slots()).append(" slot(s), ").append(lane.state())
                    .append(lane.lastError().isEmpty() ? "" : ": " + lane.lastError()).append("]\n");
            previewOnly &= lane.description().startsWith("preview");
        }
        if (previewOnly) {
            b.append("             The preview engine runs NO model. To generate real Qwen-Image pictures,\n");
            b.append("             connect a GPU engine: see README.md, \"Connect a GPU engine\".\n");
        }
        server.apiKeys().ifPresent(keys -> b.append("  API key    ").append(key != null
                ? key + "   (generated; kept in " + keys.generatedKeyFile().map(Object::toString).orElse("") + ")"
                : keys.count() + " key(s) from QWEN_IMAGE_API_KEYS").append('\n'));
        long managed = server.keys().all().stream().filter(k -> !k.bootstrap() && k.revokedAt().isEmpty()).count();
        if (managed > 0) {
            b.append("             and ").append(managed).append(" managed key(s) (qwen-image keys list)\n");
        }
        server.adminToken().ifPresent(admin -> b.append("  admin      ").append(admin.generatedToken()
                .map(t -> t + "   (generated; kept in " + admin.generatedFile().map(Object::toString).orElse("") + ")")
                .orElse("token from QWEN_IMAGE_ADMIN_TOKEN")).append("\n             ").append(url)
                .append("/admin (keys, limits, usage); qwen-image keys --help\n"));
        server.jpegEncoder().ifPresent(jpeg -> b.append("  jpeg       ").append(jpeg.describe()).append('\n'));
        b.append("  store      ").append(c.database()).append('\n');
        b.append("  data       ").append(c.dataDir()).append('\n');
        b.append("  images     ").append(c.s3().map(ServerConfig.S3Settings::describe)
                .orElse(c.dataDir().resolve("images") + " (local disk, served at /files)")).append('\n');
        if (server.recovered().total() > 0) {
            b.append("  recovered  ").append(server.recovered().requeued()).append(" interrupted task(s) re-queued, ")
                    .append(server.recovered().failed()).append(" failed (no attempts left)\n");
        }
        b.append('\n');
        if (c.role().servesApi()) {
            b.append("  Try it:\n");
            b.append("    in a browser: ").append(url).append("/   (the playground; it asks for the API key above)\n");
            b.append("    with curl:\n");
            b.append("    curl -s ").append(url).append("/v3/async/qwen-image-txt2img \\\n");
            b.append("      -H 'Authorization: Bearer ").append(key != null ? key : "<your key>").append("' \\\n");
            b.append("      -H 'Content-Type: application/json' \\\n");
            b.append("      -d '{\"prompt\": \"a red fox reading a book\", \"size\": \"1024*1024\", \"watermark\": false}'\n");
            b.append("    curl -s '").append(url).append("/v3/async/task-result?task_id=<task_id>' -H 'Authorization: Bearer ")
                    .append(key != null ? key : "<your key>").append("'\n");
        } else {
            b.append("  Worker ready: it takes tasks from the shared queue.\n");
        }
        out.print(b);
        out.flush();
    }
}
