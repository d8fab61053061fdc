package dev.qwenimage.cli;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.config.Durations;
import dev.qwenimage.config.Setting;
import dev.qwenimage.config.SettingNames;
import dev.qwenimage.ops.Logging;
import dev.qwenimage.worker.WorkerPool;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qwen-image serve}: starts the service and prints the banner. A start that fails says why
 * in one line on stderr (the stack trace only with {@code --debug}) and exits non-zero.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Start the service: the HTTP API, the workers with their engines, or both (QWEN_IMAGE_ROLE: "
                + "all, api or worker), on the embedded SQLite store or on PostgreSQL (QWEN_IMAGE_DB_URL)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped by Ctrl-C or SIGTERM",
                "1:the service could not start: the message says why and which setting to check",
                "2:a setting or option has a value the service refuses"})
final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "Port to listen on (overrides QWEN_IMAGE_PORT).")
    Integer port;

    @Option(names = {"-r", "--role"}, paramLabel = "ROLE", description = "all, api or worker (overrides QWEN_IMAGE_ROLE).")
    String role;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Properties file with QWEN_IMAGE_* settings (overrides QWEN_IMAGE_CONFIG).")
    String configFile;

    @Option(names = {"-s", "--set"}, paramLabel = "NAME=VALUE",
            description = "Set a setting, e.g. --set QWEN_IMAGE_WORKERS=4 (repeatable).")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--debug",
            description = "When the start fails, print the stack trace and the libraries' own reports too.")
    boolean debug;

    private final Map<String, String> env;

    ServeCommand() {
        this(System.getenv());
    }

    ServeCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public Integer call() {
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
        ServerConfig config;
        try {
            config = ServerConfig.load(env, overrides);
        } catch (ConfigException e) {
            return failed(new StartupFailure(e.getMessage(), StartupFailure.CONFIGURATION), e);
        }
        Logging.configure(config.logLevel(), config.logFormat());
        SettingNames.unknownVariables(env).forEach(log::warn);
        Map<String, String> given = new HashMap<>(env);
        given.putAll(overrides);
        SettingNames.deprecatedVariables(given).forEach(log::warn);

        QwenImageServer server;
        try (Logging.Scope quiet = debug ? () -> {
        } : Logging.withoutLibraryTraces()) {
            server = QwenImageServer.start(config);
        } catch (RuntimeException | Error e) {
            return failed(StartupFailure.explain(e, config), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop(server);
            stopped.countDown();
            // A JVM stopped by SIGTERM exits 143 (128 + 15) by default. This stop was graceful, nothing
            // was lost, so the process says so with 0, as orchestrators (and `docker stop`) expect; the
            // only way to start a shutdown here is a signal (serve never calls System.exit itself).
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }, "shutdown"));
        Banner.print(System.out, server);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * A graceful stop (SIGTERM, Ctrl-C): says it is stopping, drains (see {@link QwenImageServer#drain}),
     * says what became of the running tasks; the process then exits 0.
     */
    private static void stop(QwenImageServer server) {
        int running = server.workers().map(WorkerPool::running).orElse(0);
        log.info("stopping: /readyz answers 503, no new task is taken{}", running == 0 ? ""
                : "; " + running + " running task(s) get up to " + Durations.human(server.config().drainTimeout())
                + " to finish, then go back to the queue");
        QwenImageServer.Drained d = server.drain();
        log.info("stopped in {} ms; {} running task(s) finished here, {} handed back to the queue{}", d.took().toMillis(),
                d.finishedHere(), d.handedBack(),
                d.webhooksLeft() == 0 ? "" : "; " + d.webhooksLeft() + " webhook(s) being sent were left to the outbox (sent again by an api node)");
    }

    private int failed(StartupFailure failure, Throwable cause) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("qwen-image: " + failure.message().strip().replaceAll("\\s*\\R\\s*", " "));
        if (debug) {
            cause.printStackTrace(err);
        }
        err.flush();
        return failure.exitCode();
    }
}
