package dev.qwenimage.cli;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.auth.ApiKeys;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.preview.PreviewEngine;
import dev.qwenimage.worker.EngineGuard;
import dev.qwenimage.worker.WorkerPool;
import java.io.PrintStream;

/** The one start-up banner: where to reach the service, which engine runs, which key to use, where data lives. */
final class Banner {
    private Banner() {
    }

    static void print(PrintStream out, QwenImageServer server) {
        ServerConfig c = server.config();
        ApiKeys keys = server.apiKeys();
        String url = server.localUrl();
        String key = keys.generatedKey().orElse(null);
        String keyLine = key != null
                ? key + "   (generated; kept in " + keys.generatedKeyFile().map(Object::toString).orElse("") + ")"
                : keys.count() + " key(s) from QWEN_IMAGE_API_KEYS";
        StringBuilder b = new StringBuilder();
        b.append('\n');
        b.append("  qwen-image-server ").append(Main.version()).append(" is ready\n");
        b.append("  listening  ").append(url).append(c.host().equals("0.0.0.0") ? "  (all interfaces)" : "").append('\n');
        c.publicUrl().ifPresent(p -> b.append("  links      ").append(p).append('\n'));
        boolean previewOnly = true;
        for (WorkerPool.Lane lane : server.workers().lanes()) {
            EngineGuard.Status st = lane.guard().status();
            b.append(lane == server.workers().lanes().getFirst() ? "  engines    " : "             ")
                    .append(lane.engineName()).append(": ").append(lane.guard().engine().describe())
                    .append(" [").append(lane.slots()).append(" slot(s), ").append(st.state().name().toLowerCase(java.util.Locale.ROOT))
                    .append(st.lastError().isEmpty() ? "" : ": " + st.lastError()).append("]\n");
            previewOnly &= lane.guard().engine() instanceof PreviewEngine;
        }
        if (previewOnly) {
            b.append("             The preview engine runs NO model. To generate real Qwen-Image pictures,\n");
            b.append("             connect a GPU engine: see README.md, \"Connect a GPU engine\".\n");
        }
        b.append("  API key    ").append(keyLine).append('\n');
        b.append("  data       ").append(c.dataDir()).append('\n');
        b.append("  images     ").append(c.s3().map(ServerConfig.S3Settings::describe)
                .orElse(c.dataDir().resolve("images") + " (local disk, served at /files)")).append('\n');
        if (server.recovered().total() > 0) {
            b.append("  recovered  ").append(server.recovered().requeued()).append(" interrupted task(s) re-queued, ")
                    .append(server.recovered().failed()).append(" failed (no attempts left)\n");
        }
        b.append('\n');
        b.append("  Try it:\n");
        b.append("    curl -s ").append(url).append("/v3/async/qwen-image-txt2img \\\n");
        b.append("      -H 'Authorization: Bearer ").append(key != null ? key : "<your key>").append("' \\\n");
        b.append("      -H 'Content-Type: application/json' \\\n");
        b.append("      -d '{\"prompt\": \"a red fox reading a book\", \"size\": \"1024*1024\", \"watermark\": false}'\n");
        b.append("    curl -s '").append(url).append("/v3/async/task-result?task_id=<task_id>' -H 'Authorization: Bearer ")
                .append(key != null ? key : "<your key>").append("'\n");
        out.print(b);
        out.flush();
    }
}
