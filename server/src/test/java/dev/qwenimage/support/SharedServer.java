package dev.qwenimage.support;

import dev.qwenimage.outbound.Resolver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real server shared by the tests of a class: started before the first, in a data directory
 * of its own, stopped (and its directory removed) after the last.
 * {@code @RegisterExtension static final SharedServer server = new SharedServer(Map.of());}
 */
public final class SharedServer implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> settings;
    private final Resolver dns;
    private Path dataDir;
    private TestServer server;

    public SharedServer(Map<String, String> settings) {
        this(settings, Resolver.SYSTEM);
    }

    /** With {@code dns} as the name resolution of the server's outbound calls (webhooks, input images). */
    public SharedServer(Map<String, String> settings, Resolver dns) {
        this.settings = settings;
        this.dns = dns;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dataDir = Files.createTempDirectory("qwen-image-test-");
        server = TestServer.start(dataDir, settings, java.time.Clock.systemUTC(), dns);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        server.close();
        try (Stream<Path> paths = Files.walk(dataDir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A client with {@link TestServer#KEY}. */
    public Api api() {
        return server.api();
    }

    public TestServer server() {
        return server;
    }
}
