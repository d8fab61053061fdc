package dev.qwenimage.cli;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.Setting;
import dev.qwenimage.ops.Logging;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qwen-image serve}: starts the service and prints the banner. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the service (API, workers and engine in one process, on the embedded store).")
final class ServeCommand implements Runnable {

    @Option(names = {"-p", "--port"}, description = "Port to listen on (overrides QWEN_IMAGE_PORT).")
    Integer port;

    @Option(names = {"-r", "--role"}, description = "all, api or worker (overrides QWEN_IMAGE_ROLE).")
    String role;

    @Option(names = {"-c", "--config"}, description = "Properties file with QWEN_IMAGE_* settings (overrides QWEN_IMAGE_CONFIG).")
    String configFile;

    @Option(names = {"-s", "--set"}, description = "Set a setting, e.g. --set QWEN_IMAGE_WORKERS=4 (repeatable).")
    Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public void run() {
        Map<String, String> overrides = new HashMap<>(settings);
        if (port != null) {
            overrides.put(Setting.PORT.env(), port.toString());
        }
        if (role != null) {
            overrides.put(Setting.ROLE.env(), role);
        }
        if (configFile != null) {
            overrides.put(Setting.CONFIG.env(), configFile);
        }
        ServerConfig config = ServerConfig.load(System.getenv(), overrides);
        Logging.configure(config.logLevel(), config.logFormat());

        QwenImageServer server = QwenImageServer.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        Banner.print(System.out, server);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
