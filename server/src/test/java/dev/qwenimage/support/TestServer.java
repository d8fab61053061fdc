package dev.qwenimage.support;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.outbound.Resolver;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/** Starts the real service in-process on a random loopback port with its own data directory. */
public final class TestServer implements AutoCloseable {
    public static final String KEY = "test-key-alice-0123456789";
    public static final String OTHER_KEY = "test-key-bob-9876543210";

    private final QwenImageServer server;

    private TestServer(QwenImageServer server) {
        this.server = server;
    }

    public static TestServer start(Path dataDir, Map<String, String> settings) {
        return start(dataDir, settings, Clock.systemUTC());
    }

    public static TestServer start(Path dataDir, Map<String, String> settings, Clock clock) {
        return start(dataDir, settings, clock, Resolver.SYSTEM);
    }

    /** With {@code dns} as the name resolution of the service's outbound calls (webhooks, input images). */
    public static TestServer start(Path dataDir, Map<String, String> settings, Clock clock, Resolver dns) {
        Map<String, String> values = new HashMap<>();
        values.put("QWEN_IMAGE_PORT", "0");
        values.put("QWEN_IMAGE_HOST", "127.0.0.1");
        values.put("QWEN_IMAGE_DATA_DIR", dataDir.toString());
        values.put("QWEN_IMAGE_API_KEYS", KEY + "," + OTHER_KEY);
        values.put("QWEN_IMAGE_WORKERS", "2");
        values.putAll(settings);
        return new TestServer(QwenImageServer.start(ServerConfig.of(values), clock, dns));
    }

    public Api api() {
        return new Api(server.localUrl(), KEY);
    }

    /** The admin API with this server's admin token (generated into its data directory unless set). */
    public Admin admin() {
        return new Admin(server.localUrl(), server.config().adminToken().isEmpty()
                ? server.adminToken().orElseThrow().generatedToken().orElseThrow() : server.config().adminToken());
    }

    public QwenImageServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }
}
